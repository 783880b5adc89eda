"""The periodic refit of the consensus model on real PostgreSQL: what it learns, what it
publishes, and that it keeps what was learned online while it ran."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from adapters.postgres.consensus_model import PostgresConsensusModelStore
from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.accuracy import AccuracyConfig, ValidatorAccuracy
from core.domain.consensus_refit import plan_refit
from core.domain.dawid_skene import ConfusionCounts
from entrypoints.cli.main import cli
from entrypoints.container import Container
from tests.integration.clips.helpers import new_clip, scalar, vote
from tests.tokens import member_headers


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, blob_dir=tmp_path / "blobs", consensus_policy="majority")


async def member_id(client, headers) -> uuid.UUID:
    return uuid.UUID((await client.get("/me", headers=headers)).json()["id"])


async def history(client) -> dict[str, dict[str, str]]:
    """Eight clips, each judged by two honest validators and a yes-man."""
    honest = [member_headers(), member_headers()]
    yes_man = member_headers()
    for index in range(8):
        clip_id, _ = await new_clip(client)
        truth = "valid" if index % 4 else "invalid"
        await vote(client, yes_man, clip_id, "valid")
        for headers in honest:
            await vote(client, headers, clip_id, truth)
    return {"honest": honest[0], "yes_man": yes_man}


async def test_the_refit_learns_publishes_and_never_touches_a_settled_clip(
    client, engine, settings
):
    who = await history(client)
    statuses = "SELECT string_agg(id::text || status, ',' ORDER BY id) FROM voice_clips"
    before = await scalar(engine, statuses)
    container = Container(settings=settings)
    try:
        summary = await container.refit_consensus_model()()
    finally:
        await container.engine().dispose()
    teaching = await scalar(
        engine,
        "SELECT count(*) FROM validations v JOIN voice_clips c ON c.id = v.clip_id "
        "WHERE c.status <> 'pending' AND v.outcome = 'counted'",
    )
    assert teaching >= 16  # late votes (after two agreeing ones) do not teach
    assert summary.validators == 3
    assert summary.answers == teaching
    assert await scalar(engine, statuses) == before
    assert await scalar(engine, "SELECT refit_at IS NOT NULL FROM consensus_model") is True
    # every teaching answer adds exactly one to its validator's counts
    totals = "SELECT round(sum(n11 + n01 + n00 + n10)) FROM validator_stats"
    assert await scalar(engine, totals) == teaching
    honest = (await client.get("/me/standing", headers=who["honest"])).json()
    yes_man = (await client.get("/me/standing", headers=who["yes_man"])).json()
    assert honest["asOf"] is not None
    assert honest["accuracy"] > yes_man["accuracy"]
    assert round(honest["accuracy"], 2) == honest["accuracy"]


async def test_what_is_learned_online_during_a_refit_is_kept(client, engine):
    who = await history(client)
    honest = await member_id(client, who["honest"])
    store = PostgresConsensusModelStore(engine)
    snapshot = await store.snapshot()
    plan = plan_refit(snapshot, AccuracyConfig(), datetime.now(UTC))
    online = ConfusionCounts(said_valid_on_valid=0.75, said_valid_on_invalid=0.25)
    async with PostgresUnitOfWork(engine) as uow:  # a clip settles while the refit runs
        await uow.validator_stats.add({honest: ValidatorAccuracy(confusion=online)})
        await uow.commit()
    await store.apply(snapshot, plan)
    async with PostgresUnitOfWork(engine) as uow:
        stored = (await uow.validator_stats.get(honest)).history.confusion
    assert stored.as_tuple() == pytest.approx(plan.counts[honest].plus(online).as_tuple())
    model = await store.current()
    assert model == plan.model


async def test_operators_refit_from_the_command_line(client, engine, database_url):
    await history(client)
    env = {"DATABASE_URL": database_url, "CHORUS_ENV": "test"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, list(args), env=env)
        return result.exit_code, result.stdout + result.stderr

    code, output = await asyncio.to_thread(run, "consensus", "refit", "--json")
    assert code == 0, output
    summary = json.loads(output.splitlines()[0])
    assert summary["validators"] == 3
    assert summary["answers"] >= 16
    assert await scalar(engine, "SELECT refit_at IS NOT NULL FROM consensus_model") is True
