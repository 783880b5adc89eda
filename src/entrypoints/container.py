"""The composition root: one declarative container wires adapters into use cases.

Providers are synchronous; resources (the engine) are opened lazily and closed in the
Litestar lifespan / CLI. Tests override providers (``container.clock.override(...)``).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.auth.supabase_jwt import SupabaseJwtVerifier
from adapters.postgres.engine import create_engine
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from adapters.system import RandomIdGenerator, SystemClock
from core.use_cases.profiles import IdentifyCaller, SetMemberRole, UpdateOwnProfile
from entrypoints.http.rate_limit import make_write_rate_limiter
from entrypoints.settings import Settings


def _database_url(settings: Settings) -> str:
    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set (chorus dev starts an embedded database).")
    return settings.database_url.reveal()


def _secret(settings: Settings) -> str | None:
    return settings.supabase_jwt_secret.reveal() if settings.supabase_jwt_secret else None


def _redis_url(settings: Settings) -> str | None:
    return settings.redis_url.reveal() if settings.redis_url else None


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    engine = providers.Singleton(
        create_engine,
        database_url=providers.Callable(_database_url, settings),
        pool_size=settings.provided.db_pool_size,
        max_overflow=settings.provided.db_max_overflow,
    )
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIdGenerator)
    token_verifier = providers.Singleton(
        SupabaseJwtVerifier,
        hs256_secret=providers.Callable(_secret, settings),
        jwks_url=settings.provided.jwks_url,
        audience=settings.provided.jwt_audience,
        issuer=settings.provided.expected_issuer,
    )
    write_rate_limiter = providers.Singleton(
        make_write_rate_limiter,
        redis_url=providers.Callable(_redis_url, settings),
        limit=settings.provided.write_rate_limit_per_minute,
    )

    unit_of_work = providers.Factory(PostgresUnitOfWork, engine=engine)

    identify_caller = providers.Factory(
        IdentifyCaller, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
    update_own_profile = providers.Factory(
        UpdateOwnProfile, uow_factory=unit_of_work.provider, clock=clock
    )
    set_member_role = providers.Factory(
        SetMemberRole, uow_factory=unit_of_work.provider, clock=clock, ids=ids
    )
