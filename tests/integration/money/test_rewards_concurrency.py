"""Concurrency on real PostgreSQL: simultaneous decisions, replays and releases — in tasks
with their own connections and in separate processes — post each reward exactly once and
leave the books balanced."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from core.domain.validation import VoteRecord
from core.use_cases.rewards import post_decision_rewards
from entrypoints.cli.main import cli
from tests.integration.clips.helpers import new_clip, vote
from tests.integration.money.helpers import (
    insert_clip,
    insert_profile,
    ledger_totals,
    scalar,
    seed_rates,
)
from tests.tokens import member_headers

ROOT = Path(__file__).resolve().parents[3]
CLIP_RATE, AGREED_RATE = 5_000, 1_000


@pytest.fixture
def settings(settings, tmp_path):
    return replace(
        settings, blob_dir=tmp_path / "blobs", consensus_policy="majority", reward_holding_hours=0
    )


async def earnings_per_clip(engine) -> dict[tuple[uuid.UUID, str], int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.text(
                "SELECT clip_id, reward_kind, count(*) FROM transactions "
                "WHERE kind = 'reward_earned' GROUP BY clip_id, reward_kind"
            )
        )
        return {(clip, kind): count for clip, kind, count in rows}


def one_of_each(clips) -> dict[tuple[uuid.UUID, str], int]:
    """What each accepted clip with two agreeing counted votes earns."""
    expected = {}
    for clip in clips:
        expected[clip, "clip_accepted"] = 1
        expected[clip, "validation_agreed"] = 2
    return expected


async def test_concurrent_votes_over_http_decide_and_pay_each_clip_once(client, engine):
    await seed_rates(engine)
    validators = [member_headers() for _ in range(6)]
    clips = [(await new_clip(client))[0] for _ in range(10)]
    rng = random.Random(7)
    ballots = [(v, clip) for clip in clips for v in rng.sample(validators, 3)]
    rng.shuffle(ballots)
    responses = await asyncio.gather(*(vote(client, v, clip) for v, clip in ballots))
    assert [r.status_code for r in responses] == [200] * len(ballots)
    assert sorted(r.json()["outcome"] for r in responses).count("late") == len(clips)
    assert await earnings_per_clip(engine) == one_of_each(uuid.UUID(c) for c in clips)
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'reward.earned'") == 30
    assert await ledger_totals(engine) == {"NGN": 0}
    # every validator earned for exactly their counted votes
    async with engine.connect() as connection:
        mismatched = await connection.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT v.validator_id, count(*) * :rate AS owed "
                "FROM validations v WHERE v.outcome = 'counted' GROUP BY v.validator_id) o "
                "JOIN accounts a ON a.owner_id = o.validator_id AND a.kind = 'pending' "
                "WHERE a.balance_minor <> o.owed"
            ),
            {"rate": AGREED_RATE},
        )
    assert mismatched == 0


async def decided_in_sql(engine, count: int) -> list[uuid.UUID]:
    """Clips accepted by two counted votes, their rewards not yet posted."""
    validators = [await insert_profile(engine) for _ in range(4)]
    clips = []
    for n in range(count):
        clip = await insert_clip(engine, await insert_profile(engine))
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "UPDATE voice_clips SET status = 'accepted', valid_votes = 2, "
                    "decided_at = now() WHERE id = :id"
                ),
                {"id": clip},
            )
            for validator in (validators[n % 4], validators[(n + 1) % 4]):
                await connection.execute(
                    sa.text(
                        "INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, "
                        "accuracy, on_probation, created_at) VALUES (:id, :clip, :validator, "
                        "'valid', 'counted', 0.8, false, now())"
                    ),
                    {"id": uuid.uuid4(), "clip": clip, "validator": validator},
                )
        clips.append(clip)
    return clips


async def replay(container, clip_id: uuid.UUID) -> int:
    async with container.unit_of_work() as uow:
        clip = await uow.clips.get(clip_id)
        votes: list[VoteRecord] = list(await uow.votes.for_clip(clip_id))
        new = await post_decision_rewards(
            uow,
            clip=clip,
            status=clip.status,
            votes=votes,
            decided_at=clip.decided_at,
            ids=container.ids(),
            rules=container.reward_rules(),
        )
        await uow.commit()
    return len(new)


async def test_the_same_decision_posted_by_many_tasks_at_once_pays_once(engine, container):
    await seed_rates(engine)
    clips = await decided_in_sql(engine, 8)
    contenders = [replay(container, clip) for clip in clips for _ in range(6)]
    random.Random(3).shuffle(contenders)
    posted = await asyncio.gather(*contenders)
    assert sum(posted) == 3 * len(clips)
    assert await earnings_per_clip(engine) == one_of_each(clips)
    assert await scalar(engine, "SELECT count(*) FROM outbox WHERE name = 'reward.earned'") == 24
    assert await ledger_totals(engine) == {"NGN": 0}


async def test_concurrent_releases_release_each_earning_once(engine, container):
    await seed_rates(engine)
    clips = await decided_in_sql(engine, 10)
    await asyncio.gather(*(replay(container, clip) for clip in clips))
    release = replace(container.release_earnings(), batch_size=3)
    summaries = await asyncio.gather(*(release() for _ in range(6)))
    assert sum(s.released for s in summaries) == 30
    assert sum(s.totals.get("NGN", 0) for s in summaries) == 10 * (CLIP_RATE + 2 * AGREED_RATE)
    await assert_all_released_once(engine, 30)


async def assert_all_released_once(engine, earnings: int) -> None:
    assert await scalar(engine, "SELECT count(*) FROM open_earnings") == 0
    released = await scalar(
        engine,
        "SELECT count(DISTINCT closes_transaction_id) FROM transactions "
        "WHERE kind = 'reward_released'",
    )
    assert released == earnings
    assert (
        await scalar(engine, "SELECT count(*) FROM transactions WHERE kind = 'reward_released'")
        == earnings
    )
    pending = await scalar(engine, "SELECT sum(balance_minor) FROM accounts WHERE kind = 'pending'")
    assert pending == 0
    assert await ledger_totals(engine) == {"NGN": 0}


# -- several processes -----------------------------------------------------------------------


class Contenders:
    """Processes running ``tests/integration/money/race.py``, started phase by phase at once."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes

    @classmethod
    async def start(cls, settings, commands: list[list[str]]) -> Contenders:
        env = {
            **os.environ,
            "DATABASE_URL": settings.database_url.reveal(),
            "CHORUS_ENV": "test",
            "CHORUS_CONSENSUS_POLICY": "majority",
            "CHORUS_REWARD_HOLDING_HOURS": "0",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
        }
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.integration.money.race",
                *command,
                cwd=ROOT,
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for command in commands
        ]
        contenders = cls(processes)
        for line in await contenders._lines():
            assert line == "ready", line
        return contenders

    async def _lines(self) -> list[str]:
        async def line(process: asyncio.subprocess.Process) -> str:
            assert process.stdout is not None
            assert process.stderr is not None
            read = await asyncio.wait_for(process.stdout.readline(), 60)
            if not read:
                raise AssertionError((await process.stderr.read()).decode())
            return read.decode().strip()

        return list(await asyncio.gather(*(line(p) for p in self.processes)))

    async def phase(self) -> list[object]:
        """Let every process run its next phase at the same moment; their results."""
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(b"go\n")
            await process.stdin.drain()
        return [json.loads(line) for line in await self._lines()]

    async def finish(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            assert process.returncode == 0


async def test_processes_deciding_then_releasing_at_once_pay_each_reward_once(engine, settings):
    await seed_rates(engine)
    contributor = await insert_profile(engine)
    clips = [await insert_clip(engine, contributor) for _ in range(12)]
    validators = [await insert_profile(engine) for _ in range(3)]
    rng = random.Random(11)
    contenders = await Contenders.start(
        settings,
        [[str(v), *map(str, rng.sample(clips, len(clips)))] for v in validators],
    )
    try:
        outcomes = await contenders.phase()
        assert sum(o.count("late") for o in outcomes) == len(clips)
        assert sum(o.count("counted") for o in outcomes) == 2 * len(clips)
        assert await earnings_per_clip(engine) == one_of_each(clips)
        pending = await scalar(
            engine, "SELECT balance_minor FROM accounts WHERE owner_id = :id", id=contributor
        )
        assert pending == CLIP_RATE * len(clips)
        released = await contenders.phase()
        assert sum(r["released"] for r in released) == 3 * len(clips)
    finally:
        await contenders.finish()
    await assert_all_released_once(engine, 3 * len(clips))


async def test_the_release_command(engine, container, settings):
    await seed_rates(engine)
    clips = await decided_in_sql(engine, 2)
    await asyncio.gather(*(replay(container, clip) for clip in clips))
    env = {
        "DATABASE_URL": settings.database_url.reveal(),
        "CHORUS_ENV": "test",
        "CHORUS_REWARD_HOLDING_HOURS": "0",
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["rewards", "release", *args], env=env)

    first = await asyncio.to_thread(run, "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {
        "released": 6,
        "batches": 1,
        "totalsMinor": {"NGN": 2 * (CLIP_RATE + 2 * AGREED_RATE)},
    }
    again = await asyncio.to_thread(run)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "Released 0 earning(s) in 0 batch(es)."
    refused = await asyncio.to_thread(run, "--batch-size", "0")
    assert refused.exit_code == 2


async def test_the_worker_releases_matured_earnings_every_few_minutes(engine, container, settings):
    from datetime import timedelta

    from entrypoints.worker.registry import build_periodic_tasks

    await seed_rates(engine)
    clips = await decided_in_sql(engine, 2)
    await asyncio.gather(*(replay(container, clip) for clip in clips))
    tasks = build_periodic_tasks(container, settings)
    assert tasks.intervals["rewards.release"] == timedelta(minutes=5)
    await tasks.get("rewards.release").task()
    await assert_all_released_once(engine, 6)
