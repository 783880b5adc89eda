"""CPU the app spends on one decisive vote, in process (no HTTP, no load generator).

    .venv/bin/python bench/vote_cpu.py [--votes 300] [--database-url postgresql://…]

Not a test: run it by hand. Seeds the same world as ``validate_throughput.py`` (every vote
decides a clip and posts three rewards), then runs votes one after another through the
container's use cases — token verification, ``IdentifyCaller``, ``SubmitVote`` — and prints
the process's CPU time per vote for each step and per statement type (the driver's share,
measured around SQLAlchemy's cursor execution). Sequential, so the figures are the app's own
cost, without the contention of a load test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import event
from validate_throughput import (  # beside this script
    app_container,
    seed,
    throwaway_database,
    token_for,
)

from adapters.postgres import migrate
from core.domain.clips import Verdict

WARMUP = 50


def _statement_kind(sql: str) -> str:
    verb = sql.split()[0]
    table = re.search(r"\b(?:FROM|INTO|UPDATE|WITH)\s+(\w+)", sql)
    return f"{verb} {table.group(1) if table else '?'}"


async def main(args: argparse.Namespace) -> None:
    server = args.database_url or os.environ.get("BENCH_DATABASE_URL")
    async with throwaway_database(server) as url:
        await migrate.upgrade(url)
        plan, _ = await seed(url, args.votes + WARMUP)
        container = app_container(url)
        verifier, identify, vote = (
            container.token_verifier(),
            container.identify_caller(),
            container.submit_vote(),
        )
        tokens = {v.voter: token_for(v.voter) for v in plan}
        steps: dict[str, float] = defaultdict(float)
        statements: dict[str, float] = defaultdict(float)
        started: dict[str, Any] = {}
        engine = container.engine().sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def before(_c: Any, _cur: Any, sql: str, *_: Any) -> None:
            started["at"], started["kind"] = time.process_time(), _statement_kind(sql)

        @event.listens_for(engine, "after_cursor_execute")
        def after(*_: Any) -> None:
            statements[started["kind"]] += time.process_time() - started["at"]

        async def one(index: int) -> None:
            v = plan[index]
            t0 = time.process_time()
            token = await verifier.verify(tokens[v.voter])
            t1 = time.process_time()
            principal = await identify(token)
            t2 = time.process_time()
            receipt = await vote(principal, v.clip, Verdict.VALID)
            t3 = time.process_time()
            assert receipt.decided_now, receipt
            steps["verify token"] += t1 - t0
            steps["identify caller"] += t2 - t1
            steps["submit vote"] += t3 - t2

        try:
            for index in range(WARMUP):
                await one(index)
            steps.clear()
            statements.clear()
            for index in range(WARMUP, WARMUP + args.votes):
                await one(index)
        finally:
            await container.engine().dispose()

    per_vote = {name: seconds * 1000 / args.votes for name, seconds in steps.items()}
    print(f"CPU per decisive vote over {args.votes} votes (ms):")
    for name, ms in per_vote.items():
        print(f"  {name:16s} {ms:6.2f}")
    print(f"  {'total':16s} {sum(per_vote.values()):6.2f}")
    print("of which inside the driver, per statement type (ms):")
    for kind, seconds in sorted(statements.items(), key=lambda item: -item[1]):
        print(f"  {seconds * 1000 / args.votes:6.3f}  {kind}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=300)
    parser.add_argument("--database-url", help="a server to make the throwaway database on")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
