"""Fault runs, the long version: real ``chorus serve`` and ``chorus worker`` processes under a
vote load while PostgreSQL is stopped (fast, immediate), its sessions are terminated, the API
processes or the worker are SIGKILLed; after each, ``chorus doctor`` checks the data.

    .venv/bin/python -m bench.faults [--faults pg-fast,pg-immediate,...] [--down 5]
        [--clips 400] [--validators 60] [--concurrency 16] [--instances 2]

Run from the repository root (it uses the fault kit in tests/integration/faults). Not a test.
Everything runs on 127.0.0.1: a PostgreSQL cluster of its own (the binaries the ``pgserver``
package ships, in a temporary directory), ``--instances`` API processes (each on a free port)
with the load spread over them, one worker. Each fault gets a fresh database and world
(clips by contributors, validators), votes ``--votes-per-clip`` times per clip in a random
order — a client resending a vote that got no answer or a 5xx, as the app does — and strikes
after ``--lead`` seconds of load. Prints one row per fault: requests tried, their statuses,
how long after the database (or the processes) came back the service answered again,
invariants broken (``chorus doctor``), acknowledged votes lost or stored twice, and what the
worker logged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.faults.cluster import Cluster
from tests.integration.faults.serving import (
    CHORUS,
    ChorusProcess,
    ServerProcess,
    chorus_env,
    until_done,
)
from tests.integration.faults.votes import (
    LoadReport,
    build_world,
    vote_plan,
    votes_stored,
    votes_through,
)

from adapters.postgres import migrate

FAULTS = ("pg-fast", "pg-immediate", "pg-terminate", "server-kill", "worker-kill")
WORKER = {
    "CHORUS_WORKER_LEASE_SECONDS": "10",
    "CHORUS_WORKER_BACKOFF_BASE_SECONDS": "0.2",
    "CHORUS_WORKER_BACKOFF_CAP_SECONDS": "5",
    "CHORUS_LOG_LEVEL": "INFO",
}


@dataclass
class Stack:
    """The processes of one run."""

    env: dict[str, str]
    logs: Path
    servers: list[ServerProcess]
    workers: list[ChorusProcess]

    @property
    def base_urls(self) -> list[str]:
        return [server.base_url for server in self.servers]

    async def start_servers(self, ports: list[int | None]) -> None:
        self.servers = [ServerProcess(self.env, self.logs / "api.log", port) for port in ports]
        await asyncio.gather(*(server.ready() for server in self.servers))

    async def start_worker(self) -> None:
        worker = ChorusProcess(["worker"], self.env | WORKER, self.logs / "worker.log")
        self.workers.append(worker)
        await worker.logged("worker_started")

    def stop(self) -> None:
        for process in [*self.servers, *self.workers]:
            process.stop(timeout=30)


@dataclass
class Row:
    fault: str
    report: LoadReport
    outage: float
    back_after: float
    broken: int
    lost: int
    doubled: int
    outage_logs: int
    loop_errors: int


async def strike(fault: str, cluster: Cluster, stack: Stack, down: float) -> float:
    """Apply ``fault``; return when the service's dependencies are back (monotonic)."""
    if fault in ("pg-fast", "pg-immediate"):
        await asyncio.to_thread(cluster.stop, fault.removeprefix("pg-"))
        await asyncio.sleep(down)
        await asyncio.to_thread(cluster.start)
    elif fault == "pg-terminate":
        await cluster.terminate_backends()
    elif fault == "server-kill":
        ports: list[int | None] = [server.port for server in stack.servers]
        for server in stack.servers:
            server.kill()
        await stack.start_servers(ports)
    elif fault == "worker-kill":
        for worker in stack.workers:
            worker.kill()
        await stack.start_worker()
    return time.monotonic()


def run_doctor(env: dict[str, str]) -> int:
    """``chorus doctor --json`` as operators run it: the number of broken invariants."""
    done = subprocess.run(
        [str(CHORUS), "doctor", "--json"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode not in (0, 1) or not done.stdout:
        raise RuntimeError(f"chorus doctor failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    for finding in report["invariants"]:
        if not finding["holds"]:
            print(f"  broken: {finding['code']}: {finding['examples'][:3]}", file=sys.stderr)
    return sum(1 for finding in report["invariants"] if not finding["holds"])


def worker_events(stack: Stack, event: str) -> int:
    """How often the run's workers logged ``event`` (they share one log file)."""
    return stack.workers[0].output().count(f'"event": "{event}"') if stack.workers else 0


async def one_fault(fault: str, cluster: Cluster, args: argparse.Namespace, logs: Path) -> Row:
    name = "chorus_" + fault.replace("-", "_")
    url = await cluster.create_database(name)
    await migrate.upgrade(url)
    env = chorus_env(url)
    stack = Stack(env, logs / fault, [], [])
    stack.logs.mkdir(parents=True)
    try:
        await stack.start_servers([None] * args.instances)
        await stack.start_worker()
        world = await build_world(stack.base_urls[0], clips=args.clips, validators=args.validators)
        struck = time.monotonic()

        async def fault_strikes() -> float:
            nonlocal struck
            struck = time.monotonic()
            return await strike(fault, cluster, stack, args.down)

        report, back = await votes_through(
            stack.base_urls,
            vote_plan(world, args.votes_per_clip),
            fault_strikes,
            concurrency=args.concurrency,
            lead=args.lead,
            finish_within=args.timeout,
        )
        await until_done(url, within=args.timeout)
        lost, doubled = await votes_stored(url, report.acknowledged)
        broken = await asyncio.to_thread(run_doctor, env)
        return Row(
            fault,
            report,
            back - struck,
            report.back_after(back),
            broken,
            lost,
            doubled,
            worker_events(stack, "database_unavailable"),
            worker_events(stack, "worker_loop_error"),
        )
    finally:
        stack.stop()


def table(rows: list[Row]) -> str:
    head = (
        "| fault | outage (s) | requests | 2xx | 409 | 503 | 500 | other 5xx | no answer "
        "| back after (s) "
        "| invariants broken | votes lost | votes doubled | worker: database_unavailable "
        "| worker: worker_loop_error |"
    )
    lines = [head, "| " + " | ".join(["---"] * (head.count("|") - 1)) + " |"]
    for row in rows:
        statuses = row.report.statuses
        ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
        lines.append(
            f"| {row.fault} | {row.outage:.1f} | {len(row.report.sent)} | {ok} | {statuses[409]} | "
            f"{statuses[503]} | {statuses[500]} | "
            f"{row.report.server_errors - statuses[503] - statuses[500]} | {statuses[0]} | "
            f"{row.back_after:.2f} | "
            f"{row.broken} | {row.lost} | {row.doubled} | {row.outage_logs} | {row.loop_errors} |"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> int:
    chosen = [fault.strip() for fault in args.faults.split(",") if fault.strip()]
    unknown = sorted(set(chosen) - set(FAULTS))
    if unknown:
        raise SystemExit(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    logs = Path(tempfile.mkdtemp(prefix="chorus-faults-logs-"))
    cluster = Cluster()
    rows = []
    try:
        cluster.start()
        await cluster.wait_accepting()
        for fault in chosen:
            print(f"fault {fault} …", file=sys.stderr, flush=True)
            rows.append(await one_fault(fault, cluster, args, logs))
    finally:
        cluster.close()
    print(table(rows))
    print(f"\nlogs: {logs}", file=sys.stderr)
    for row in rows:
        if row.report.unavailable_without_retry_after:
            print(f"{row.fault}: 503 without Retry-After", file=sys.stderr)
    failed = [
        row.fault
        for row in rows
        if row.report.internal_errors
        or row.report.unavailable_without_retry_after
        or row.broken
        or row.lost
        or row.doubled
        or row.loop_errors
    ]
    return 1 if failed else 0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS))
    parser.add_argument("--down", type=float, default=5.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--lead", type=float, default=2.0, help="seconds of load before it")
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--validators", type=int, default=60)
    parser.add_argument("--votes-per-clip", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--instances", type=int, default=2, help="chorus serve processes")
    parser.add_argument("--timeout", type=float, default=120.0)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(arguments())))
