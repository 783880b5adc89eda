"""Who is calling: the ``principal`` dependency every protected handler declares."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from core.domain.identity import Principal
from core.errors import NotAuthenticated
from entrypoints.container import Container
from entrypoints.http.errors import TooManyRequests

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER_SECURITY: list[dict[str, list[str]]] = [{"BearerAuth": []}]

Caller = NamedDependency[Principal]
"""Declare ``principal: Caller`` in a handler to require an authenticated caller."""


def container_of(request: Request[Any, Any, Any]) -> Container:
    container: Container = request.app.state.container
    return container


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """Verify the bearer token, create the profile on first sight, refuse banned members,
    and count writes against the member's rate limit."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("A bearer token is required.", code="missing_token")
    container = container_of(request)
    verified = await container.token_verifier().verify(token.strip())
    principal = await container.identify_caller()(verified)
    if request.method in WRITE_METHODS and principal.profile is not None:
        retry_after = await container.write_rate_limiter().hit(str(principal.profile.id))
        if retry_after is not None:
            raise TooManyRequests(retry_after)
    return principal
