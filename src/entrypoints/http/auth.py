"""Who is calling: the ``principal`` dependency every protected handler declares."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request
from litestar.di import NamedDependency

from core.domain.identity import Principal
from core.errors import NotAuthenticated, StorageUnavailable
from entrypoints.container import Container
from entrypoints.http.errors import TooManyRequests

log = structlog.get_logger("chorus.http")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER_SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]

Caller = NamedDependency[Principal]
"""Declare ``principal: Caller`` in a handler to require an authenticated caller."""


def container_of(request: Request[Any, Any, Any]) -> Container:
    container: Container = request.app.state.container
    return container


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Verify the bearer token, create the profile on first sight, refuse banned members,
    and count writes against the member's rate limit (shared by every instance; when its
    store cannot be reached the write is let through and a warning logged — the limit
    protects capacity, it must not take writes down with it)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("A bearer token is required.", code="missing_token")
    container = container_of(request)
    verified = await container.token_verifier().verify(token.strip())
    principal = await container.identify_caller()(verified)
    if request.method in WRITE_METHODS and principal.profile is not None:
        try:
            retry_after = await container.write_rate_limiter().hit(str(principal.profile.id))
        except StorageUnavailable as error:
            log.warning("rate_limiter_unavailable", error=repr(error.__cause__))
            return principal
        if retry_after is not None:
            raise TooManyRequests(retry_after)
    return principal
