"""Typed settings read from the environment, validated at start with one message per bad value.

The seed backend's names are kept (``DATABASE_URL``, ``LIVEKIT_*``, ``EXPO_PUSH_ACCESS_TOKEN``,
``PAYSTACK_SECRET_KEY``, ``POSTHOG_API_KEY``), Stripe's usual ones (``STRIPE_SECRET_KEY``,
``STRIPE_WEBHOOK_SECRET``); Chorus's own settings are ``CHORUS_*``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from core.domain.fraud import (
    DEFAULT_DAILY_EARNINGS_CAPS,
    DEFAULT_UPLOADS_PER_HOUR,
    DEFAULT_VOTES_PER_HOUR,
)
from core.domain.moderation import DEFAULT_FLAG_THRESHOLD
from core.domain.money import CURRENCY_EXPONENTS

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
class WorkerSettings:
    """``chorus worker`` (``CHORUS_WORKER_*``); see docs/worker.md."""

    concurrency: int = 10
    batch_size: int = 100
    poll_seconds: float = 1.0
    lease_seconds: float = 300.0
    max_attempts: int = 10
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 900.0
    shutdown_seconds: float = 30.0
    metrics_port: int = 0
    receipt_delay_seconds: float = 900.0
    receipt_interval_seconds: float = 60.0
    retention_days: int = 7


@dataclass(frozen=True, slots=True)
class PayoutSettings:
    """Payouts (``PAYSTACK_SECRET_KEY``, ``STRIPE_*``, ``CHORUS_PAYOUT_*``); docs/payouts.md."""

    provider: str = "paystack"  # or "sandbox" (never in production)
    paystack_api_base: str = "https://api.paystack.co"
    stripe_secret_key: Secret | None = None
    stripe_webhook_secret: Secret | None = None
    stripe_api_base: str = "https://api.stripe.com"
    minimums: Mapping[str, int] = field(default_factory=dict)
    daily_caps: Mapping[str, int] = field(default_factory=dict)
    reconcile_after_minutes: int = 10
    reconcile_interval_seconds: float = 300.0
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The HTTP server's limits per process (``CHORUS_HTTP_*``); see docs/operations.md."""

    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 15.0
    keep_alive_seconds: int = 5
    max_header_bytes: int = 16_384
    max_headers: int = 100
    max_connections: int = 1000


@dataclass(frozen=True, slots=True)
class ModerationSettings:
    """Moderation, screening and fraud defences (``CHORUS_MODERATION_*``,
    ``CHORUS_SCREENING_*``, ``CHORUS_FRAUD_*``, ``CHORUS_DAILY_EARNINGS_CAP_MINOR``);
    docs/moderation.md."""

    flag_threshold: int = DEFAULT_FLAG_THRESHOLD
    screening_url: str | None = None
    screening_api_key: Secret | None = None
    screening_model: str | None = None
    screening_timeout_seconds: float = 2.0
    blocklist_file: Path | None = None
    daily_earnings_caps: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_DAILY_EARNINGS_CAPS)
    )
    uploads_per_hour: int = DEFAULT_UPLOADS_PER_HOUR
    votes_per_hour: int = DEFAULT_VOTES_PER_HOUR
    burst_scan_minutes: int = 5


BLOB_STORES = ("local", "s3")
S3_ADDRESSING_STYLES = ("auto", "path", "virtual")


@dataclass(frozen=True, slots=True)
class BlobSettings:
    """Where uploaded audio is kept (``CHORUS_BLOB_STORE``, ``CHORUS_S3_*``); see
    docs/operations.md. ``local`` files live under ``Settings.blob_root``."""

    store: str = "local"  # or "s3"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_access_key_id: Secret | None = None
    s3_secret_access_key: Secret | None = None
    s3_addressing_style: str = "auto"
    s3_presign_seconds: int = 300


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment = Environment.PRODUCTION
    database_url: Secret | None = None
    data_dir: Path = Path(".chorus")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    log_level: str = "INFO"
    db_pool_size: int = 20
    db_max_overflow: int = 10
    supabase_jwt_secret: Secret | None = None
    supabase_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str = "authenticated"
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576
    write_rate_limit_per_minute: int = 120
    redis_url: Secret | None = None
    metrics_token: Secret | None = None
    docs_enabled: bool = True
    livekit_url: str | None = None
    livekit_public_url: str | None = None  # handed to phones; None: livekit_url
    livekit_api_key: str | None = None
    livekit_api_secret: Secret | None = None
    expo_push_access_token: Secret | None = None
    paystack_secret_key: Secret | None = None
    posthog_api_key: Secret | None = None
    posthog_host: str = "https://us.i.posthog.com"
    blob_dir: Path | None = None
    livekit_token_ttl_minutes: int = 360
    livekit_empty_timeout_seconds: int = 300
    livekit_max_participants: int = 0
    consensus_policy: str = "dawid_skene"
    consensus_accept_threshold: float = 0.85
    consensus_reject_threshold: float = 0.15
    consensus_dispute_band: float = 0.0
    consensus_established_gold_answers: int = 3
    consensus_refit_minutes: int = 60
    vote_cap: int = 5
    gold_rate: float = 0.1
    newcomer_gold_rate: float = 0.3
    newcomer_gold_answers: int = 5
    gold_only_below_informedness: float = 0.2
    min_listen_fraction: float = 0.8
    probation_floor: float = 0.7
    probation_min_gold_answers: int = 5
    reward_currency: str = "NGN"
    reward_holding_hours: int = 72
    expo_push_url: str = "https://exp.host"
    push_sender: str = "expo"  # or "sandbox": log what would be sent (never in production)
    sync_reservation_hours: int = 24
    sync_max_reserved_clips: int = 200
    sync_op_retention_days: int = 30
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    payouts: PayoutSettings = field(default_factory=PayoutSettings)
    http: HttpLimits = field(default_factory=HttpLimits)
    moderation: ModerationSettings = field(default_factory=ModerationSettings)
    blobs: BlobSettings = field(default_factory=BlobSettings)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def blob_root(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"

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


_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


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

    def number(self, name: str, default: float, low: float, high: float) -> float:
        def parse(raw: str) -> float:
            value = float(raw)
            if not low <= value <= high:
                raise ValueError
            return value

        return self.parsed(name, parse, default, f"must be a number from {low:g} to {high:g}")

    def boolean(self, name: str, default: bool) -> bool:
        def parse(raw: str) -> bool:
            lowered = raw.lower()
            if lowered not in _BOOLEANS:
                raise ValueError
            return _BOOLEANS[lowered]

        return self.parsed(name, parse, default, "must be true or false")

    def fraction(self, name: str, default: float) -> float:
        def parse(raw: str) -> float:
            value = float(raw)
            if not 0.0 <= value < 1.0:
                raise ValueError
            return value

        return self.parsed(name, parse, default, "must be a number from 0 to below 1")

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


def _reward_currency(raw: str) -> str:
    # Decisions pay in this one currency (rates in others are not used); members whose
    # payout currency differs are converted at payout time.
    currency = raw.upper()
    if currency not in CURRENCY_EXPONENTS:
        raise ValueError
    return currency


POLICY_NAMES = ("dawid_skene", "majority", "weighted")


def _policy_name(raw: str) -> str:
    if raw not in POLICY_NAMES:
        raise ValueError
    return raw


def _worker_settings(env: _Reader) -> WorkerSettings:
    base = env.number("CHORUS_WORKER_BACKOFF_BASE_SECONDS", 2.0, 0.001, 3600)
    cap = env.number("CHORUS_WORKER_BACKOFF_CAP_SECONDS", 900.0, 0.001, 86_400)
    if cap < base:
        env.problems.append(
            "CHORUS_WORKER_BACKOFF_CAP_SECONDS: "
            "must not be below CHORUS_WORKER_BACKOFF_BASE_SECONDS"
        )
        cap = base
    return WorkerSettings(
        concurrency=env.integer("CHORUS_WORKER_CONCURRENCY", 10, 1, 200),
        batch_size=env.integer("CHORUS_WORKER_BATCH_SIZE", 100, 1, 1000),
        poll_seconds=env.number("CHORUS_WORKER_POLL_SECONDS", 1.0, 0.01, 60),
        lease_seconds=env.number("CHORUS_WORKER_LEASE_SECONDS", 300.0, 1, 86_400),
        max_attempts=env.integer("CHORUS_WORKER_MAX_ATTEMPTS", 10, 1, 100),
        backoff_base_seconds=base,
        backoff_cap_seconds=cap,
        shutdown_seconds=env.number("CHORUS_WORKER_SHUTDOWN_SECONDS", 30.0, 0, 3600),
        metrics_port=env.integer("CHORUS_WORKER_METRICS_PORT", 0, 0, 65535),
        receipt_delay_seconds=env.number("CHORUS_WORKER_RECEIPT_DELAY_SECONDS", 900.0, 0, 86_400),
        receipt_interval_seconds=env.number(
            "CHORUS_WORKER_RECEIPT_INTERVAL_SECONDS", 60.0, 0.1, 86_400
        ),
        retention_days=env.integer("CHORUS_WORKER_RETENTION_DAYS", 7, 1, 3650),
    )


def _amounts_per_currency(raw: str) -> dict[str, int]:
    """``NGN:50000,GHS:1000`` → ``{"NGN": 50000, "GHS": 1000}`` (minor units)."""
    amounts: dict[str, int] = {}
    for item in raw.split(","):
        currency, _, minor = item.strip().partition(":")
        currency = currency.strip().upper()
        if currency not in CURRENCY_EXPONENTS or not minor.strip().isdigit():
            raise ValueError
        amounts[currency] = int(minor)
        if amounts[currency] <= 0:
            raise ValueError
    return amounts


def _payout_settings(env: _Reader, chosen: Environment, paystack: Secret | None) -> PayoutSettings:
    default = "sandbox" if chosen is not Environment.PRODUCTION and paystack is None else "paystack"
    provider = (env.text("CHORUS_PAYOUT_PROVIDER", default) or default).lower()
    if provider not in {"paystack", "sandbox"}:
        env.problems.append(
            f"CHORUS_PAYOUT_PROVIDER: must be paystack or sandbox (got {provider!r})"
        )
        provider = default
    if provider == "sandbox" and chosen is Environment.PRODUCTION:
        env.problems.append(
            "CHORUS_PAYOUT_PROVIDER: the sandbox payout gateway is refused in production"
        )
    hint = "must look like NGN:50000,GHS:1000 (positive minor units, known currencies)"
    return PayoutSettings(
        provider=provider,
        paystack_api_base=env.url("CHORUS_PAYSTACK_API_BASE", ("https", "http"))
        or "https://api.paystack.co",
        stripe_secret_key=env.secret("STRIPE_SECRET_KEY"),
        stripe_webhook_secret=env.secret("STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=env.url("CHORUS_STRIPE_API_BASE", ("https", "http"))
        or "https://api.stripe.com",
        minimums=env.parsed("CHORUS_PAYOUT_MINIMUM_MINOR", _amounts_per_currency, {}, hint),
        daily_caps=env.parsed("CHORUS_PAYOUT_DAILY_CAP_MINOR", _amounts_per_currency, {}, hint),
        reconcile_after_minutes=env.integer("CHORUS_PAYOUT_RECONCILE_AFTER_MINUTES", 10, 0, 1440),
        reconcile_interval_seconds=env.number(
            "CHORUS_PAYOUT_RECONCILE_INTERVAL_SECONDS", 300.0, 0.1, 86_400
        ),
        timeout_seconds=env.number("CHORUS_PAYOUT_TIMEOUT_SECONDS", 30.0, 0.1, 300),
    )


PUSH_SENDERS = ("expo", "sandbox")


def _push_sender(env: _Reader, chosen: Environment) -> str:
    """``CHORUS_PUSH_SENDER``. Outside production with neither ``EXPO_PUSH_ACCESS_TOKEN``
    nor ``CHORUS_EXPO_PUSH_URL`` the default is ``sandbox`` (pushes are logged, not sent);
    production always sends through Expo and refuses ``sandbox``."""
    configured = env.text("EXPO_PUSH_ACCESS_TOKEN") or env.text("CHORUS_EXPO_PUSH_URL")
    default = "expo" if chosen is Environment.PRODUCTION or configured else "sandbox"
    sender = (env.text("CHORUS_PUSH_SENDER", default) or default).lower()
    if sender not in PUSH_SENDERS:
        env.problems.append(f"CHORUS_PUSH_SENDER: must be expo or sandbox (got {sender!r})")
        return default
    if sender == "sandbox" and chosen is Environment.PRODUCTION:
        env.problems.append(
            "CHORUS_PUSH_SENDER: the sandbox push sender (pushes logged, never sent) is "
            "refused in production"
        )
    return sender


def _http_limits(env: _Reader) -> HttpLimits:
    return HttpLimits(
        header_timeout_seconds=env.number("CHORUS_HTTP_HEADER_TIMEOUT_SECONDS", 10.0, 0.1, 300),
        body_timeout_seconds=env.number("CHORUS_HTTP_BODY_TIMEOUT_SECONDS", 15.0, 0.1, 600),
        keep_alive_seconds=env.integer("CHORUS_HTTP_KEEP_ALIVE_SECONDS", 5, 1, 3600),
        max_header_bytes=env.integer("CHORUS_HTTP_MAX_HEADER_BYTES", 16_384, 1024, 1_048_576),
        max_headers=env.integer("CHORUS_HTTP_MAX_HEADERS", 100, 10, 1000),
        max_connections=env.integer("CHORUS_HTTP_MAX_CONNECTIONS", 1000, 10, 100_000),
    )


def _earnings_caps(raw: str) -> dict[str, int]:
    """``off`` (no cap) or amounts per currency, as the payout settings take them."""
    return {} if raw.lower() == "off" else _amounts_per_currency(raw)


def _existing_file(raw: str) -> Path:
    path = Path(raw)
    if not path.is_file():
        raise ValueError
    return path


def _moderation_settings(env: _Reader) -> ModerationSettings:
    return ModerationSettings(
        flag_threshold=env.integer("CHORUS_MODERATION_FLAG_THRESHOLD", DEFAULT_FLAG_THRESHOLD, 1,
                                   1000),
        screening_url=env.url("CHORUS_SCREENING_URL", ("https", "http")),
        screening_api_key=env.secret("CHORUS_SCREENING_API_KEY"),
        screening_model=env.text("CHORUS_SCREENING_MODEL"),
        screening_timeout_seconds=env.number("CHORUS_SCREENING_TIMEOUT_SECONDS", 2.0, 0.05, 30),
        blocklist_file=env.parsed(
            "CHORUS_SCREENING_BLOCKLIST_FILE", _existing_file, None, "must be an existing file"
        ),
        daily_earnings_caps=env.parsed(
            "CHORUS_DAILY_EARNINGS_CAP_MINOR",
            _earnings_caps,
            dict(DEFAULT_DAILY_EARNINGS_CAPS),
            "must be off, or look like NGN:2000000,GHS:80000 (positive minor units)",
        ),
        uploads_per_hour=env.integer(
            "CHORUS_FRAUD_UPLOADS_PER_HOUR", DEFAULT_UPLOADS_PER_HOUR, 0, 1_000_000
        ),
        votes_per_hour=env.integer("CHORUS_FRAUD_VOTES_PER_HOUR", DEFAULT_VOTES_PER_HOUR, 0,
                                   1_000_000),
        burst_scan_minutes=env.integer("CHORUS_FRAUD_SCAN_MINUTES", 5, 1, 1440),
    )  # fmt: skip


def _bucket_name(raw: str) -> str:
    # S3's rules (R2 and Supabase accept a subset of what they allow).
    if not 3 <= len(raw) <= 63 or not all(c.islower() or c.isdigit() or c in ".-" for c in raw):
        raise ValueError
    if not (raw[0].isalnum() and raw[-1].isalnum()):
        raise ValueError
    return raw


def _blob_settings(env: _Reader) -> BlobSettings:
    store = (env.text("CHORUS_BLOB_STORE", "local") or "local").lower()
    if store not in BLOB_STORES:
        env.problems.append(f"CHORUS_BLOB_STORE: must be local or s3 (got {store!r})")
        store = "local"
    bucket = env.parsed(
        "CHORUS_S3_BUCKET",
        _bucket_name,
        None,
        "must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens",
    )
    if store == "s3" and bucket is None and env.text("CHORUS_S3_BUCKET") is None:
        env.problems.append("CHORUS_S3_BUCKET: required when CHORUS_BLOB_STORE is s3")
    endpoint = env.url("CHORUS_S3_ENDPOINT_URL", ("https", "http"))
    key_id = env.secret("CHORUS_S3_ACCESS_KEY_ID")
    secret = env.secret("CHORUS_S3_SECRET_ACCESS_KEY")
    if (key_id is None) != (secret is None):
        env.problems.append(
            "CHORUS_S3_ACCESS_KEY_ID / CHORUS_S3_SECRET_ACCESS_KEY: set both, or neither "
            "(then the AWS default credential chain is used)"
        )
    style = (env.text("CHORUS_S3_ADDRESSING_STYLE") or ("path" if endpoint else "auto")).lower()
    if style not in S3_ADDRESSING_STYLES:
        env.problems.append(
            f"CHORUS_S3_ADDRESSING_STYLE: must be auto, path or virtual (got {style!r})"
        )
        style = "auto"
    return BlobSettings(
        store=store,
        s3_bucket=bucket,
        s3_endpoint_url=endpoint,
        s3_region=env.text("CHORUS_S3_REGION"),
        s3_access_key_id=key_id,
        s3_secret_access_key=secret,
        s3_addressing_style=style,
        # SigV4 presigned URLs live at most 7 days.
        s3_presign_seconds=env.integer("CHORUS_S3_PRESIGN_SECONDS", 300, 10, 604_800),
    )


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
        db_pool_size=env.integer("CHORUS_DB_POOL_SIZE", 20, 1, 200),
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
        metrics_token=env.secret("CHORUS_METRICS_TOKEN"),
        docs_enabled=env.boolean("CHORUS_DOCS_ENABLED", True),
        livekit_url=livekit_url,
        livekit_public_url=env.url("LIVEKIT_PUBLIC_URL", ("ws", "wss", "http", "https")),
        livekit_api_key=livekit[0],
        livekit_api_secret=livekit[1],
        expo_push_access_token=env.secret("EXPO_PUSH_ACCESS_TOKEN"),
        paystack_secret_key=env.secret("PAYSTACK_SECRET_KEY"),
        posthog_api_key=env.secret("POSTHOG_API_KEY"),
        posthog_host=env.url("POSTHOG_HOST", ("https", "http")) or "https://us.i.posthog.com",
        expo_push_url=env.url("CHORUS_EXPO_PUSH_URL", ("https", "http")) or "https://exp.host",
        push_sender=_push_sender(env, chosen),
        worker=_worker_settings(env),
        payouts=_payout_settings(env, chosen, env.secret("PAYSTACK_SECRET_KEY")),
        http=_http_limits(env),
        moderation=_moderation_settings(env),
        blobs=_blob_settings(env),
        blob_dir=Path(blob_dir) if (blob_dir := env.text("CHORUS_BLOB_DIR")) else None,
        livekit_token_ttl_minutes=env.integer("CHORUS_LIVEKIT_TOKEN_TTL_MINUTES", 360, 1, 1440),
        livekit_empty_timeout_seconds=env.integer(
            "CHORUS_LIVEKIT_EMPTY_TIMEOUT_SECONDS", 300, 10, 86_400
        ),
        livekit_max_participants=env.integer("CHORUS_LIVEKIT_MAX_PARTICIPANTS", 0, 0, 100_000),
        consensus_policy=env.parsed(
            "CHORUS_CONSENSUS_POLICY",
            _policy_name,
            "dawid_skene",
            f"must be one of {', '.join(POLICY_NAMES)}",
        ),
        consensus_accept_threshold=env.fraction("CHORUS_CONSENSUS_ACCEPT_THRESHOLD", 0.85),
        consensus_reject_threshold=env.fraction("CHORUS_CONSENSUS_REJECT_THRESHOLD", 0.15),
        consensus_dispute_band=env.number("CHORUS_CONSENSUS_DISPUTE_BAND", 0.0, 0.0, 0.49),
        consensus_established_gold_answers=env.integer(
            "CHORUS_CONSENSUS_ESTABLISHED_GOLD_ANSWERS", 3, 0, 1000
        ),
        consensus_refit_minutes=env.integer("CHORUS_CONSENSUS_REFIT_MINUTES", 60, 1, 10_080),
        vote_cap=env.integer("CHORUS_VOTE_CAP", 5, 2, 50),
        gold_rate=env.fraction("CHORUS_GOLD_RATE", 0.1),
        newcomer_gold_rate=env.fraction("CHORUS_NEWCOMER_GOLD_RATE", 0.3),
        newcomer_gold_answers=env.integer("CHORUS_NEWCOMER_GOLD_ANSWERS", 5, 0, 1000),
        gold_only_below_informedness=env.number(
            "CHORUS_GOLD_ONLY_BELOW_INFORMEDNESS", 0.2, -1.0, 1.0
        ),
        min_listen_fraction=env.number("CHORUS_MIN_LISTEN_FRACTION", 0.8, 0.0, 2.0),
        probation_floor=env.fraction("CHORUS_PROBATION_FLOOR", 0.7),
        probation_min_gold_answers=env.integer("CHORUS_PROBATION_MIN_GOLD_ANSWERS", 5, 0, 10_000),
        reward_currency=env.parsed(
            "CHORUS_REWARD_CURRENCY",
            _reward_currency,
            "NGN",
            f"must be one of {', '.join(sorted(CURRENCY_EXPONENTS))}",
        ),
        reward_holding_hours=env.integer("CHORUS_REWARD_HOLDING_HOURS", 72, 0, 8760),
        sync_reservation_hours=env.integer("CHORUS_SYNC_RESERVATION_HOURS", 24, 1, 168),
        sync_max_reserved_clips=env.integer("CHORUS_SYNC_MAX_RESERVED_CLIPS", 200, 1, 10_000),
        sync_op_retention_days=env.integer("CHORUS_SYNC_OP_RETENTION_DAYS", 30, 30, 3650),
    )
    if (
        chosen is Environment.PRODUCTION
        and settings.supabase_jwt_secret is None
        and settings.supabase_url is None
    ):
        env.problems.append(
            "SUPABASE_JWT_SECRET or SUPABASE_URL: one is required in production to verify callers"
        )
    if settings.metrics_token is not None and len(settings.metrics_token.reveal()) < 16:
        env.problems.append("CHORUS_METRICS_TOKEN: must be at least 16 characters")
    if not settings.consensus_reject_threshold < 0.5 < settings.consensus_accept_threshold:
        env.problems.append(
            "CHORUS_CONSENSUS_ACCEPT_THRESHOLD / CHORUS_CONSENSUS_REJECT_THRESHOLD: need "
            "reject < 0.5 < accept"
        )
    if env.problems:
        raise SettingsError(env.problems)
    return settings
