"""One place that decides which driver failures mean "the database cannot serve this now":
core's ``StorageUnavailable`` — HTTP 503 with ``Retry-After``, the worker backs off.

Decided by SQLSTATE and by exception type, never by message text:

- SQLSTATE class ``08`` (connection exception), ``53`` (insufficient resources: too many
  connections, out of memory, disk full) and ``58`` (system error, e.g. I/O);
- ``57P01`` admin shutdown, ``57P02`` crash shutdown, ``57P03`` cannot connect now (starting
  up, shutting down, in recovery), ``57P05`` idle-session timeout, ``25P03``
  idle-in-transaction timeout, ``57014`` statement cancelled (``statement_timeout``);
- no answer at all: a socket error (refused, reset, broken pipe, timed out, unreachable,
  unknown host; not a file's ``OSError`` subclasses such as ``FileNotFoundError``), asyncpg's
  ``InternalClientError`` (its protocol broke: the server's FATAL error arrived between two
  statements, see tests/integration/faults/test_session_ended_between_statements.py), a
  connection SQLAlchemy found closed (``connection_invalidated``), the pool's timeout.

Anything else (a constraint violation, a syntax error, an operation started while another
runs on the same connection) is a bug or bad input, and stays what it is.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from asyncpg.exceptions import InternalClientError, PostgresError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import DomainError, StorageUnavailable

UNAVAILABLE_CLASSES = frozenset({"08", "53", "58"})
UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "57P05", "25P03", "57014"})


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what SQLAlchemy wrapped (``orig``) and its causes."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__]


def _connection_lost(error: BaseException) -> bool:
    if isinstance(error, InternalClientError | PoolTimeout):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    # A bare OSError is what asyncpg raises when no address of the server answers.
    return isinstance(error, ConnectionError | TimeoutError | socket.gaierror) or (
        type(error) is OSError
    )


def _server_unavailable(error: BaseException) -> bool:
    state = getattr(error, "sqlstate", None) if isinstance(error, PostgresError) else None
    return isinstance(state, str) and (
        state[:2] in UNAVAILABLE_CLASSES or state in UNAVAILABLE_STATES
    )


def is_unavailable(error: BaseException) -> bool:
    """A driver failure meaning the database cannot serve this now; the same request may
    succeed later. Domain errors are classified already: never."""
    if isinstance(error, DomainError):
        return False
    return any(_connection_lost(link) or _server_unavailable(link) for link in _chain(error))


def unavailable() -> StorageUnavailable:
    """The domain error to raise ``from`` a failure ``is_unavailable`` recognised."""
    return StorageUnavailable(
        "The database is unavailable; try again shortly.", code="storage_unavailable"
    )


@asynccontextmanager
async def storage_errors() -> AsyncIterator[None]:
    """Re-raise database failures of the kinds above as ``StorageUnavailable``; everything
    else as is."""
    try:
        yield
    except Exception as error:
        if is_unavailable(error):
            raise unavailable() from error
        raise
