"""Throughput of ``POST /monetization/validate`` when every vote decides a clip and posts its
rewards, against the same SQL statements run directly by ``pgbench`` on the same database.

    .venv/bin/python bench/validate_throughput.py [--requests 2000] [--duration 30]
        [--concurrency 32] [--instances N] [--database-url postgresql://…]

Not a test: run it by hand. What it does, in one run:

1. makes a throwaway database (on ``--database-url`` / ``BENCH_DATABASE_URL``'s server, else on
   an embedded ``pgserver``) and migrates it;
2. seeds two identical, disjoint worlds — one for HTTP, one for pgbench: reward rates, and
   per vote to come a clip that already has one counted ``valid`` vote, so that the vote
   sent by the benchmark is the second one and decides the clip under ``majority`` (the
   contributor earns ``clip_accepted``, both validators ``validation_agreed``);
3. records the statements the application issues for one such decisive vote (SQLAlchemy
   events, in process) and prints them next to the pgbench script's;
4. runs the real app (``uvicorn entrypoints.http.app:create_app --factory`` on 127.0.0.1,
   ``--instances`` processes on consecutive ports, as behind a load balancer) and drives it
   with a lean keep-alive client (``bench/lean_client.py``; ``--concurrency`` connections,
   one request in flight on each, spread evenly over the instances, at most
   ``--requests`` votes or ``--duration`` seconds);
5. runs the same statements with ``pgbench -M prepared`` (prepared once per connection, as
   SQLAlchemy's asyncpg dialect does with its own statement cache) with as many clients, for
   as many votes;
6. checks both worlds paid each decided clip exactly three rewards and that the books
   balance, and prints both throughputs and their ratio.

After each side's warmup the database is ANALYZEd, as autovacuum keeps a live database (see
``analyze``). The pgbench transaction has one extra statement the app does not issue
(reading its per-vote ids from ``bench_plan``); the app additionally verifies a JWT (once
per token, then remembered), checks rate limits and speaks HTTP — that is the overhead
measured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from lean_client import LeanConnection  # bench/lean_client.py, beside this script
from sqlalchemy import event
from sqlalchemy.engine import make_url

from adapters.auth.dev_tokens import mint_token
from adapters.postgres import migrate
from adapters.postgres.ledger import account_id
from core.domain.clips import Verdict
from core.domain.ledger import AccountKind, AccountRef, reward_reference
from entrypoints.container import Container
from entrypoints.settings import DEV_JWT_ISSUER, DEV_JWT_SECRET, Environment, Secret, load_settings

ROOT = Path(__file__).resolve().parents[1]
CLIP_RATE, AGREED_RATE = 5_000, 1_000
LANGUAGE, CURRENCY = "yo", "NGN"
CONTRIBUTORS, VALIDATORS = 400, 100
LOG_ODDS_ONE_VOTE = 1.3862943611198906  # log(0.8 / 0.2): one newcomer's counted vote


# -- the database ----------------------------------------------------------------------------


def _plain(url: str) -> str:
    """A libpq/asyncpg URL (no SQLAlchemy driver name)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def throwaway_database(server_url: str | None) -> AsyncIterator[str]:
    handle = None
    scratch = None
    if server_url is None:
        from adapters.postgres.embedded import start_embedded_postgres

        scratch = Path(tempfile.mkdtemp(prefix="chorus-bench-"))
        os.environ.setdefault("XDG_RUNTIME_DIR", str(scratch / "run"))
        server_url, handle = start_embedded_postgres(scratch / "pg")
    name = f"chorus_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_plain(server_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(_plain(server_url)).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        if handle is not None:
            handle.cleanup()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


# -- the worlds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vote:
    """One decisive vote to come: ``voter`` votes on ``clip``, which ``first`` already voted
    on; ``contributor`` recorded it."""

    clip: uuid.UUID
    voter: uuid.UUID
    first: uuid.UUID
    contributor: uuid.UUID


async def seed_world(connection: asyncpg.Connection, votes: int) -> list[Vote]:
    now = datetime.now(UTC)
    contributors = [uuid.uuid4() for _ in range(CONTRIBUTORS)]
    validators = [uuid.uuid4() for _ in range(VALIDATORS)]
    await connection.executemany(
        "INSERT INTO profiles (id, role, status, created_at, updated_at) "
        "VALUES ($1, 'member', 'active', $2, $2)",
        [(p, now) for p in contributors + validators],
    )
    plan = [
        Vote(
            uuid.uuid4(),
            validators[(n + 7) % VALIDATORS],
            validators[n % VALIDATORS],
            contributors[n % CONTRIBUTORS],
        )
        for n in range(votes)
    ]
    created = now - timedelta(minutes=5)
    await connection.copy_records_to_table(
        "voice_clips",
        columns=[
            "id",
            "contributor_id",
            "client_id",
            "language",
            "prompt",
            "audio_key",
            "audio_format",
            "mime_type",
            "duration_ms",
            "size_bytes",
            "status",
            "valid_votes",
            "invalid_votes",
            "log_odds_sum",
            "is_gold",
            "visibility",
            "queue_rank",
            "created_at",
        ],
        records=[
            (
                v.clip,
                v.contributor,
                uuid.uuid4(),
                LANGUAGE,
                "Ẹ káàárọ̀",
                f"bench/{v.clip}",
                "wav",
                "audio/wav",
                2000,
                64_000,
                "pending",
                1,
                0,
                LOG_ODDS_ONE_VOTE,
                False,
                "visible",
                1,
                created,
            )
            for v in plan
        ],
    )
    await connection.copy_records_to_table(
        "validations",
        columns=[
            "id",
            "clip_id",
            "validator_id",
            "verdict",
            "outcome",
            "accuracy",
            "on_probation",
            "created_at",
        ],
        records=[
            (uuid.uuid4(), v.clip, v.first, "valid", "counted", 0.8, False, created) for v in plan
        ],
    )
    # The deciding voter was served the clip by the queue (a vote counts only then).
    await connection.copy_records_to_table(
        "clip_servings",
        columns=["validator_id", "clip_id", "served_at"],
        records=[(v.voter, v.clip, created) for v in plan],
    )
    return plan


async def seed(url: str, votes: int) -> tuple[list[Vote], list[Vote]]:
    connection = await asyncpg.connect(url)
    try:
        start = datetime.now(UTC) - timedelta(days=1)
        for kind, amount in (("clip_accepted", CLIP_RATE), ("validation_agreed", AGREED_RATE)):
            await connection.execute(
                "INSERT INTO reward_rates (id, kind, amount_minor, currency, valid_from, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $5)",
                uuid.uuid4(),
                kind,
                amount,
                CURRENCY,
                start,
            )
        http = await seed_world(connection, votes)
        direct = await seed_world(connection, votes)
        await seed_plan(connection, direct)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return http, direct


# -- the pgbench side ------------------------------------------------------------------------


def _pending(profile: uuid.UUID) -> uuid.UUID:
    return account_id(AccountRef.member(profile, AccountKind.PENDING, CURRENCY))


EXPENSE = account_id(AccountRef.platform(AccountKind.REWARDS_EXPENSE, CURRENCY))


async def seed_plan(connection: asyncpg.Connection, plan: list[Vote]) -> None:
    """Per pgbench transaction, the ids and texts the app would compute in Python: the
    accounts in id order, the earnings in reference order, validators in id order."""
    await connection.execute(
        """
        CREATE TABLE bench_plan (
            n bigint PRIMARY KEY, clip_id uuid, voter_id uuid, first_id uuid,
            contributor_id uuid, stat_lo uuid, stat_hi uuid,
            a1 uuid, o1 uuid, k1 text, b1 bigint, a2 uuid, o2 uuid, k2 text, b2 bigint,
            a3 uuid, o3 uuid, k3 text, b3 bigint, a4 uuid, o4 uuid, k4 text, b4 bigint,
            t1 uuid, r1 text, m1 uuid, w1 text, p1 uuid, x1 bigint,
            t2 uuid, r2 text, m2 uuid, w2 text, p2 uuid, x2 bigint,
            t3 uuid, r3 text, m3 uuid, w3 text, p3 uuid, x3 bigint);
        CREATE SEQUENCE bench_seq;
        """
    )
    rows = []
    for n, vote in enumerate(plan, start=1):
        stat_lo, stat_hi = sorted([vote.first, vote.voter])
        accounts = sorted(
            [(_pending(p), p, "pending", 0) for p in (vote.contributor, vote.first, vote.voter)]
            + [(EXPENSE, None, "rewards_expense", None)],
            key=lambda a: a[0],
        )
        earnings = [
            (vote.contributor, "clip_accepted", CLIP_RATE),
            *((v, "validation_agreed", AGREED_RATE) for v in sorted([vote.first, vote.voter])),
        ]
        by_reference = sorted(
            (
                (
                    uuid.uuid4(),
                    reward_reference(vote.clip, kind, member),
                    member,
                    kind,
                    _pending(member),
                    amount,
                )
                for member, kind, amount in earnings
            ),
            key=lambda e: e[1],
        )
        rows.append(
            (
                n,
                *(vote.clip, vote.voter, vote.first, vote.contributor, stat_lo, stat_hi),
                *(value for account in accounts for value in account),
                *(value for earning in by_reference for value in earning),
            )
        )
    await connection.copy_records_to_table("bench_plan", records=rows)


PROFILE_COLUMNS = (
    "id, role, status, display_name, languages, payout_currency, created_at, updated_at"
)
STATS_UPSERT = (
    "INSERT INTO validator_stats (validator_id, gold_right, gold_wrong, consensus_agreed, "
    "consensus_disagreed, updated_at) "
    "SELECT validator_id, gold_right, gold_wrong, consensus_agreed, consensus_disagreed, now() "
    "FROM unnest(ARRAY[:stat_lo, :stat_hi]::uuid[], ARRAY[0, 0], ARRAY[0, 0], ARRAY[1, 1], "
    "ARRAY[0, 0]) "
    "AS d(validator_id, gold_right, gold_wrong, consensus_agreed, consensus_disagreed) "
    "ORDER BY validator_id "
    "ON CONFLICT (validator_id) DO UPDATE SET "
    "gold_right = validator_stats.gold_right + excluded.gold_right, "
    "gold_wrong = validator_stats.gold_wrong + excluded.gold_wrong, "
    "consensus_agreed = validator_stats.consensus_agreed + excluded.consensus_agreed, "
    "consensus_disagreed = validator_stats.consensus_disagreed + excluded.consensus_disagreed, "
    "updated_at = now();"
)


def _array(kind: str, items: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"CAST({item} AS {kind})" for item in items) + "]"


def _event(name: str, payload: str) -> str:
    return f"(gen_random_uuid(), '{name}', {payload}, now(), 'pending', 0, now(), now())"


def _earned_payload(k: int) -> str:
    return (
        f"jsonb_build_object('transactionId', :t{k}::uuid, 'profileId', :m{k}::uuid, "
        f"'clipId', :clip_id::uuid, 'rewardKind', :w{k}::text, 'amountMinor', :x{k}::bigint, "
        "'currency', 'NGN')"
    )


PGBENCH_SCRIPT = "\n".join(
    [
        "SELECT * FROM bench_plan WHERE n = (SELECT nextval('bench_seq')) \\gset",
        # IdentifyCaller's lookup (autocommit)
        f"SELECT {PROFILE_COLUMNS} FROM profiles WHERE id = :voter_id;",
        # SubmitVote's unit of work
        "BEGIN;",
        "SELECT * FROM voice_clips WHERE id = :clip_id FOR UPDATE;",
        "SELECT * FROM validator_stats WHERE validator_id = :voter_id;",
        "INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy, "
        "on_probation, created_at) VALUES (gen_random_uuid(), :clip_id, :voter_id, 'valid', "
        "'counted', 0.8, false, now()) ON CONFLICT ON CONSTRAINT "
        "validations_one_per_validator DO NOTHING RETURNING validations.id;",
        "UPDATE voice_clips SET status = 'accepted', valid_votes = 2, invalid_votes = 0, "
        "log_odds_sum = 2.772588722239781, is_gold = false, queue_rank = 0, decided_at = now() "
        "WHERE id = :clip_id;",
        "SELECT * FROM validations WHERE clip_id = :clip_id ORDER BY created_at, id;",
        STATS_UPSERT,
        "SELECT * FROM reward_rates WHERE currency = 'NGN' AND (language IS NULL OR "
        "language = 'yo') AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now());",
        f"SELECT {PROFILE_COLUMNS} FROM profiles "
        "WHERE id = any(ARRAY[:contributor_id, :first_id, :voter_id]::uuid[]);",
        # the ledger's one statement (adapters/postgres/ledger.py)
        "WITH new_accounts AS (INSERT INTO accounts (id, owner_id, kind, currency, "
        "balance_minor, lifetime_earned_minor) SELECT id, owner_id, kind, currency, kept, kept "
        "FROM unnest("
        + _array("uuid", [f":a{k}" for k in range(1, 5)])
        + ", "
        + _array("uuid", [f"NULLIF(:o{k}, '')" for k in range(1, 5)])
        + ", "
        + _array("text", [f":k{k}" for k in range(1, 5)])
        + ", "
        + _array("text", ["'NGN'"] * 4)
        + ", "
        + _array("bigint", [f"NULLIF(:b{k}, '')" for k in range(1, 5)])
        + ") AS a(id, owner_id, kind, currency, kept) ON CONFLICT DO NOTHING), "
        "new_transactions AS (INSERT INTO transactions (id, reference, kind, member_id, "
        "occurred_at, closes_transaction_id, clip_id, reward_kind, memo, metadata) SELECT id, "
        "reference, kind, member_id, occurred_at, closes, clip_id, reward_kind, memo, "
        "CAST(metadata AS jsonb) FROM unnest("
        + ", ".join(
            [
                _array("uuid", [f":t{k}" for k in range(1, 4)]),
                _array("text", [f":r{k}" for k in range(1, 4)]),
                _array("text", ["'reward_earned'"] * 3),
                _array("uuid", [f":m{k}" for k in range(1, 4)]),
                _array("timestamptz", ["now()"] * 3),
                _array("uuid", ["NULL"] * 3),
                _array("uuid", [":clip_id"] * 3),
                _array("text", [f":w{k}" for k in range(1, 4)]),
                _array("text", ["''"] * 3),
                _array(
                    "text",
                    [
                        f"jsonb_build_object('clip_id', :clip_id::text, 'reward_kind', :w{k}::text)"
                        for k in range(1, 4)
                    ],
                ),
            ]
        )
        + ") AS t(id, reference, kind, member_id, occurred_at, closes, clip_id, reward_kind, "
        "memo, metadata) ON CONFLICT (reference) DO NOTHING RETURNING id, reference), "
        "new_postings AS (INSERT INTO postings (transaction_id, account_id, currency, "
        "amount_minor) SELECT p.transaction_id, p.account_id, p.currency, p.amount_minor "
        "FROM unnest("
        + ", ".join(
            [
                _array("uuid", [f":t{k}" for k in (1, 1, 2, 2, 3, 3)]),
                _array("uuid", [a for k in range(1, 4) for a in (f"'{EXPENSE}'", f":p{k}")]),
                _array("text", ["'NGN'"] * 6),
                _array("bigint", [a for k in range(1, 4) for a in (f"-(:x{k}::bigint)", f":x{k}")]),
            ]
        )
        + ") WITH ORDINALITY AS p(transaction_id, account_id, currency, amount_minor, position) "
        "WHERE p.transaction_id IN (SELECT id FROM new_transactions) ORDER BY p.position) "
        "SELECT reference FROM new_transactions;",
        "INSERT INTO outbox (id, name, payload, occurred_at, status, attempts, available_at, "
        "created_at) VALUES "
        + ", ".join(
            [
                _event(
                    "clip.decided",
                    "jsonb_build_object('clipId', :clip_id::uuid, "
                    "'contributorId', :contributor_id::uuid, 'status', 'accepted', "
                    "'language', 'yo', 'decidedAt', now(), 'decidedBy', 'consensus', "
                    "'votes', jsonb_build_array("
                    "jsonb_build_object('validatorId', :first_id::uuid, 'verdict', 'valid', "
                    "'outcome', 'counted', 'onProbation', false), "
                    "jsonb_build_object('validatorId', :voter_id::uuid, 'verdict', 'valid', "
                    "'outcome', 'counted', 'onProbation', false)))",
                ),
                *(_event("reward.earned", _earned_payload(k)) for k in range(1, 4)),
                _event(
                    "validation.submitted",
                    "jsonb_build_object('clipId', :clip_id::uuid, 'profileId', :voter_id::uuid, "
                    "'language', 'yo', 'outcome', 'counted')",
                ),
            ]
        )
        + ";",
        "COMMIT;",
    ]
)


def run_pgbench(url: str, script: Path, clients: int, per_client: int) -> float:
    """pgbench's tps (without connection time)."""
    pgbench = shutil.which("pgbench") or "/usr/bin/pgbench"
    command = [
        pgbench,
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 4)),
        "-t",
        str(per_client),
        "-f",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        raise SystemExit(f"unexpected pgbench output:\n{done.stdout}")
    failed = re.search(r"number of failed transactions: ([0-9]+)", done.stdout)
    if failed and int(failed.group(1)):
        raise SystemExit(f"pgbench transactions failed:\n{done.stdout}")
    return float(match.group(1))


# -- the HTTP side ---------------------------------------------------------------------------


def app_environment(url: str, log_level: str, pool_size: int | None) -> dict[str, str]:
    pool = {} if pool_size is None else {"CHORUS_DB_POOL_SIZE": str(pool_size)}
    return {
        **os.environ,
        **pool,
        "DATABASE_URL": url,
        "CHORUS_ENV": "test",
        "CHORUS_CONSENSUS_POLICY": "majority",
        "CHORUS_WRITE_RATE_LIMIT_PER_MINUTE": "100000",
        "CHORUS_LOG_LEVEL": log_level,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }


def app_container(url: str) -> Container:
    """The app's container on ``url``, configured as the HTTP side is (``majority``)."""
    settings = load_settings({"CHORUS_CONSENSUS_POLICY": "majority"}, environment=Environment.TEST)
    return Container(settings=replace(settings, database_url=Secret(url)))


async def app_statements(url: str, vote: Vote) -> list[str]:
    """The statements the app issues for one decisive vote (in process, same code)."""
    container = app_container(url)
    seen: list[str] = []
    engine = container.engine().sync_engine

    @event.listens_for(engine, "before_cursor_execute")
    def statement(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    def transaction_event(name: str) -> Any:
        def record(connection: Any) -> None:
            # SQLAlchemy reports its own bookkeeping in autocommit too; nothing is sent then.
            if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                seen.append(name.upper())

        return record

    for name in ("begin", "commit", "rollback"):
        event.listen(engine, name, transaction_event(name))
    try:
        verified = await container.token_verifier().verify(token_for(vote.voter))
        principal = await container.identify_caller()(verified)
        receipt = await container.submit_vote()(principal, vote.clip, Verdict.VALID)
        assert receipt.decided_now, receipt
    finally:
        await container.engine().dispose()
    return seen


def token_for(profile_id: uuid.UUID) -> str:
    return mint_token(
        secret=DEV_JWT_SECRET,
        subject=profile_id,
        now=datetime.now(UTC),
        ttl=timedelta(hours=2),
        issuer=DEV_JWT_ISSUER,
    )


@contextlib.contextmanager
def running_app(
    url: str, port: int, instances: int, log_level: str, pool_size: int | None
) -> Iterator[list[str]]:
    """``instances`` uvicorn processes (one worker each, ports ``port``, ``port + 1``, …),
    as behind a load balancer: uvicorn's own ``--workers`` share one listening socket and
    hand a burst of new connections to whichever process wakes first, so a benchmark's
    connections would pile onto one of them."""
    servers = [
        subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "entrypoints.http.app:create_app"),
                *("--factory", "--host", "127.0.0.1", "--port", str(port + n)),
                *("--log-level", "warning", "--no-access-log"),
            ],
            env=app_environment(url, log_level, pool_size),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for n in range(instances)
    ]
    bases = [f"http://127.0.0.1:{port + n}" for n in range(instances)]
    try:
        deadline = time.monotonic() + 60
        for server, base in zip(servers, bases, strict=True):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the app did not start")
                time.sleep(0.2)
        yield bases
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


@dataclass
class HttpResult:
    votes: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rate(self) -> float:
        return self.votes / self.seconds


async def drive(
    bases: list[str], plan: list[Vote], concurrency: int, duration: float
) -> HttpResult:
    """``concurrency`` requests in flight (spread evenly over the app instances) until the
    plan is used up or ``duration`` seconds have passed."""
    tokens = {v.voter: token_for(v.voter) for v in plan}
    queue: asyncio.Queue[Vote] = asyncio.Queue()
    for vote in plan:
        queue.put_nowait(vote)
    latencies: list[float] = []
    failures = 0
    connections = [LeanConnection(bases[n % len(bases)]) for n in range(concurrency)]
    stop_at = time.monotonic() + duration

    async def worker(connection: LeanConnection) -> None:
        nonlocal failures
        while time.monotonic() < stop_at:
            try:
                vote = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            began = time.perf_counter()
            response = await connection.post_json(
                "/monetization/validate",
                {"clipId": str(vote.clip), "verdict": "valid"},
                {"Authorization": f"Bearer {tokens[vote.voter]}"},
            )
            latencies.append(time.perf_counter() - began)
            if response.status != 200 or not response.json().get("decided"):
                failures += 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(connection) for connection in connections))
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.aclose()
    return HttpResult(len(latencies), elapsed, latencies, failures)


# -- checks and report -----------------------------------------------------------------------


async def check(url: str, plan: list[Vote], decided: int) -> None:
    """Exactly three earnings per decided clip of this world; the books balance."""
    connection = await asyncpg.connect(url)
    try:
        clips = [v.clip for v in plan]
        per_clip = await connection.fetch(
            "SELECT clip_id, count(*) AS n FROM transactions WHERE kind = 'reward_earned' "
            "AND clip_id = ANY($1::uuid[]) GROUP BY clip_id",
            clips,
        )
        decided_clips = await connection.fetchval(
            "SELECT count(*) FROM voice_clips WHERE id = ANY($1::uuid[]) AND status = 'accepted'",
            clips,
        )
        unbalanced = await connection.fetchval(
            "SELECT count(*) FROM (SELECT currency FROM postings GROUP BY currency "
            "HAVING sum(amount_minor) <> 0) AS t"
        )
    finally:
        await connection.close()
    assert decided_clips == decided, (decided_clips, decided)
    assert len(per_clip) == decided, (len(per_clip), decided)
    assert all(row["n"] == 3 for row in per_clip)
    assert unbalanced == 0


async def analyze(url: str) -> None:
    """Planner statistics for the tables the warmup wrote to, as autovacuum keeps them on a
    live database. Without them the ledger's trigger queries, planned while the journal
    looked empty, keep scanning ``postings`` and ``transactions`` whole as they grow (each
    connection caches those plans), and both sides measure that instead."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    server = args.database_url or os.environ.get("BENCH_DATABASE_URL")
    warmup = 2 * args.concurrency
    total = args.requests + warmup + 1
    async with throwaway_database(server) as url:
        await migrate.upgrade(url)
        http_plan, direct_plan = await seed(url, total)
        print(f"database: {make_url(url).render_as_string(hide_password=True)}")
        print(f"seeded {total} pending clips per side, each one vote from a decision\n")

        statements = await app_statements(url, http_plan[0])
        pgbench_statements = [s for s in PGBENCH_SCRIPT.splitlines() if s]
        print(f"the app's statements for one decisive vote ({len(statements)}):")
        for text in statements:
            print(f"  {text[:110]}")
        print(f"pgbench's script ({len(pgbench_statements)}, the first reads the plan):")
        for text in pgbench_statements:
            print(f"  {text[:110]}")

        # HTTP
        with running_app(url, args.port, args.instances, args.log_level, args.pool_size) as bases:
            await drive(bases, http_plan[1 : 1 + warmup], args.concurrency, 60)
            await analyze(url)
            result = await drive(bases, http_plan[1 + warmup :], args.concurrency, args.duration)
        await check(url, http_plan, 1 + warmup + result.votes)

        # pgbench, same number of votes, same concurrency
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch) / "decisive_vote.sql"
            script.write_text(PGBENCH_SCRIPT + "\n")
            run_pgbench(url, script, args.concurrency, max(1, warmup // args.concurrency))
            await analyze(url)
            per_client = max(1, result.votes // args.concurrency)
            tps = run_pgbench(url, script, args.concurrency, per_client)
        pgbench_votes = (per_client + max(1, warmup // args.concurrency)) * args.concurrency
        await check(url, direct_plan, pgbench_votes)

    latencies_ms = [s * 1000 for s in result.latencies]
    print()
    print(
        f"HTTP   POST /monetization/validate: {result.votes} decisive votes in "
        f"{result.seconds:.1f} s = {result.rate:.0f} votes/s "
        f"(p50 {statistics.median(latencies_ms):.1f} ms, p95 {percentile(latencies_ms, 0.95):.1f}"
        f" ms; {result.failures} failed) — app instances: {args.instances}, "
        f"pool {args.pool_size or 'default'}, in flight: {args.concurrency}"
    )
    print(
        f"pgbench same statements: {per_client * args.concurrency} transactions = {tps:.0f} tps "
        f"(-M prepared, {args.concurrency} clients)"
    )
    print(f"ratio HTTP / direct SQL: {result.rate / tps:.0%}")
    print("checked: every decided clip paid exactly 3 rewards on both sides; books balance")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="decisive votes over HTTP")
    parser.add_argument("--duration", type=float, default=30.0, help="at most this many seconds")
    parser.add_argument("--concurrency", type=int, default=32, help="requests / clients at once")
    parser.add_argument(
        "--instances",
        type=int,
        default=os.cpu_count() or 2,
        help="uvicorn processes, one port each (as behind a load balancer)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        help="database connections per app instance (CHORUS_DB_POOL_SIZE; default: the "
        "app's own default); docs/operations.md explains the sizing",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log-level", default="INFO", help="the app's CHORUS_LOG_LEVEL")
    parser.add_argument("--database-url", help="a server to make the throwaway database on")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
