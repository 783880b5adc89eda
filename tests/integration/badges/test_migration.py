"""Migration 0009_badges on a database with history: the default catalogue, the backfill of
member statistics, the outbox jobs it already counted, and the way back down."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from adapters.postgres import migrate
from adapters.postgres.engine import create_engine
from adapters.postgres.ledger import PostgresLedgerRepository
from core.domain.ledger import reward_earned
from core.domain.money import Money
from tests.integration.database import admin_connection

BEFORE = ("0006_consensus_v2", "0003_live", "0004_worker_notifications")
DAY = datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.fixture
async def sibling_url(database_url: str) -> AsyncIterator[str]:
    """A database of its own on the session's server, migrated up to just before badges."""
    name = f"chorus_migration_{secrets.token_hex(4)}"
    admin = await admin_connection(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        for revision in BEFORE:
            await migrate.upgrade(url, revision)
        yield url
    finally:
        admin = await admin_connection(database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def test_upgrade_seeds_the_catalogue_backfills_statistics_and_downgrades(sibling_url):
    ada, bob = uuid.uuid4(), uuid.uuid4()
    pending_job = uuid.uuid4()
    engine = create_engine(sibling_url, pool_size=2, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await _history(connection, ada, bob, pending_job)
        await migrate.upgrade(sibling_url)

        async with engine.connect() as connection:
            codes = (await connection.execute(sa.text("SELECT code FROM badges"))).scalars()
            assert {"clips-accepted-5", "accuracy-95", "streak-7", "weekly-goal"} <= set(codes)
            languages = (
                await connection.execute(
                    sa.text(
                        "SELECT profile_id, language, clips_submitted, clips_accepted, validations "
                        "FROM member_language_stats ORDER BY profile_id = :ada DESC, language"
                    ),
                    {"ada": ada},
                )
            ).all()
            assert [tuple(row)[1:] for row in languages if row.profile_id == ada] == [
                ("ha", 1, 0, 0),
                ("yo", 3, 2, 0),  # the removed clip is submitted, not accepted
            ]
            assert [tuple(row)[1:] for row in languages if row.profile_id == bob] == [
                ("yo", 0, 0, 1)  # the rushed vote does not count
            ]
            stats = (
                await connection.execute(
                    sa.text("SELECT * FROM member_stats WHERE profile_id = :ada"), {"ada": ada}
                )
            ).one()
            assert stats.streams_hosted == 1
            assert stats.longest_streak == 2
            assert stats.streak_runs == [
                DAY.date(),
                DAY.date() + timedelta(days=1),
                DAY.date() + timedelta(days=3),
                DAY.date() + timedelta(days=3),
            ]
            earned = await connection.scalar(
                sa.text("SELECT lifetime_minor FROM member_earnings WHERE profile_id = :ada"),
                {"ada": ada},
            )
            assert earned == 50_000
            marked = (
                await connection.execute(
                    sa.text("SELECT event_id, profile_id FROM member_stat_events")
                )
            ).all()
            assert [tuple(row) for row in marked] == [(pending_job, ada)]

        await migrate.downgrade(sibling_url, "0006_consensus_v2")
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT to_regclass('badges')")) is None
            columns = await connection.scalar(
                sa.text(
                    "SELECT count(*) FROM information_schema.columns "
                    "WHERE table_name = 'profiles' AND column_name = 'time_zone'"
                )
            )
            assert columns == 0
        await migrate.upgrade(sibling_url)
        assert await migrate.is_at_head(engine)
    finally:
        await engine.dispose()


async def _history(connection, ada: uuid.UUID, bob: uuid.UUID, pending_job: uuid.UUID) -> None:
    async def run(sql: str, **params: object) -> None:
        await connection.execute(sa.text(sql), params)

    for member in (ada, bob):
        await run(
            "INSERT INTO profiles (id, role, status, languages, created_at, updated_at) "
            "VALUES (:id, 'member', 'active', '{}', now(), now())",
            id=member,
        )
    clips = []
    for day, language, status, visibility in (
        (0, "yo", "accepted", "visible"),
        (1, "yo", "accepted", "visible"),
        (1, "yo", "accepted", "removed"),
        (3, "ha", "pending", "visible"),
    ):
        clip = uuid.uuid4()
        clips.append(clip)
        await run(
            "INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, audio_key, "
            "audio_format, mime_type, duration_ms, size_bytes, status, visibility, queue_rank, "
            "created_at, decided_at) VALUES (:id, :ada, :id, :language, 'p', 'k', 'wav', "
            "'audio/wav', 2000, 100, :status, :visibility, 0, :at, "
            "CASE WHEN :status = 'pending' THEN NULL ELSE CAST(:at AS timestamptz) END)",
            id=clip, ada=ada, language=language, status=status, visibility=visibility,
            at=DAY + timedelta(days=day),
        )  # fmt: skip
    for outcome, clip in (("counted", clips[0]), ("too_fast", clips[1])):
        await run(
            "INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy, "
            "on_probation, created_at) VALUES (:id, :clip, :bob, 'valid', :outcome, 0.8, false, "
            ":at)",
            id=uuid.uuid4(), clip=clip, bob=bob, outcome=outcome, at=DAY,
        )  # fmt: skip
    await run(
        "INSERT INTO live_streams (id, host_id, title, language, room_name, status, started_at) "
        "VALUES (:id, :ada, 'Live', 'yo', :room, 'live', :at)",
        id=uuid.uuid4(), ada=ada, room=f"room-{uuid.uuid4()}", at=DAY,
    )  # fmt: skip
    ledger = PostgresLedgerRepository(connection)
    await ledger.post(
        reward_earned(
            transaction_id=uuid.uuid4(),
            profile_id=ada,
            clip_id=clips[0],
            reward_kind="clip_accepted",
            amount=Money(50_000, "NGN"),
            occurred_at=DAY,
        )
    )
    for job, status in ((pending_job, "pending"), (uuid.uuid4(), "done")):
        await run(
            "INSERT INTO outbox (id, name, payload, occurred_at, status, available_at) "
            "VALUES (:id, 'clip.submitted', CAST(:payload AS jsonb), now(), :status, now())",
            id=job, payload=f'{{"profileId": "{ada}", "language": "yo"}}', status=status,
        )  # fmt: skip
