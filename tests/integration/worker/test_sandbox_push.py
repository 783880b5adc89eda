"""`chorus dev` without Expo configured: the worker's pushes go to the sandbox sender, which
logs what it would have sent and lets the delivery complete — nothing leaves the machine."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from entrypoints.settings import Settings, load_settings
from tests.integration.worker.support import (
    add_events,
    add_members,
    add_tokens,
    eventually,
    fast_worker_settings,
    rows,
    running_worker,
)

PHONE = "ExponentPushToken[dev-phone]"
UNREACHABLE = "http://127.0.0.1:9"  # discard port: any call to "Expo" would fail


def test_development_without_expo_configured_uses_the_sandbox_sender() -> None:
    assert load_settings({"CHORUS_ENV": "development"}).push_sender == "sandbox"


async def test_pushes_are_logged_not_sent_and_their_delivery_completes(
    engine: AsyncEngine, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    [ada] = await add_members(engine, 1)
    await add_tokens(engine, {PHONE: ada})
    await add_events(engine, [("payout.paid", {"profileId": str(ada)})])
    sandboxed = replace(fast_worker_settings(settings, UNREACHABLE), push_sender="sandbox")

    with caplog.at_level(logging.INFO, logger="chorus.push.sandbox"):
        async with running_worker(sandboxed):

            async def receipt_read() -> bool:
                found = await rows(engine, "SELECT receipt_status FROM push_deliveries")
                return [row.receipt_status for row in found] == ["ok"]

            await eventually(receipt_read, within=15)

    [delivery] = await rows(engine, "SELECT state, ticket_id, attempts FROM push_deliveries")
    assert delivery.state == "sent"
    assert delivery.ticket_id.startswith("sandbox-")
    assert delivery.attempts == 1  # accepted at once: no retries, no error loop
    [record] = [r for r in caplog.records if r.name == "chorus.push.sandbox"]
    assert "not sent to Expo" in record.getMessage()
    assert delivery.ticket_id in record.getMessage()
    assert record.push["token"] == PHONE  # type: ignore[attr-defined]
    assert record.push["title"] == "Payout sent"  # type: ignore[attr-defined]
