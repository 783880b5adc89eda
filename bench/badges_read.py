"""Benchmark: GET /badges/user/{id} latency with 100 badges and a member with 100,000
contributions.

    .venv/bin/python -m bench.badges_read [--requests 1000]

It builds a fresh database (embedded PostgreSQL, or the server in BENCH_DATABASE_URL)
migrated up to just before badges, writes the history of one member — 60,000 clips over
400 days in five languages and 40,000 heard validations of others' clips — runs migration
0009_badges (whose backfill computes the member's statistics from that history; its time is
printed), adds badges until the catalogue holds 100, lets the worker's real handler award
what the member qualifies for, serves Chorus with uvicorn on 127.0.0.1 and times sequential
requests from one client (after a warm-up): the member reading their own badges (private
badges and the consensus model's record included) and another member reading them. It
prints p50/p95/p99 of both and the EXPLAIN (ANALYZE, BUFFERS) of the statistics read.
Traffic goes to 127.0.0.1 only and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from adapters.postgres import migrate
from bench.queue_latency import bearer_headers, free_port, percentile, serve
from core.domain.events import DomainEvent
from entrypoints.container import Container
from entrypoints.settings import Environment, Secret, load_settings

BEFORE_BADGES = ("0006_consensus_v2", "0003_live", "0004_worker_notifications")
LANGUAGES = ("yo", "ha", "ig", "sw", "zu")
CLIPS, VALIDATIONS, BADGES = 60_000, 40_000, 100
WARM_UP = 50
MEMBER = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000c0c0")
READER = uuid.UUID("00000000-0000-4000-8000-00000000d0d0")


async def history(url: str) -> None:
    """The member's 100,000 contributions, written straight to the tables."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "INSERT INTO profiles (id, role, status, languages, created_at, updated_at) "
            "SELECT id, 'member', 'active', '{}', now(), now() FROM unnest($1::uuid[]) AS id",
            [MEMBER, OTHER, READER],
        )
        clips = f"""
            INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, audio_key,
                audio_format, mime_type, duration_ms, size_bytes, status, queue_rank,
                created_at, decided_at)
            SELECT gen_random_uuid(), $1, gen_random_uuid(), (ARRAY{list(LANGUAGES)})[1 + i % 5],
                   'A sentence', 'clips/bench.wav', 'wav', 'audio/wav', 3000, 96044,
                   CASE WHEN i % 3 = 0 THEN 'rejected' ELSE 'accepted' END, 0,
                   now() - make_interval(mins => (i::bigint * 400 * 1440 / $2)::int),
                   now() - make_interval(mins => (i::bigint * 400 * 1440 / $2)::int)
            FROM generate_series(1, $2) AS i
        """
        await connection.execute(clips, MEMBER, CLIPS)
        await connection.execute(clips, OTHER, VALIDATIONS)
        await connection.execute(
            """
            INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy,
                                     on_probation, created_at)
            SELECT gen_random_uuid(), id, $1, 'valid', 'counted', 0.9, false, created_at
            FROM voice_clips WHERE contributor_id = $2
            """,
            MEMBER,
            OTHER,
        )
        await connection.execute(
            "INSERT INTO validator_stats (validator_id, gold_right, gold_wrong, "
            "consensus_agreed, n11, n00, on_probation, published_accuracy, published_at, "
            "updated_at) VALUES ($1, 380, 20, 30000, 190, 190, false, 0.95, now(), now())",
            MEMBER,
        )
    finally:
        await connection.close()


async def catalogue(url: str) -> None:
    """Badges up to 100: thresholds over every metric, per language and currency."""
    connection = await asyncpg.connect(url)
    try:
        have = await connection.fetchval("SELECT count(*) FROM badges")
        rows = []
        metrics = ("clips_submitted", "clips_accepted", "validations")
        for n in range(BADGES - have):
            metric = metrics[n % 3]
            language = LANGUAGES[n % 5] if n % 2 else None
            rows.append((f"bench-{n}", f"Bench {n}", metric, 10 ** (1 + n % 6), language))
        await connection.executemany(
            "INSERT INTO badges (id, code, name, metric, threshold, language, position) "
            "VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, 100)",
            rows,
        )
        await connection.execute(
            "UPDATE validator_stats SET published_gold_answers = 400 WHERE validator_id = $1",
            MEMBER,
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def award(url: str) -> int:
    """Let the worker's handler see one more contribution of each kind: it awards what the
    member's statistics qualify for."""
    settings = load_settings({}, environment=Environment.TEST)
    container = Container(settings=replace(settings, database_url=Secret(url)))
    handler = container.record_member_activity()
    now = datetime.now(UTC)
    for name, payload in (
        ("clip.submitted", {"profileId": str(MEMBER), "language": "yo"}),
        ("clip.decided", {"contributorId": str(MEMBER), "status": "accepted", "language": "yo"}),
        (
            "validation.submitted",
            {"profileId": str(MEMBER), "language": "ha", "outcome": "counted"},
        ),
    ):
        await handler(DomainEvent(uuid.uuid4(), name, now, payload))
    await container.award_standing_badges()()
    await container.engine().dispose()
    connection = await asyncpg.connect(url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM user_badges"))
    finally:
        await connection.close()


async def time_requests(base_url: str, reader: uuid.UUID, requests: int) -> list[float]:
    headers = bearer_headers(reader)
    timings: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        for index in range(requests + WARM_UP):
            started = time.perf_counter()
            response = await client.get(f"/badges/user/{MEMBER}")
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text
            body = response.json()
            assert len(body["earned"]) + len(body["progress"]) > 50
            if index >= WARM_UP:
                timings.append(elapsed * 1000)
    return timings


async def explain(url: str) -> str:
    from adapters.postgres.member_stats import _STATS_SQL

    connection = await asyncpg.connect(url)
    try:
        query = _STATS_SQL.replace(":profile_id", "$1")
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {query}", MEMBER)
    finally:
        await connection.close()
    return "\n".join(row[0] for row in rows)


async def run(server_url: str, requests: int) -> None:
    name = f"chorus_bench_badges_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        for revision in BEFORE_BADGES:
            await migrate.upgrade(url, revision)
        started = time.perf_counter()
        await history(url)
        print(f"history written in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        await migrate.upgrade(url)
        print(f"migration 0009_badges (with backfill) in {time.perf_counter() - started:.1f} s")
        await catalogue(url)
        print(f"badges awarded by the worker's handler: {await award(url)}", flush=True)
        with serve(url, free_port()) as served:
            before = served.cpu_seconds()
            own = await time_requests(served.url, MEMBER, requests)
            other = await time_requests(served.url, READER, requests)
            cpu_ms = (served.cpu_seconds() - before) * 1000 / (2 * (requests + WARM_UP))
        plan = await explain(url)
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(f"\n{BADGES} badges, member with {CLIPS + VALIDATIONS:,} contributions, {requests} "
          "sequential requests each\n")  # fmt: skip
    print("reader            p50 ms   p95 ms   p99 ms")
    for label, timings in (("the member", own), ("another member", other)):
        p50, p95, p99 = statistics.median(timings), *(percentile(timings, q) for q in (0.95, 0.99))
        print(f"{label:<16}  {p50:7.2f}  {p95:7.2f}  {p99:7.2f}")
    print(f"\nserver CPU per request (user + system, uvicorn process): {cpu_ms:.2f} ms")
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the statistics read:\n{plan}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    if not 1 <= args.requests <= 20_000:
        parser.error("--requests must be 1..20000")
    server_url = os.environ.get("BENCH_DATABASE_URL")
    handle = None
    if not server_url:
        from adapters.postgres.embedded import start_embedded_postgres

        server_url, handle = start_embedded_postgres(Path(tempfile.mkdtemp()) / "pg")
    try:
        await run(server_url, args.requests)
    finally:
        if handle is not None:
            handle.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
