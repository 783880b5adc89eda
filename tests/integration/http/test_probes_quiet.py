"""``/ready`` is called every few seconds by probes: it must not write log lines each time
(Alembic's ``MigrationContext`` logged two INFO lines per call)."""

from __future__ import annotations

import logging

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient


async def test_ready_checks_the_schema_without_logging(
    client: AsyncTestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    assert (await client.get("/ready")).status_code == 200  # warm: heads read once
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            response = await client.get("/ready")
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "ready"
    noisy = [r for r in caplog.records if r.name.startswith(("alembic", "sqlalchemy"))]
    assert noisy == []
