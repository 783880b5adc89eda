"""The OpenAI-compatible screener with the real httpx client against the contract server:
what it flags, what it is never sent, and how an outage falls back to the built-in rules
(no request fails because the service is down)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from adapters.screening.moderation_service import ModerationServiceScreener
from adapters.screening.rule_based import BlockLists, RuleBasedScreener
from entrypoints.settings import Secret, Settings
from tests.contracts.moderation_server import (
    API_KEY,
    ModerationContractServer,
    moderation_server,
)
from tests.integration.clips.helpers import execute
from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers

__all__ = ["moderation_server"]

RULES = RuleBasedScreener(BlockLists.load())


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def screener(moderation_server: ModerationContractServer) -> AsyncIterator:
    clock = Clock()
    built = ModerationServiceScreener(
        base_url=f"{moderation_server.base_url}/v1",
        rules=RULES,
        api_key=API_KEY,
        model="omni-moderation-latest",
        timeout_seconds=0.5,
        cooldown_seconds=30,
        monotonic=clock,
    )
    built.clock = clock  # type: ignore[attr-defined]
    yield built
    await built.aclose()


async def test_the_service_flags_what_the_rules_let_through(screener, moderation_server):
    moderation_server.flagged["i will find you"] = {"harassment/threatening": 0.92,
                                                   "harassment": 0.7}  # fmt: skip
    verdict = await screener.screen("I will find you tonight", language="en")
    assert (verdict.category, verdict.source.value) == ("harassment/threatening", "service")
    assert moderation_server.requests == [
        {"input": "I will find you tonight", "model": "omni-moderation-latest"}
    ]
    fine = await screener.screen("Good evening everyone", language="en")
    assert (fine.allowed, len(moderation_server.requests)) == (True, 2)


async def test_personal_data_is_caught_by_the_rules_and_never_sent(screener, moderation_server):
    verdict = await screener.screen("whatsapp me +234 803 123 4567", language="en")
    assert (verdict.category, verdict.source.value) == ("phone_number", "rules")
    assert moderation_server.requests == []


@pytest.mark.parametrize("trouble", ["500", "garbage", "slow"])
async def test_an_unusable_answer_falls_back_to_the_rules_then_waits_a_cooldown(
    screener, moderation_server, trouble
):
    moderation_server.flagged["ugly"] = {"hate": 0.99}
    if trouble == "500":
        moderation_server.fail_with = 500
    elif trouble == "garbage":
        moderation_server.garbage = True
    else:
        moderation_server.delay_seconds = 2.0
    started = time.monotonic()
    assert (await screener.screen("ugly words", language="en")).allowed  # rules allow it
    assert (await screener.screen("you bitch", language="en")).category == "blocked_word"
    assert screener.fallbacks == 1
    assert len(moderation_server.requests) == 1  # the cooldown spares the service
    assert time.monotonic() - started < 1.9  # at most one timeout (0.5 s) per cooldown
    moderation_server.fail_with, moderation_server.garbage = None, False
    moderation_server.delay_seconds = 0.0
    screener.clock.now += 31
    assert (await screener.screen("ugly words", language="en")).category == "hate"


async def test_an_unreachable_service_falls_back_to_the_rules():
    dead = ModerationServiceScreener(base_url="http://127.0.0.1:9/v1", rules=RULES,
                                     api_key=API_KEY, timeout_seconds=0.5)  # fmt: skip
    try:
        assert (await dead.screen("hello", language="en")).allowed
        assert (await dead.screen("ada@example.com", language="en")).category == "email"
        assert dead.fallbacks == 1
    finally:
        await dead.aclose()


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    moderation = replace(
        settings.moderation,
        screening_url="http://127.0.0.1:9/v1",  # nothing listens there
        screening_api_key=Secret(API_KEY),
        screening_timeout_seconds=0.5,
    )
    return replace(settings, moderation=moderation, blob_dir=tmp_path / "blobs")


async def test_the_service_down_requests_still_succeed_with_the_rules(
    client: AsyncTestClient, engine
):
    headers = member_headers()
    assert (
        await client.patch("/me", json={"displayName": "Ada"}, headers=headers)
    ).status_code == 200
    blocked = await client.patch("/me", json={"displayName": "ada@example.com"}, headers=headers)
    assert_problem(blocked, 422, "content_blocked")
    host = member_headers()
    host_id = (await client.get("/me", headers=host)).json()["id"]
    await execute(
        engine,
        "INSERT INTO live_streams (id, host_id, title, language, room_name, status, started_at, "
        "viewer_sessions, peak_viewers) VALUES (gen_random_uuid(), :host, 'Live', 'en', "
        "'live-x', 'live', now(), '{}', 0)",
        host=host_id,
    )
    stream = (await client.get("/live", headers=headers)).json()["items"][0]["id"]
    posted = await client.post(f"/live/{stream}/messages", json={"body": "hi all"},
                               headers=headers)  # fmt: skip
    assert posted.status_code == 201, posted.text
