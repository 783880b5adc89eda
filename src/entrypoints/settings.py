"""Typed settings read from the environment, validated at start with one message per bad value.

The seed backend's names are kept (``DATABASE_URL``, ``LIVEKIT_*``, ``EXPO_PUSH_ACCESS_TOKEN``,
``PAYSTACK_SECRET_KEY``, ``POSTHOG_API_KEY``); Chorus's own settings are ``CHORUS_*``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

DEV_JWT_SECRET = "chorus-dev-only-secret-do-not-use-in-production-0000"  # noqa: S105
DEV_JWT_ISSUER = "chorus-dev"
DEV_LIVEKIT = ("devkey", "secret", "ws://localhost:7880")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Secret:
    """A string that never shows itself in reprs, logs or error messages."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SettingsError(Exception):
    """Every bad value found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = Environment.PRODUCTION
    database_url: Secret | None = None
    data_dir: Path = Path(".chorus")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    log_level: str = "INFO"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    supabase_jwt_secret: Secret | None = None
    supabase_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str = "authenticated"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    write_rate_limit_per_minute: int = 120
    redis_url: Secret | None = None
    livekit_url: str | None = None
    livekit_api_key: str | None = None
    livekit_api_secret: Secret | None = None
    expo_push_access_token: Secret | None = None
    paystack_secret_key: Secret | None = None
    posthog_api_key: Secret | None = None
    posthog_host: str = "https://us.i.posthog.com"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_development(self) -> bool:
        return self.environment is not Environment.PRODUCTION

    @property
    def dev_auth_enabled(self) -> bool:
        """Dev tokens (``chorus token``) work only outside production with the dev secret."""
        return (
            self.is_development
            and self.supabase_jwt_secret is not None
            and self.supabase_jwt_secret.reveal() == DEV_JWT_SECRET
        )

    @property
    def jwks_url(self) -> str | None:
        if not self.supabase_url:
            return None
        return f"{self.supabase_url.rstrip('/')}/auth/v1/.well-known/jwks.json"

    @property
    def expected_issuer(self) -> str | None:
        if self.jwt_issuer:
            return self.jwt_issuer
        if self.supabase_url:
            return f"{self.supabase_url.rstrip('/')}/auth/v1"
        return None


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.environ.get(name, "").strip()
        return value or default

    def secret(self, name: str) -> Secret | None:
        value = self.text(name)
        return Secret(value) if value else None

    def parsed(self, name: str, parse: Callable[[str], T], default: T, hint: str) -> T:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except ValueError:
            self.problems.append(f"{name}: {hint} (got {raw!r})")
            return default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        def parse(raw: str) -> int:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
            return value

        return self.parsed(name, parse, default, f"must be a whole number from {low} to {high}")

    def url(self, name: str, schemes: tuple[str, ...], *, secret: bool = False) -> str | None:
        raw = self.text(name)
        if raw is None:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not (parts.netloc or parts.query):
            shown = "(hidden)" if secret else repr(raw)
            self.problems.append(f"{name}: must be a {'/'.join(schemes)} URL (got {shown})")
            return None
        return raw


def load_settings(
    environ: Mapping[str, str] | None = None, *, environment: Environment | None = None
) -> Settings:
    """Read and validate settings; raise ``SettingsError`` listing every bad value."""
    env = _Reader(os.environ if environ is None else environ)
    chosen = environment or env.parsed(
        "CHORUS_ENV",
        Environment,
        Environment.PRODUCTION,
        "must be one of development, test, production",
    )
    database_url = env.url(
        "DATABASE_URL", ("postgres", "postgresql", "postgresql+asyncpg"), secret=True
    )
    jwt_secret = env.secret("SUPABASE_JWT_SECRET")
    livekit = (env.text("LIVEKIT_API_KEY"), env.secret("LIVEKIT_API_SECRET"))
    livekit_url = env.url("LIVEKIT_URL", ("ws", "wss", "http", "https"))
    if chosen is not Environment.PRODUCTION:
        jwt_secret = jwt_secret or Secret(DEV_JWT_SECRET)
        if livekit == (None, None) and livekit_url is None:
            livekit = (DEV_LIVEKIT[0], Secret(DEV_LIVEKIT[1]))
            livekit_url = DEV_LIVEKIT[2]
    elif jwt_secret is not None and jwt_secret.reveal() == DEV_JWT_SECRET:
        env.problems.append("SUPABASE_JWT_SECRET: the development secret is refused in production")
    if jwt_secret is not None and len(jwt_secret.reveal()) < 32:
        env.problems.append("SUPABASE_JWT_SECRET: must be at least 32 characters")
    log_level = (env.text("CHORUS_LOG_LEVEL", "INFO") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        env.problems.append(
            f"CHORUS_LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR (got {log_level!r})"
        )
        log_level = "INFO"
    origins = tuple(
        o.strip() for o in (env.text("CHORUS_CORS_ORIGINS") or "").split(",") if o.strip()
    )
    for origin in origins:
        if origin != "*" and urlsplit(origin).scheme not in {"http", "https"}:
            env.problems.append(f"CHORUS_CORS_ORIGINS: {origin!r} is not an http(s) origin")
    settings = Settings(
        environment=chosen,
        database_url=Secret(database_url) if database_url else None,
        data_dir=Path(env.text("CHORUS_DATA_DIR", ".chorus") or ".chorus"),
        host=env.text("CHORUS_HOST", "127.0.0.1") or "127.0.0.1",
        port=env.integer("CHORUS_PORT", 8000, 1, 65535),
        workers=env.integer("CHORUS_WORKERS", max(2, os.cpu_count() or 2), 1, 64),
        log_level=log_level,
        db_pool_size=env.integer("CHORUS_DB_POOL_SIZE", 10, 1, 200),
        db_max_overflow=env.integer("CHORUS_DB_MAX_OVERFLOW", 10, 0, 200),
        supabase_jwt_secret=jwt_secret,
        supabase_url=env.url("SUPABASE_URL", ("https", "http")),
        jwt_issuer=env.text("CHORUS_JWT_ISSUER")
        or (
            DEV_JWT_ISSUER
            if chosen is not Environment.PRODUCTION and env.text("SUPABASE_JWT_SECRET") is None
            else None
        ),
        jwt_audience=env.text("CHORUS_JWT_AUDIENCE", "authenticated") or "authenticated",
        cors_origins=origins,
        max_body_bytes=env.integer("CHORUS_MAX_BODY_BYTES", 1_048_576, 1024, 50_000_000),
        write_rate_limit_per_minute=env.integer(
            "CHORUS_WRITE_RATE_LIMIT_PER_MINUTE", 120, 1, 100_000
        ),
        redis_url=Secret(url)
        if (url := env.url("REDIS_URL", ("redis", "rediss"), secret=True))
        else None,
        livekit_url=livekit_url,
        livekit_api_key=livekit[0],
        livekit_api_secret=livekit[1],
        expo_push_access_token=env.secret("EXPO_PUSH_ACCESS_TOKEN"),
        paystack_secret_key=env.secret("PAYSTACK_SECRET_KEY"),
        posthog_api_key=env.secret("POSTHOG_API_KEY"),
        posthog_host=env.url("POSTHOG_HOST", ("https", "http")) or "https://us.i.posthog.com",
    )
    if (
        chosen is Environment.PRODUCTION
        and settings.supabase_jwt_secret is None
        and settings.supabase_url is None
    ):
        env.problems.append(
            "SUPABASE_JWT_SECRET or SUPABASE_URL: one is required in production to verify callers"
        )
    if env.problems:
        raise SettingsError(env.problems)
    return settings
