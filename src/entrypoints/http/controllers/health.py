"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, get

from adapters.postgres import migrate
from adapters.postgres.errors import storage_errors
from core.errors import FeatureUnavailable
from entrypoints.http.auth import container_of
from entrypoints.http.openapi import problems


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    database: str
    migrations: str


class HealthController(Controller):
    tags = ["operations"]

    @get("/health", summary="The process is up", responses=problems())
    async def health(self) -> Health:
        return Health(status="ok")

    @get("/ready", summary="The database is reachable and migrated", responses=problems(503))
    async def ready(self, request: Request[Any, Any, Any]) -> Readiness:
        engine = container_of(request).engine()
        async with storage_errors():
            async with engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
            current = await migrate.current_revisions(engine)
        heads = migrate.head_revisions()
        if current != heads:
            raise FeatureUnavailable(
                f"Database schema is at {migrate.describe(current)}, "
                f"code expects {migrate.describe(heads)}.",
                code="migrations_pending",
            )
        return Readiness(status="ready", database="ok", migrations=migrate.describe(current))
