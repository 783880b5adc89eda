"""Benchmark: GET /monetization/queue latency at 100,000 and 1,000,000 pending clips.

    .venv/bin/python bench/queue_latency.py [--sizes 100000 1000000] [--requests 300]

For each size it builds a fresh database (embedded PostgreSQL, or the server in
BENCH_DATABASE_URL), fills it with pending clips in five languages (some already carrying
other validators' votes) plus a validator who voted on 20,000 of them, serves Chorus with
uvicorn on 127.0.0.1, and times sequential queue requests from one client (after a warm-up).
It prints p50/p95/p99 per size, the ratio of the largest size's p99 to the smallest's, and
the EXPLAIN (ANALYZE, BUFFERS) plan of the queue query. Traffic goes to 127.0.0.1 only and
every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.dialects import postgresql

from adapters.auth.dev_tokens import mint_token
from adapters.postgres import migrate
from adapters.postgres.clips import PostgresClipQueue
from adapters.system import SystemClock
from core.domain.clips import ClipStatus, ClipTally, Verdict, Vote
from core.domain.consensus import distance_to_decision
from core.domain.dawid_skene import CrowdModel
from core.domain.validation import ValidationRules
from entrypoints.settings import DEV_JWT_ISSUER, DEV_JWT_SECRET

LANGUAGES = ("yo", "ha", "ig", "sw", "zu")
VALIDATOR_VOTES = 20_000
CONTRIBUTORS = 1_000
GOLD_CLIPS = 1_000
VALIDATOR = uuid.UUID("00000000-0000-4000-8000-00000000beef")


def rank_of(valid_votes: int) -> tuple[float, int]:
    """Log-odds sum and queue rank of a clip holding ``valid_votes`` newcomer votes."""
    policy, model = ValidationRules().policy, CrowdModel()
    newcomer = Vote(VALIDATOR, Verdict.VALID, model.average_validator.evidence(Verdict.VALID))
    tally = ClipTally()
    for _ in range(valid_votes):
        tally = tally.with_counted_vote(newcomer)
    assert policy.decide(tally) is ClipStatus.PENDING
    return tally.log_odds_sum, distance_to_decision(tally, policy, model)


async def populate(url: str, size: int) -> None:
    # Two newcomers' valid votes decide a clip under the default policy: pending clips hold
    # at most one.
    ranks = {votes: rank_of(votes) for votes in (0, 1)}
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            """
            INSERT INTO profiles (id, role, status, languages, created_at, updated_at)
            SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid,
                   'member', 'active', '{}', now(), now()
            FROM generate_series(1, $1) AS i
            """,
            CONTRIBUTORS,
        )
        await connection.execute(
            "INSERT INTO profiles (id, role, status, languages, created_at, updated_at) "
            "VALUES ($1, 'member', 'active', '{}', now(), now())",
            VALIDATOR,
        )
        # Other validators' votes: half the clips have none, half one (two would decide).
        await connection.execute(
            f"""
            INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, audio_key,
                audio_format, mime_type, duration_ms, size_bytes, status, valid_votes,
                invalid_votes, log_odds_sum, is_gold, visibility, queue_rank, created_at)
            SELECT gen_random_uuid(),
                   ('00000000-0000-4000-9000-'
                    || lpad(to_hex(1 + i % {CONTRIBUTORS}), 12, '0'))::uuid,
                   gen_random_uuid(),
                   (ARRAY{list(LANGUAGES)})[1 + i % 5],
                   'A sentence to read aloud', 'clips/bench.wav', 'wav', 'audio/wav', 3000, 96044,
                   'pending', v.votes, 0,
                   CASE v.votes WHEN 0 THEN {ranks[0][0]} ELSE {ranks[1][0]} END,
                   false, 'visible',
                   CASE v.votes WHEN 0 THEN {ranks[0][1]} ELSE {ranks[1][1]} END,
                   now() - make_interval(secs => $1 - i)
            FROM generate_series(1, $1) AS i,
                 LATERAL (SELECT CASE WHEN random() < 0.5 THEN 0 ELSE 1 END AS votes
                          WHERE i > 0) AS v
            """,
            size,
        )
        await connection.execute(
            f"""
            UPDATE voice_clips SET is_gold = true, status = 'accepted', decided_at = now(),
                   queue_rank = 0
            WHERE id IN (SELECT id FROM voice_clips ORDER BY random() LIMIT {GOLD_CLIPS})
            """
        )
        # The validator's 20,000 votes, spread over all languages, on clips that (with
        # their vote) still await a decision: these sit at the front of the queue order.
        await connection.execute(
            f"""
            WITH chosen AS (
                SELECT id FROM voice_clips
                WHERE status = 'pending' AND valid_votes < 1
                ORDER BY random() LIMIT {VALIDATOR_VOTES}
            ), voted AS (
                UPDATE voice_clips c SET valid_votes = 1, established_votes = 1,
                    log_odds_sum = {ranks[1][0]}, queue_rank = {ranks[1][1]}
                FROM chosen WHERE c.id = chosen.id
                RETURNING c.id
            )
            INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy,
                                     on_probation, created_at)
            SELECT gen_random_uuid(), id, $1, 'valid', 'counted', 0.8, false, now() FROM voted
            """,
            VALIDATOR,
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Served:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve(database_url: str, port: int) -> Iterator[Served]:
    env = {
        **os.environ,
        "CHORUS_ENV": "test",
        "DATABASE_URL": database_url,
        "CHORUS_LOG_LEVEL": "WARNING",
        "CHORUS_WRITE_RATE_LIMIT_PER_MINUTE": "100000",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "entrypoints.http.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        yield Served(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(timeout=15)


def bearer_headers(subject: uuid.UUID) -> dict[str, str]:
    """A dev token for ``subject``, valid for an hour."""
    token = mint_token(
        secret=DEV_JWT_SECRET,
        subject=subject,
        now=SystemClock().now(),
        ttl=timedelta(hours=1),
        issuer=DEV_JWT_ISSUER,
    )
    return {"Authorization": f"Bearer {token}"}


async def time_requests(base_url: str, requests: int) -> list[float]:
    headers = bearer_headers(VALIDATOR)
    timings: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10) as client:
        for index in range(requests + 30):
            language = LANGUAGES[index % len(LANGUAGES)]
            started = time.perf_counter()
            response = await client.get(f"/monetization/queue?language={language}&limit=20")
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) == 20
            if index >= 30:  # warm-up excluded
                timings.append(elapsed * 1000)
    return timings


async def explain(url: str) -> str:
    from sqlalchemy.ext.asyncio import create_async_engine

    from adapters.postgres.engine import async_url

    engine = create_async_engine(async_url(url))
    captured: list[str] = []

    class Capture:
        async def execute(self, statement, parameters=None):  # the queue adapter's only call
            if parameters:  # a statement built once, with bound parameters
                statement = statement.params(parameters)
            compiled = statement.compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
            )
            captured.append(str(compiled))
            return []

    queue = PostgresClipQueue(Capture())  # type: ignore[arg-type]
    await queue.pending(VALIDATOR, "yo", 20, now=SystemClock().now(), vote_cap=5)
    await engine.dispose()
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {captured[0]}")
    finally:
        await connection.close()
    return "\n".join(row[0] for row in rows)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run_size(server_url: str, size: int, requests: int) -> dict[str, object]:
    name = f"chorus_bench_{size}_{secrets.token_hex(3)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        await migrate.upgrade(url)
        started = time.perf_counter()
        await populate(url, size)
        print(f"[{size:,}] populated in {time.perf_counter() - started:.1f} s", flush=True)
        with serve(url, free_port()) as served:
            timings = await time_requests(served.url, requests)
        plan = await explain(url)
    finally:
        admin = await asyncpg.connect(server_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "size": size,
        "p50": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "p99": percentile(timings, 0.99),
        "plan": plan,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    server_url = os.environ.get("BENCH_DATABASE_URL")
    handle = None
    if not server_url:
        from adapters.postgres.embedded import start_embedded_postgres

        server_url, handle = start_embedded_postgres(Path(tempfile.mkdtemp()) / "pg")
    try:
        results = [await run_size(server_url, size, args.requests) for size in args.sizes]
    finally:
        if handle is not None:
            handle.cleanup()
    print("\nsize        p50 ms   p95 ms   p99 ms")
    for result in results:
        size, p50, p95, p99 = (result[k] for k in ("size", "p50", "p95", "p99"))
        print(f"{size:>9,}  {p50:7.2f}  {p95:7.2f}  {p99:7.2f}")
    first, last = results[0], results[-1]
    print(f"\np99 ratio {last['size']:,} / {first['size']:,}: {last['p99'] / first['p99']:.2f}")
    for result in results:
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) at {result['size']:,} clips:\n{result['plan']}")


if __name__ == "__main__":
    asyncio.run(main())
