"""Moderation fixtures: majority consensus (two votes decide), no holding period, and a
container of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from entrypoints.container import Container
from entrypoints.settings import Settings


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    return replace(
        settings,
        blob_dir=tmp_path / "blobs",
        consensus_policy="majority",
        reward_holding_hours=0,
        write_rate_limit_per_minute=100_000,
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    built = Container(settings=settings)
    yield built
    await built.payout_gateways().aclose()
    await built.engine().dispose()
