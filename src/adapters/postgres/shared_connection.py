"""One pooled connection for all the units of work of one request.

An HTTP request opens one unit of work to identify the caller and usually another for its use
case. Checked out separately, they pay the pool twice and, when the pool is busy, queue twice.
Inside ``one_connection_per_request(engine)`` they take turns on one connection instead: it is
checked out when the first unit of work opens and returned when the scope ends or
``release()`` is called. Each unit of work still runs its own transaction, so nothing about
what a use case commits changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_current: ContextVar[SharedConnection | None] = ContextVar("chorus_shared_connection", default=None)


class SharedConnection:
    """A connection lent to one unit of work at a time, of the task that opened the scope;
    see the module docstring."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Context variables are copied into tasks started inside the scope; those tasks could
        # run units of work at the same time as this one, so they check out their own.
        self._owner = asyncio.current_task()
        self._connection: AsyncConnection | None = None
        self._lent = False
        self._released = False

    @property
    def available(self) -> bool:
        """Free to lend: asked for by the scope's own task, not lent right now (a unit of
        work opened while another is open gets a connection of its own), not released."""
        return not self._lent and not self._released and asyncio.current_task() is self._owner

    async def borrow(self) -> AsyncConnection:
        assert self.available
        self._lent = True
        try:
            if self._connection is not None and self._connection.invalidated:
                await self._close()
            if self._connection is None:
                self._connection = await self.engine.connect()
        except BaseException:
            self._lent = False
            raise
        return self._connection

    async def give_back(self) -> None:
        """The unit of work is done with it (its transaction ended)."""
        self._lent = False
        if self._released:
            await self._close()

    async def release(self) -> None:
        """Return the connection to the pool now, or when the unit of work using it ends;
        later units of work check out their own."""
        self._released = True
        if not self._lent:
            await self._close()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()


def shared_connection_for(engine: AsyncEngine) -> SharedConnection | None:
    """The current scope's shared connection, if it is for ``engine`` and free to lend."""
    shared = _current.get()
    if shared is None or shared.engine is not engine or not shared.available:
        return None
    return shared


@contextlib.asynccontextmanager
async def one_connection_per_request(engine: AsyncEngine) -> AsyncIterator[SharedConnection]:
    """Units of work opened inside, by this task, share one connection (other tasks started
    inside check out their own)."""
    shared = SharedConnection(engine)
    token = _current.set(shared)
    try:
        yield shared
    finally:
        _current.reset(token)
        await shared.release()


@contextlib.asynccontextmanager
async def autocommit_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection (the request's shared one when free) whose statements each commit on
    their own: no BEGIN and ROLLBACK round trips around a lone read."""
    shared = shared_connection_for(engine)
    if shared is None:
        async with engine.connect() as own:
            yield await own.execution_options(isolation_level="AUTOCOMMIT")
        return
    connection = await shared.borrow()
    try:
        # What the connection uses now, known without asking the server.
        options = (
            connection.sync_connection.get_execution_options() if connection.sync_connection else {}
        )
        previous = options.get("isolation_level", connection.default_isolation_level)
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")
    finally:
        try:
            if not connection.invalidated:
                # Ends SQLAlchemy's own bookkeeping; in autocommit nothing goes to the server.
                await connection.rollback()
                await connection.execution_options(isolation_level=previous)
        finally:
            await shared.give_back()
