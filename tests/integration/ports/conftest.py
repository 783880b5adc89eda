"""Port contracts run twice: on the in-memory fakes and on PostgreSQL."""

from __future__ import annotations

import pytest

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from tests.fakes import FakeUnitOfWork, InMemoryStore


@pytest.fixture(params=["fake", "postgres"])
def uow_factory(request):
    if request.param == "fake":
        store = InMemoryStore()
        return lambda: FakeUnitOfWork(store)
    engine = request.getfixturevalue("engine")
    return lambda: PostgresUnitOfWork(engine)
