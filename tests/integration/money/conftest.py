from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.integration.money.worlds import FakeWorld, PostgresWorld, World


@pytest.fixture(params=["fake", "postgres"])
def world(request: pytest.FixtureRequest) -> World:
    """The fakes and PostgreSQL must keep the same promises."""
    if request.param == "fake":
        return FakeWorld()
    return PostgresWorld(request.getfixturevalue("engine"))


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """A container of the test's own (the app under ``AsyncTestClient`` runs on another
    event loop, so its engine cannot be shared with the test)."""
    built = Container(settings=settings)
    yield built
    await built.engine().dispose()
