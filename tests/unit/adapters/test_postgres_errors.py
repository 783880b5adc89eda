"""Which driver failures are outages (503, retry later): by SQLSTATE and exception type,
wrapped by SQLAlchemy or not, never by message."""

from __future__ import annotations

import socket

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.postgres.errors import (
    UNAVAILABLE_CLASSES,
    UNAVAILABLE_STATES,
    is_unavailable,
    storage_errors,
)
from core.errors import Conflict, StorageUnavailable

SQLSTATE = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=5, max_size=5)


def server_error(sqlstate: str) -> asyncpg.PostgresError:
    return asyncpg.PostgresError.new({"C": sqlstate, "M": "whatever the server says", "S": "ERROR"})


def wrapped(error: BaseException, *, invalidated: bool = False) -> DBAPIError:
    """As SQLAlchemy raises it: its DBAPIError around the dialect's error around asyncpg's."""
    adapted = Exception(str(error))
    adapted.__cause__ = error
    return DBAPIError("SELECT 1", {}, adapted, connection_invalidated=invalidated)


@given(SQLSTATE)
def test_a_server_error_is_an_outage_by_its_sqlstate_alone(sqlstate: str) -> None:
    expected = sqlstate[:2] in UNAVAILABLE_CLASSES or sqlstate in UNAVAILABLE_STATES
    assert is_unavailable(server_error(sqlstate)) is expected
    assert is_unavailable(wrapped(server_error(sqlstate))) is expected


@pytest.mark.parametrize(
    "sqlstate",
    ["57P01", "57P02", "57P03", "08006", "08003", "53300", "53200", "58030", "57014", "25P03"],
)
def test_shutdowns_refusals_and_exhaustion_are_outages(sqlstate: str) -> None:
    assert is_unavailable(wrapped(server_error(sqlstate)))


@pytest.mark.parametrize("sqlstate", ["23505", "23514", "40P01", "40001", "42601", "22P02"])
def test_bad_data_conflicts_and_bugs_are_not(sqlstate: str) -> None:
    assert not is_unavailable(wrapped(server_error(sqlstate)))


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(104, "reset"),
        BrokenPipeError(32, "broken pipe"),
        TimeoutError(),
        socket.gaierror(-2, "Name or service not known"),
        OSError("Multiple exceptions: …"),
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        ),
        asyncpg.exceptions.ConnectionDoesNotExistError("closed in the middle of operation"),
    ],
    ids=type,
)
def test_a_connection_that_broke_is_an_outage(error: BaseException) -> None:
    assert is_unavailable(error)
    assert is_unavailable(wrapped(error))


@pytest.mark.parametrize(
    "error",
    [FileNotFoundError(2, "no such file"), PermissionError(13, "denied"), ValueError("bad")],
    ids=type,
)
def test_other_failures_are_not_outages(error: BaseException) -> None:
    assert not is_unavailable(error)


def test_a_pool_timeout_and_an_invalidated_connection_are_outages() -> None:
    assert is_unavailable(PoolTimeout("QueuePool limit reached"))
    assert is_unavailable(wrapped(ValueError("anything"), invalidated=True))
    assert not is_unavailable(wrapped(ValueError("anything")))


def test_domain_errors_are_already_classified() -> None:
    with_cause = Conflict("already voted")
    with_cause.__cause__ = ConnectionResetError()
    assert not is_unavailable(with_cause)


async def test_storage_errors_translates_outages_and_lets_the_rest_through() -> None:
    with pytest.raises(StorageUnavailable) as raised:
        async with storage_errors():
            raise wrapped(server_error("57P01"))
    assert isinstance(raised.value.__cause__, DBAPIError)
    integrity = IntegrityError("INSERT", {}, Exception("duplicate"))
    with pytest.raises(IntegrityError):
        async with storage_errors():
            raise integrity
