"""Bursts of uploads and votes found on real PostgreSQL (counted by creation time), and
``chorus moderation standing`` showing what moderation knows about a member."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from click.testing import CliRunner, Result

from entrypoints.cli.main import cli
from tests.integration.clips.helpers import execute, scalar, vote
from tests.integration.moderation.helpers import clip_by, decide, flag, member


async def test_bursts_of_uploads_and_votes_flag_the_member_once(client, engine, container):
    uploader_id, uploader = await member(client, engine)
    voter_id, voter = await member(client, engine)
    clips = [await clip_by(client, uploader) for _ in range(4)]
    for clip_id in clips:
        assert (await vote(client, voter, clip_id)).status_code == 200
    # Activity older than the hour does not count.
    await execute(engine, "UPDATE voice_clips SET created_at = now() - interval '2 hours' "
                          "WHERE id = :id", id=clips[0])  # fmt: skip
    rules = replace(container.fraud_rules(), uploads_per_hour=2, votes_per_hour=3)
    scan = replace(container.flag_activity_bursts(), rules=rules)

    report = await scan()

    assert (report.upload_bursts, report.vote_bursts) == (1, 1)
    flagged = await scalar(
        engine,
        "SELECT string_agg(target_id::text || ':' || reason, ',' ORDER BY reason) FROM flags "
        "WHERE reporter_id IS NULL",
    )
    assert flagged == f"{uploader_id}:upload_burst,{voter_id}:vote_burst"
    assert await scalar(engine, "SELECT count(*) FROM fraud_signals") == 2
    assert (await scan()).upload_bursts == 0  # while the flag is open, once is enough
    assert await scalar(engine, "SELECT count(*) FROM flags") == 2


async def test_the_standing_command_shows_flags_decisions_accuracy_and_signals(
    client, engine, settings
):
    owner_id, owner = await member(client, engine)
    clip_id = await clip_by(client, owner)
    reporter_id, reporter = await member(client, engine)
    assert (await flag(client, reporter, clip_id, "noise_or_silence")).status_code == 201
    _, moderator = await member(client, engine, "moderator")
    assert (await decide(client, moderator, clip_id, "hide", "noise_or_silence")).status_code == 201
    await execute(
        engine,
        "INSERT INTO fraud_signals (id, profile_id, kind, detail, created_at) VALUES "
        "(gen_random_uuid(), :id, 'vote_burst', '{\"count\": 700}', now())",
        id=owner_id,
    )
    env = {"DATABASE_URL": settings.database_url.reveal(), "CHORUS_ENV": "test"}

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, ["moderation", "standing", *args], env=env)

    as_json = await asyncio.to_thread(run, str(owner_id), "--json")
    assert as_json.exit_code == 0, as_json.output
    standing = json.loads(as_json.stdout)
    assert (standing["status"], standing["payoutsFrozen"]) == ("active", False)
    assert standing["flagsAgainst"] == {"upheld": {"noise_or_silence": 1}}
    assert [(d["action"], d["reason"], d["by"]) for d in standing["decisions"]] == [
        ("hide", "noise_or_silence", "moderator")
    ]
    assert [(s["kind"], s["count"]) for s in standing["fraudSignals"]] == [("vote_burst", 700)]
    assert standing["validation"]["onProbation"] is False
    text = await asyncio.to_thread(run, str(reporter_id))
    assert text.exit_code == 0, text.output
    assert "Flags they raised: upheld 1" in text.stdout
    assert "Fraud signals (0 latest):" in text.stdout
    unknown = await asyncio.to_thread(run, "00000000-0000-4000-8000-000000000000")
    assert unknown.exit_code == 1
    assert "profile_not_found" in unknown.output
