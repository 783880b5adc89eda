"""One command to benchmark the four endpoints compared with the NestJS peer: ``GET /health``,
``GET /monetization/queue``, ``GET /monetization/balance`` and ``POST /monetization/validate``
— req/s, p50/p99, non-2xx, and CPU milliseconds per request of the app and of PostgreSQL.

Usage (from the repository root; bounded, 127.0.0.1 only)::

    .venv/bin/python bench/endpoints.py [--seconds 10] [--warmup 2] [--connections 32]
        [--workers 1] [--endpoints health,queue,balance,validate]
        [--members 10000] [--clips 200000] [--json results.json]

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/endpoints.py --seconds 5 [--pg-scope database|cluster]

Operators' knobs pass through the environment (``CHORUS_DB_POOL_SIZE``,
``CHORUS_DB_MAX_OVERFLOW``, …); ``--workers`` is ``chorus serve --workers``.

What one run does:

1. Database: a throwaway database on an embedded PostgreSQL of its own (``pgserver``, removed
   afterwards), or on ``BENCH_DATABASE_URL``'s server (dropped afterwards); migrated with
   Chorus's own migrations.
2. Data, the peer's shape (``../shared/peer/schema.sql`` + ``ledger-history.sql``):
   ``--members`` active members; ``--clips`` pending clips in five languages, 30 % with a first
   counted vote by another member (80 % ``valid``); ``2 × --members`` clips accepted two days
   ago with two agreeing votes each, and their rewards (50 to the contributor, 10 to each
   validator) posted through Chorus's ledger adapter, so every member has a balance and a
   history; reward rates; ``VACUUM ANALYZE``.
3. ``chorus serve`` in production mode as ``../shared/peer/run-chorus.sh`` starts it
   (``CHORUS_ENV=production``, an HS256 secret and issuer, ``majority`` policy, gold rate 0,
   default rate limits and log level; its log goes to a file), on a free port of 127.0.0.1.
4. Per endpoint, ``--connections`` keep-alive connections of the lean client
   (``bench/lean_client.py``), one request in flight on each: ``--warmup`` seconds, then
   ``--seconds`` measured.

   - health: ``GET /health``;
   - queue: ``GET /monetization/queue?language=…&limit=10``, a random caller of ``--callers``
     members and a random language (as the peer's wrk script);
   - balance: ``GET /monetization/balance``, a random caller;
   - validate: votes that count, in rounds. Each connection plays one validator (the next
     members in turn, so each votes a few times per round, like a person): first served a page
     of 50 clips in their language by the real queue (not measured), then voting on clips of
     that page (measured). Each served clip gets, from validators it was served to, votes of
     one verdict (80 % ``valid``) until the ``majority`` policy decides it — one on a clip whose
     first vote agrees, else two — so every vote counts whatever the order and the last one
     decides and pays; every validator then keeps as many votes as the least busy one (at most
     10, fewer when the time left calls for a shorter round), so the connections stay busy
     together. The listening rule is ``CHORUS_MIN_LISTEN_FRACTION``
     (``--listen-fraction``, default 0: no waiting; above 0 each round waits until its clips
     could have been heard). CPU is measured over whole vote phases (nothing in flight at
     either end), req/s over their busy part (until the first validator is done); the
     outcomes the app answered are listed, so votes that did not count would show.

5. CPU from ``/proc/<pid>/stat`` (utime + stime, and cutime + cstime of waited-for children;
   ``bench/proc_cpu.py``), deltas over the measured window: the app (``chorus serve`` and its
   worker processes), PostgreSQL (``--pg-scope cluster``: the postmaster and all its children,
   the default for the embedded cluster, which serves only this run; ``database``: the
   backends of the throwaway database, sampled every 50 ms, the default on a shared server)
   and this load generator. "others" is the share of the machine's CPU (``/proc/stat``) that
   went to none of them: other jobs, or accounting gone wrong if it is much below 0.

Output: a Markdown table per endpoint (requests, req/s, p50/p99 ms, non-2xx, socket errors, CPU
ms per request of app / PostgreSQL / load generator, others' CPU share), the statuses, the
validate outcomes, and with ``--json PATH`` the same as JSON. The client is Python: p50/p99
include its own event loop's queueing, and its CPU shares the machine (it is reported).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import math
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from lean_client import LeanConnection, LeanResponse  # bench/lean_client.py, beside this script
from proc_cpu import (  # beside this script
    TICKS_PER_SECOND,
    DatabaseBackends,
    ProcessTree,
    machine_busy_ticks,
    postmaster_of,
)
from queue_latency import free_port  # beside this script
from validate_throughput import ROOT, percentile, throwaway_database  # beside this script

from adapters.auth.dev_tokens import mint_token
from adapters.postgres import migrate
from adapters.postgres.engine import create_engine
from adapters.postgres.ledger import PostgresLedgerRepository
from core.domain.clips import ClipStatus, ClipTally
from core.domain.consensus import MajorityPolicy, distance_to_decision
from core.domain.ledger import reward_earned
from core.domain.money import Money

ENDPOINTS = ("health", "queue", "balance", "validate")
LANGUAGES = ("en", "yo", "ha", "ig", "sw")
# As ../shared/peer/run-chorus.sh (Chorus refuses HS256 secrets under 32 characters).
SECRET = "bench-secret-for-chorus-0123456789abcdef"  # noqa: S105 - a benchmark's own
ISSUER = "https://bench.supabase.co/auth/v1"
NEWCOMER_WEIGHT = math.log(0.8 / 0.2)  # one counted newcomer vote's log-odds
CLIP_MS = 4000
LEDGER_BATCH = 5000
SERVE_PAGE = 50
ROUND_VOTES = 10  # at most, per validator and round


def member_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


# -- the data set ----------------------------------------------------------------------------


def _rank(valid: int, invalid: int) -> int:
    tally = ClipTally(
        ClipStatus.PENDING, valid, invalid, (valid - invalid) * NEWCOMER_WEIGHT,
        established_votes=valid + invalid,
    )  # fmt: skip
    return distance_to_decision(tally, MajorityPolicy())


async def seed(url: str, members: int, clips: int) -> dict[str, int]:
    """The peer's data set in Chorus's tables (see the module's docstring)."""
    member = "('00000000-0000-4000-8000-' || lpad(to_hex({}), 12, '0'))::uuid"
    langs = "(ARRAY" + str(list(LANGUAGES)) + ")"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SELECT setseed(0.42)")
        await connection.execute(
            f"""INSERT INTO profiles (id, role, status, display_name, languages, created_at,
                                      updated_at)
            SELECT {member.format("g")}, 'member', 'active', 'member ' || g,
                   ARRAY[{langs}[1 + g % 5]], now() - interval '90 days',
                   now() - interval '90 days'
            FROM generate_series(1, $1) g""",
            members,
        )
        contributor = member.format(f"1 + (g::bigint * 7919) % {members}")
        await connection.execute(
            f"""INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt,
                audio_key, audio_format, mime_type, duration_ms, size_bytes, status, valid_votes,
                invalid_votes, log_odds_sum, is_gold, visibility, queue_rank, created_at)
            SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                   {contributor}, gen_random_uuid(), {langs}[1 + g % 5],
                   'Read this sentence aloud.', 'bench/' || g || '.wav', 'wav', 'audio/wav',
                   {CLIP_MS}, 128000, 'pending', 0, 0, 0, false, 'visible', {_rank(0, 0)},
                   now() - make_interval(secs => g)
            FROM generate_series(1, $1) g""",
            clips,
        )
        voter = member.format(f"1 + (g::bigint * 104729) % {members}")
        await connection.execute(
            f"""WITH first AS (
                SELECT ('10000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid AS clip_id,
                       {voter} AS validator_id, random() < 0.8 AS ok
                FROM generate_series(1, $1) g WHERE g % 10 < 3
            ), stored AS (
                INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy,
                                         on_probation, created_at)
                SELECT gen_random_uuid(), f.clip_id, f.validator_id,
                       CASE WHEN f.ok THEN 'valid' ELSE 'invalid' END, 'counted', 0.8, false,
                       c.created_at + interval '1 minute'
                FROM first f JOIN voice_clips c ON c.id = f.clip_id
                WHERE c.contributor_id <> f.validator_id
                RETURNING clip_id, verdict
            )
            UPDATE voice_clips c
            SET valid_votes = (s.verdict = 'valid')::int,
                invalid_votes = (s.verdict = 'invalid')::int, established_votes = 1,
                log_odds_sum = CASE s.verdict WHEN 'valid' THEN {NEWCOMER_WEIGHT}
                                              ELSE {-NEWCOMER_WEIGHT} END,
                queue_rank = CASE s.verdict WHEN 'valid' THEN {_rank(1, 0)} ELSE {_rank(0, 1)} END
            FROM stored s WHERE c.id = s.clip_id""",
            clips,
        )
        # History: 2 × members clips accepted two days ago, each with two agreeing votes by
        # the contributor's two neighbours (ledger-history.sql).
        await connection.execute(
            f"""INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt,
                audio_key, audio_format, mime_type, duration_ms, size_bytes, status, valid_votes,
                invalid_votes, established_votes, log_odds_sum, is_gold, visibility, queue_rank,
                created_at, decided_at)
            SELECT ('20000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                   {contributor}, gen_random_uuid(), {langs}[1 + g % 5],
                   'Read this sentence aloud.', 'bench/h' || g || '.wav', 'wav', 'audio/wav',
                   {CLIP_MS}, 128000, 'accepted', 2, 0, 2, {2 * NEWCOMER_WEIGHT}, false,
                   'visible', 0, now() - interval '2 days' - make_interval(secs => g),
                   now() - interval '2 days' - make_interval(secs => g) + interval '1 hour'
            FROM generate_series(1, $1) g""",
            2 * members,
        )
        neighbour = member.format(f"1 + ((g::bigint * 7919) % {members} + k) % {members}")
        await connection.execute(
            f"""INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy,
                                         on_probation, created_at)
            SELECT gen_random_uuid(),
                   ('20000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
                   {neighbour}, 'valid', 'counted', 0.8, false,
                   now() - interval '2 days' - make_interval(secs => g)
                       + make_interval(mins => k)
            FROM generate_series(1, $1) g, generate_series(1, 2) k""",
            2 * members,
        )
        await connection.execute(
            "INSERT INTO validator_stats (validator_id, consensus_agreed, consensus_disagreed) "
            "SELECT v.validator_id, "
            "count(*) FILTER (WHERE (v.verdict = 'valid') = (c.status = 'accepted')), "
            "count(*) FILTER (WHERE (v.verdict = 'valid') <> (c.status = 'accepted')) "
            "FROM validations v JOIN voice_clips c ON c.id = v.clip_id "
            "WHERE c.status IN ('accepted', 'rejected') GROUP BY v.validator_id"
        )
        await connection.execute(
            "INSERT INTO reward_rates (id, kind, amount_minor, currency, valid_from, created_at) "
            "VALUES (gen_random_uuid(), 'clip_accepted', 50, 'NGN', now() - interval '30 days', "
            "now()), (gen_random_uuid(), 'validation_agreed', 10, 'NGN', "
            "now() - interval '30 days', now())"
        )
        earnings = await connection.fetch(
            """SELECT v.validator_id AS profile_id, 10 AS amount, 'validation_agreed' AS kind,
                      c.id AS clip_id, c.decided_at
               FROM validations v JOIN voice_clips c ON c.id = v.clip_id
               WHERE c.status = 'accepted'
               UNION ALL
               SELECT contributor_id, 50, 'clip_accepted', id, decided_at
               FROM voice_clips WHERE status = 'accepted'
               ORDER BY decided_at"""
        )
    finally:
        await connection.close()
    journal = [
        reward_earned(
            transaction_id=uuid.uuid4(),
            profile_id=e["profile_id"],
            clip_id=e["clip_id"],
            reward_kind=e["kind"],
            amount=Money(e["amount"], "NGN"),
            occurred_at=e["decided_at"],
        )
        for e in earnings
    ]
    print(f"  rows written; posting {len(journal):,} earnings …", file=sys.stderr, flush=True)
    engine = create_engine(url, pool_size=1, max_overflow=0, statement_timeout_ms=600_000)
    try:
        for start in range(0, len(journal), LEDGER_BATCH):
            async with engine.begin() as ledger:  # the ledger's deferred checks run at COMMIT
                posted = await PostgresLedgerRepository(ledger).post_all(
                    journal[start : start + LEDGER_BATCH]
                )
                assert all(posted), "a seeded earning was already in the journal"
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE")
        # Write the seeding's dirty pages now, not during the measured windows.
        await connection.execute("CHECKPOINT")
        counts = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM profiles) AS members, "
            "(SELECT count(*) FROM voice_clips WHERE status = 'pending') AS pending_clips, "
            "(SELECT count(*) FROM validations) AS votes, "
            "(SELECT count(*) FROM transactions) AS ledger_transactions"
        )
    finally:
        await connection.close()
    return dict(counts)


# -- the server ------------------------------------------------------------------------------


def chorus_environment(url: str, scratch: Path, workers: int, listen_fraction: float) -> dict:
    """The caller's environment (knobs such as CHORUS_DB_POOL_SIZE pass through) with
    run-chorus.sh's CHORUS_VARS over it."""
    env = {
        **os.environ,
        "CHORUS_ENV": "production",
        "SUPABASE_JWT_SECRET": SECRET,
        "CHORUS_JWT_ISSUER": ISSUER,
        "CHORUS_CONSENSUS_POLICY": "majority",
        "CHORUS_GOLD_RATE": "0",
        "CHORUS_DATA_DIR": str(scratch / "data"),
        "CHORUS_MIN_LISTEN_FRACTION": str(listen_fraction),
        "DATABASE_URL": url,
    }
    env.pop("SUPABASE_URL", None)
    if workers > 1:  # chorus serve would make one itself and leave it behind
        env["PROMETHEUS_MULTIPROC_DIR"] = str(scratch / "metrics")
        (scratch / "metrics").mkdir(exist_ok=True)
    return env


@contextlib.contextmanager
def chorus_serve(env: dict, port: int, workers: int, log: Path) -> Iterator[int]:
    """``chorus serve`` in its own process group; yields its pid once every worker is up."""
    chorus = Path(sys.executable).with_name("chorus")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                chorus,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count("Application startup complete") < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"chorus serve did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield process.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- measuring -------------------------------------------------------------------------------


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Cpu:
    """CPU used during measured windows, in seconds, and the windows' wall time."""

    wall: float = 0.0
    app: float = 0.0
    postgres: float = 0.0
    load_generator: float = 0.0
    machine: float = 0.0
    app_processes: Counter[int] = field(default_factory=Counter)
    windows: list[tuple[float, float]] = field(default_factory=list)  # epoch seconds


@dataclass(frozen=True)
class Snapshot:
    app: dict[int, int]
    postgres: int
    own: float
    busy: int
    wall: float
    epoch: float


class Meter:
    """CPU of the app, PostgreSQL, this process and the machine over measured windows."""

    def __init__(self, app: ProcessTree, postgres: ProcessTree | DatabaseBackends) -> None:
        self.app, self.postgres = app, postgres

    def start(self) -> Snapshot:
        if isinstance(self.postgres, DatabaseBackends):
            self.postgres.start()
            pg = 0
        else:
            pg = self.postgres.ticks()
        app, own = self.app.per_process(), _own_cpu_seconds()
        return Snapshot(app, pg, own, machine_busy_ticks(), time.perf_counter(), time.time())

    def stop(self, start: Snapshot, into: Cpu) -> None:
        wall, busy = time.perf_counter(), machine_busy_ticks()
        app, own = self.app.per_process(), _own_cpu_seconds()
        if isinstance(self.postgres, DatabaseBackends):
            pg = self.postgres.stop()
        else:
            pg = self.postgres.ticks() - start.postgres
        into.wall += wall - start.wall
        into.windows.append((round(start.epoch, 2), round(start.epoch + wall - start.wall, 2)))
        into.app += (sum(app.values()) - sum(start.app.values())) / TICKS_PER_SECOND
        into.postgres += pg / TICKS_PER_SECOND
        into.load_generator += own - start.own
        into.machine += (busy - start.busy) / TICKS_PER_SECOND
        for pid, ticks in app.items():
            into.app_processes[pid] += ticks - start.app.get(pid, 0)

    @contextlib.contextmanager
    def window(self, into: Cpu) -> Iterator[None]:
        start = self.start()
        yield
        self.stop(start, into)


@dataclass
class Result:
    endpoint: str
    latencies: list[float] = field(default_factory=list)  # seconds, measured requests only
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # validate: what the app answered
    busy_requests: int = 0  # validate: answered while every connection was busy
    busy_seconds: float = 0.0
    planned_votes: int = 0
    planned_decisions: int = 0
    queue_items: int = 0
    rounds: int = 0
    cpu: Cpu = field(default_factory=Cpu)

    def record(self, began: float, response: LeanResponse) -> None:
        self.latencies.append(time.perf_counter() - began)
        self.statuses[response.status] += 1

    def summary(self) -> dict:
        n, cpu = len(self.latencies), self.cpu
        per_request = 1000 / n if n else float("nan")
        ms = sorted(x * 1000 for x in self.latencies)
        cpus = os.cpu_count() or 1
        accounted = cpu.app + cpu.postgres + cpu.load_generator
        return {
            "endpoint": self.endpoint,
            "requests": n,
            "seconds": round(cpu.wall, 3),
            "req_per_s": round(
                self.busy_requests / self.busy_seconds if self.busy_seconds else n / cpu.wall, 1
            )
            if cpu.wall
            else 0.0,
            "p50_ms": round(statistics.median(ms), 2) if ms else None,
            "p99_ms": round(percentile(ms, 0.99), 2) if ms else None,
            "non_2xx": sum(c for s, c in self.statuses.items() if not 200 <= s < 300),
            "socket_errors": sum(self.errors.values()),
            "statuses": {str(s): c for s, c in sorted(self.statuses.items())},
            "errors": dict(self.errors),
            "cpu_ms_per_request": {
                "app": round(cpu.app * per_request, 3),
                "postgres": round(cpu.postgres * per_request, 3),
                "load_generator": round(cpu.load_generator * per_request, 3),
            },
            "cpu_seconds": {k: round(v, 3) for k, v in asdict(cpu).items() if isinstance(v, float)},
            "windows": cpu.windows,
            "app_cpu_seconds_per_process": {
                str(pid): round(t / TICKS_PER_SECOND, 2) for pid, t in cpu.app_processes.items()
            },
            "others_cpu_share": round((cpu.machine - accounted) / (cpus * cpu.wall), 3)
            if cpu.wall
            else None,
            **(
                {"queue_items_per_page": round(self.queue_items / n, 2)} if self.queue_items else {}
            ),
            **(
                {
                    "rounds": self.rounds,
                    "planned_votes": self.planned_votes,
                    "planned_decisions": self.planned_decisions,
                    "outcomes": dict(self.outcomes),
                    "busy_requests": self.busy_requests,
                    "busy_seconds": round(self.busy_seconds, 3),
                }
                if self.endpoint == "validate"
                else {}
            ),
        }


class Callers:
    """Bearer tokens, minted once per member."""

    def __init__(self) -> None:
        self._tokens: dict[int, dict[str, str]] = {}

    def headers(self, n: int) -> dict[str, str]:
        if n not in self._tokens:
            token = mint_token(
                secret=SECRET,
                subject=member_id(n),
                now=datetime.now(UTC),
                ttl=timedelta(hours=2),
                issuer=ISSUER,
            )
            self._tokens[n] = {"Authorization": f"Bearer {token}"}
        return self._tokens[n]


async def _exchange(
    connections: list[LeanConnection],
    index: int,
    result: Result,
    call: Callable[[LeanConnection], Awaitable[LeanResponse]],
    base: str,
) -> LeanResponse | None:
    """One request; a broken connection is counted as a socket error and replaced."""
    try:
        return await call(connections[index])
    except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError) as error:
        result.errors[type(error).__name__] += 1
        with contextlib.suppress(Exception):
            await connections[index].aclose()
        connections[index] = LeanConnection(base)
        return None


async def closed_loop(
    base: str,
    result: Result,
    connections: int,
    seconds: float,
    request: Callable[[LeanConnection, random.Random], Awaitable[LeanResponse]],
    meter: Meter,
    warmup: float,
) -> None:
    """``connections`` connections, each sending the next request when the last is answered:
    ``warmup`` seconds unrecorded, then ``seconds`` recorded (CPU measured over them)."""
    pool = [LeanConnection(base) for _ in range(connections)]
    scratch = Result(result.endpoint)

    async def one(index: int, until: float, into: Result) -> None:
        rng = random.Random(index)
        while time.monotonic() < until:
            began = time.perf_counter()
            response = await _exchange(pool, index, into, lambda c: request(c, rng), base)
            if response is not None:
                into.record(began, response)
                if result.endpoint == "queue" and response.status == 200:
                    into.queue_items += len(response.json()["items"])

    try:
        stop = time.monotonic() + warmup
        await asyncio.gather(*(one(i, stop, scratch) for i in range(connections)))
        with meter.window(result.cpu):
            stop = time.monotonic() + seconds
            await asyncio.gather(*(one(i, stop, result) for i in range(connections)))
    finally:
        for connection in pool:
            with contextlib.suppress(Exception):
                await connection.aclose()


def plan_votes(
    served: dict[int, list[uuid.UUID]], tallies: dict[uuid.UUID, tuple[str, int, int, int]],
    rng: random.Random, most: int,
) -> tuple[dict[int, list[tuple[uuid.UUID, str]]], int]:  # fmt: skip
    """Votes for the validators of a round, each on a clip served to them: per clip, votes of
    one verdict until the ``majority`` policy decides it (within the vote cap), from distinct
    validators it was served to, the least loaded first. All votes on a clip agree, so each
    counts whatever the order, and the last decides. Then every validator keeps as many as
    the least busy one has, at most ``most`` (a random choice of theirs; dropped votes are not
    sent, the kept ones still count), so that all connections stay busy until the round's
    end. Returns the plan and how many clips it decides."""
    policy = MajorityPolicy()
    load: Counter[int] = Counter(dict.fromkeys(served, 0))
    offered: dict[uuid.UUID, list[int]] = {}
    for validator, clips in served.items():
        for clip in clips:
            offered.setdefault(clip, []).append(validator)
    plan: dict[int, list[tuple[uuid.UUID, str]]] = {v: [] for v in served}
    deciding: dict[uuid.UUID, list[int]] = {}
    for clip, validators in offered.items():
        status, valid, invalid, established = tallies[clip]
        if status != ClipStatus.PENDING.value:
            continue
        verdict = "valid" if rng.random() < 0.8 else "invalid"
        voters: list[int] = []
        for validator in sorted(validators, key=lambda v: load[v]):
            if valid + invalid >= policy.config.vote_cap:
                break
            voters.append(validator)
            valid, invalid = (valid + 1, invalid) if verdict == "valid" else (valid, invalid + 1)
            established += 1
            tally = ClipTally(ClipStatus.PENDING, valid, invalid, established_votes=established)
            if policy.decide(tally) is not ClipStatus.PENDING:
                deciding[clip] = voters
                break
        for validator in voters:
            plan[validator].append((clip, verdict))
            load[validator] += 1
    each = min([most, *(len(votes) for votes in plan.values() if votes)])
    for validator, votes in plan.items():
        rng.shuffle(votes)
        plan[validator] = votes[:each]
    kept = {(validator, clip) for validator, votes in plan.items() for clip, _ in votes}
    decisions = sum(all((v, clip) in kept for v in vs) for clip, vs in deciding.items())
    return plan, decisions


async def serve_round(
    base: str, pool: list[LeanConnection], validators: list[int], callers: Callers, into: Result
) -> dict[int, list[uuid.UUID]]:
    """Each validator (on connection ``index``) is served a page in their language."""
    served: dict[int, list[uuid.UUID]] = {}

    async def serve(index: int, validator: int) -> None:
        language = LANGUAGES[validator % len(LANGUAGES)]
        path = f"/monetization/queue?language={language}&limit={SERVE_PAGE}"
        headers = callers.headers(validator)
        response = await _exchange(pool, index, into, lambda conn: conn.get(path, headers), base)
        if response is None or response.status != 200:
            raise SystemExit(f"serving failed: {response}")
        served[validator] = [uuid.UUID(item["id"]) for item in response.json()["items"]]

    await asyncio.gather(*(serve(i, v) for i, v in enumerate(validators)))
    return served


def post_vote(
    connection: LeanConnection, body: dict[str, str], headers: dict[str, str]
) -> Awaitable[LeanResponse]:
    return connection.post_json("/monetization/validate", body, headers)


async def vote_round(
    base: str,
    pool: list[LeanConnection],
    plan: dict[int, list[tuple[uuid.UUID, str]]],
    callers: Callers,
    into: Result,
    meter: Meter,
) -> None:
    """Each validator (one per connection) casts their planned votes one after another. CPU
    is measured over the whole round (no request in flight at either end, so its CPU per
    request is exact); the rate over its busy part, until the first validator is done (after
    that, connections fall idle one by one)."""
    busy_over = asyncio.Event()

    async def votes(index: int, validator: int) -> None:
        headers = callers.headers(validator)
        for clip, verdict in plan[validator]:
            body = {"clipId": str(clip), "verdict": verdict}
            began = time.perf_counter()
            response = await _exchange(
                pool,
                index,
                into,
                functools.partial(post_vote, body=body, headers=headers),
                base,
            )
            if response is None:
                continue
            into.record(began, response)
            if not busy_over.is_set():
                into.busy_requests += 1
            if response.status == 200:
                answer = response.json()
                decided = " (decided)" if answer["decided"] else ""
                into.outcomes[answer["outcome"] + decided] += 1
        busy_over.set()

    start = meter.start()
    tasks = [asyncio.ensure_future(votes(i, v)) for i, v in enumerate(plan) if plan[v]]
    await busy_over.wait()
    into.busy_seconds += time.perf_counter() - start.wall
    await asyncio.gather(*tasks)
    meter.stop(start, into.cpu)


async def validate_rounds(
    base: str,
    url: str,
    result: Result,
    connections: int,
    seconds: float,
    warmup: float,
    members: int,
    callers: Callers,
    meter: Meter,
    listen_fraction: float,
) -> None:
    """Rounds of: serve (not measured) → vote (measured), until the vote phases of the
    warmup and then of the measurement have lasted ``warmup`` and ``seconds``."""
    pool = [LeanConnection(base) for _ in range(connections)]
    rng = random.Random(17)
    next_member, rate = 1, 0.0
    db = await asyncpg.connect(url)
    try:
        for phase, budget, into in (
            ("warmup", warmup, Result("validate")),
            ("measured", seconds, result),
        ):
            while into.cpu.wall < budget:
                validators = [(next_member + i - 1) % members + 1 for i in range(connections)]
                next_member = validators[-1] % members + 1
                served = await serve_round(base, pool, validators, callers, into)
                served_at = time.monotonic()
                rows = await db.fetch(
                    "SELECT id, status, valid_votes, invalid_votes, established_votes "
                    "FROM voice_clips WHERE id = ANY($1::uuid[])",
                    list({clip for page in served.values() for clip in page}),
                )
                tallies = {r["id"]: (r["status"], *r[2:]) for r in rows}
                # Rounds short enough to end near the budget: at most ROUND_VOTES votes each,
                # fewer when the last round's rate says the remaining time needs fewer.
                left = rate * (budget - into.cpu.wall) / connections
                most = max(2, min(ROUND_VOTES, math.ceil(left))) if rate else ROUND_VOTES
                plan, decisions = plan_votes(served, tallies, rng, most)
                into.planned_votes += sum(len(v) for v in plan.values())
                into.planned_decisions += decisions
                into.rounds += 1
                if not any(plan.values()):
                    raise SystemExit("the queue served nothing to vote on")
                wait = served_at + CLIP_MS / 1000 * listen_fraction - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                busy = (into.busy_requests, into.busy_seconds)
                await vote_round(base, pool, plan, callers, into, meter)
                rate = (into.busy_requests - busy[0]) / (into.busy_seconds - busy[1])
            print(f"  validate {phase}: {into.rounds} rounds", file=sys.stderr, flush=True)
    finally:
        await db.close()
        for connection in pool:
            with contextlib.suppress(Exception):
                await connection.aclose()


# -- the run ---------------------------------------------------------------------------------


async def postgres_meter(url: str, scope: str) -> ProcessTree | DatabaseBackends:
    """The PostgreSQL processes to count (the server must run on this machine)."""
    connection = await asyncpg.connect(url)
    try:
        backend = await connection.fetchval("SELECT pg_backend_pid()")
        database = await connection.fetchval("SELECT current_database()")
        postmaster = postmaster_of(backend)  # while the backend lives
    finally:
        await connection.close()
    if postmaster is None:
        raise SystemExit("PostgreSQL's processes are not visible here: it must run locally")
    return ProcessTree(postmaster) if scope == "cluster" else DatabaseBackends(postmaster, database)


def table(summaries: list[dict]) -> str:
    lines = [
        "| endpoint | requests | req/s | p50 ms | p99 ms | non-2xx | socket errors "
        "| app CPU ms/req | PG CPU ms/req | load gen CPU ms/req | others' CPU |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        cpu = s["cpu_ms_per_request"]
        lines.append(
            f"| {s['endpoint']} | {s['requests']:,} | {s['req_per_s']:,.0f} | {s['p50_ms']} "
            f"| {s['p99_ms']} | {s['non_2xx']} | {s['socket_errors']} | {cpu['app']:.2f} "
            f"| {cpu['postgres']:.2f} | {cpu['load_generator']:.2f} "
            f"| {s['others_cpu_share']:.0%} |"
        )
    return "\n".join(lines)


def details(summaries: list[dict]) -> str:
    lines = []
    for s in summaries:
        split = ", ".join(f"{t} s" for t in s["app_cpu_seconds_per_process"].values() if t)
        extra = (
            f"; {s['queue_items_per_page']} clips per page" if "queue_items_per_page" in s else ""
        )
        lines.append(
            f"- {s['endpoint']}: statuses {s['statuses']}"
            + (f", socket errors {s['errors']}" if s["errors"] else "")
            + f"; {s['seconds']} s measured; app CPU per process: {split or '0 s'}{extra}"
        )
        if s["endpoint"] == "validate":
            answered = sum(s["outcomes"].values())
            counted = sum(n for o, n in s["outcomes"].items() if o.startswith("counted"))
            lines.append(
                f"- validate: {s['rounds']} rounds of serve-then-vote; {s['planned_votes']:,} "
                f"votes sent, {s['planned_decisions']:,} of them planned to decide their clip; "
                f"req/s over the rounds' busy parts ({s['busy_requests']:,} answers in "
                f"{s['busy_seconds']} s), CPU over whole rounds; the app answered "
                f"{s['outcomes']}: {counted:,} of {answered:,} votes counted"
            )
    return "\n".join(lines)


def describe_run(
    args: argparse.Namespace, shared_server: bool, scope: str, counts: dict[str, int]
) -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return {
        "commit": commit.stdout.strip(),
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "database": "BENCH_DATABASE_URL" if shared_server else "embedded",
        "postgres_cpu_scope": scope,
        "data": counts,
        "knobs": {k: v for k, v in os.environ.items() if k.startswith("CHORUS_")},
        "cpus": os.cpu_count(),
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
    }


async def run(args: argparse.Namespace) -> list[dict]:
    server = os.environ.get("BENCH_DATABASE_URL")
    scope = args.pg_scope or ("database" if server else "cluster")
    scratch = Path(tempfile.mkdtemp(prefix="chorus-endpoints-"))
    try:
        async with throwaway_database(server) as url:
            started = time.monotonic()
            await migrate.upgrade(url)
            counts = await seed(url, args.members, args.clips)
            print(
                f"seeded {counts} in {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            postgres = await postgres_meter(url, scope)
            env = chorus_environment(url, scratch, args.workers, args.listen_fraction)
            port, log = free_port(), scratch / "serve.log"
            with chorus_serve(env, port, args.workers, log) as pid:
                meter, base, callers = (
                    Meter(ProcessTree(pid), postgres),
                    f"http://127.0.0.1:{port}",
                    Callers(),
                )
                spread = [1 + i * args.members // args.callers for i in range(args.callers)]
                requests = {
                    "health": lambda c, rng: c.get("/health"),
                    "queue": lambda c, rng: c.get(
                        f"/monetization/queue?language={rng.choice(LANGUAGES)}&limit=10",
                        callers.headers(rng.choice(spread)),
                    ),
                    "balance": lambda c, rng: c.get(
                        "/monetization/balance", callers.headers(rng.choice(spread))
                    ),
                }
                summaries = []
                for endpoint in args.endpoints:
                    print(f"{endpoint} …", file=sys.stderr, flush=True)
                    result = Result(endpoint)
                    if endpoint == "validate":
                        await validate_rounds(
                            base, url, result, args.connections, args.seconds, args.warmup,
                            args.members, callers, meter, args.listen_fraction,
                        )  # fmt: skip
                    else:
                        await closed_loop(
                            base, result, args.connections, args.seconds, requests[endpoint],
                            meter, args.warmup,
                        )  # fmt: skip
                    summaries.append(result.summary())
            header = describe_run(args, server is not None, scope, counts)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [header, *summaries]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured, per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="chorus serve --workers")
    parser.add_argument(
        "--endpoints",
        type=lambda s: [e for e in s.split(",") if e],
        default=list(ENDPOINTS),
        help="comma-separated, of " + ",".join(ENDPOINTS),
    )
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--clips", type=int, default=200_000, help="pending clips")
    parser.add_argument("--callers", type=int, default=200, help="members calling queue/balance")
    parser.add_argument(
        "--listen-fraction", type=float, default=0.0, help="CHORUS_MIN_LISTEN_FRACTION"
    )
    parser.add_argument(
        "--pg-scope",
        choices=("cluster", "database"),
        help="PostgreSQL CPU of the whole cluster or of this database's backends "
        "(default: cluster when embedded, database on BENCH_DATABASE_URL's server)",
    )
    parser.add_argument("--json", help="also write the results as JSON to this path (- stdout)")
    args = parser.parse_args()
    unknown = set(args.endpoints) - set(ENDPOINTS)
    if unknown or not 0 < args.seconds <= 60 or args.connections < 1:
        parser.error(f"bad --endpoints {sorted(unknown)}, --seconds or --connections")
    if not 1 <= args.callers <= args.members:
        parser.error("need 1 <= --callers <= --members")
    try:
        import uvloop  # the load generator's own loop in C: less of the CPU it measures
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        header, *summaries = asyncio.run(run(args))
    else:
        header, *summaries = uvloop.run(run(args))
    print(
        f"\nchorus {header['commit']}, chorus serve --workers {header['workers']} "
        f"(production), {header['connections']} connections, {header['seconds']} s per "
        f"endpoint after {header['warmup']} s warmup; {header['cpus']} CPUs, load "
        f"{' '.join(header['loadavg_after'])}; PostgreSQL: {header['database']}, CPU of "
        f"the {header['postgres_cpu_scope']}; data {header['data']}\n"
    )
    print(table(summaries))
    print()
    print(details(summaries))
    if args.json:
        text = json.dumps({"run": header, "endpoints": summaries}, indent=2)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
