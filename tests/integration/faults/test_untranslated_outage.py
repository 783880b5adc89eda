"""A database failure that reaches the HTTP edge without an adapter having translated it (a
code path outside any unit of work, written tomorrow) is still answered as an outage: 503
with ``Retry-After``. Other unexpected errors stay 500."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
import pytest
from dependency_injector import providers
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.exc import DBAPIError

from core.ports.token_verifier import VerifiedToken
from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers


def starting_up() -> DBAPIError:
    server = asyncpg.PostgresError.new({"C": "57P03", "M": "the database system is starting up"})
    adapted = Exception(str(server))
    adapted.__cause__ = server
    return DBAPIError("SELECT 1", {}, adapted)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (starting_up(), 503, "storage_unavailable"),
        (ConnectionResetError(104, "reset by peer"), 503, "storage_unavailable"),
        (ValueError("a bug"), 500, "internal_error"),
    ],
    ids=["sqlstate-57P03", "socket-reset", "a-bug"],
)
async def test_an_untranslated_failure_is_classified_at_the_edge(
    make_app: Callable[..., Litestar], error: Exception, status: int, code: str
) -> None:
    app = make_app()

    async def identify(token: VerifiedToken) -> None:
        raise error

    app.state.container.identify_caller.override(providers.Object(identify))
    async with AsyncTestClient(app) as client:
        response = await client.get("/me", headers=member_headers())
    assert_problem(response, status, code)
    assert ("retry-after" in response.headers) is (status == 503)
