from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.integration.sync.helpers import MovableClock


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    # Two agreeing votes decide (Common Voice's rule): short, readable scenarios.
    return replace(
        settings,
        blob_dir=tmp_path / "blobs",
        consensus_policy="majority",
        reward_holding_hours=0,
        write_rate_limit_per_minute=100_000,
    )


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def clocked_app(settings: Settings, clock: MovableClock) -> Callable[..., Litestar]:
    """An app whose clock the test moves."""

    def build(**overrides: object) -> Litestar:
        chosen = replace(settings, **overrides) if overrides else settings  # type: ignore[arg-type]
        container = Container(settings=chosen)
        container.clock.override(clock)
        return create_app(chosen, container)

    return build


@pytest.fixture
async def client(clocked_app: Callable[..., Litestar]) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=clocked_app()) as test_client:
        yield test_client
