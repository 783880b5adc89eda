"""One place that turns driver failures into core's ``StorageUnavailable``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.errors import StorageUnavailable


def is_unavailable(error: BaseException) -> bool:
    if isinstance(error, (OperationalError, InterfaceError, PoolTimeout, OSError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


@asynccontextmanager
async def storage_errors() -> AsyncIterator[None]:
    """Re-raise connection-level failures as ``StorageUnavailable``; everything else as is."""
    try:
        yield
    except Exception as error:
        if is_unavailable(error):
            raise StorageUnavailable(
                "The database is unavailable; try again shortly.", code="storage_unavailable"
            ) from error
        raise
