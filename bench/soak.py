"""Soak run: two API processes and two workers on one database under a mixed load for
``--minutes`` (default 10); then every invariant is checked.

    .venv/bin/python -m bench.soak [--minutes 10] [--users 12] [--members 80]
        [--database-url postgresql://…]

Run from the repository root (it uses the fault kit in tests/integration/faults). Not a test.
Everything runs on 127.0.0.1: two ``chorus serve`` processes (one uvicorn process each, as two
instances behind a balancer) and two ``chorus worker`` processes, on a throwaway database of
``--database-url``'s server, else of a PostgreSQL cluster of its own. ``--users`` simulated
users act at once, each for its own share of the ``--members`` members (a member is one
phone), each time picking by weight: a validation session (read the queue, vote on or skip
each clip), an upload, or a read of the balance, history, clips, profile or notifications.
Votes that got no answer or a 5xx are resent, as the app does.

At the end the workers drain the outbox, ``chorus doctor --json`` runs, and every vote the
API acknowledged is looked up (exactly once each). Prints requests per action with their
statuses and latency, 5xx, broken invariants, votes lost or doubled, what the workers logged
and each process's memory at the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
from tests.integration.faults.cluster import Cluster
from tests.integration.faults.serving import ChorusProcess, ServerProcess, chorus_env, until_done
from tests.integration.faults.votes import AUDIO, LANGUAGE, RATES, Sent, votes_stored
from tests.tokens import bearer, hs256, service_token

from adapters.postgres import migrate
from bench.faults import WORKER, run_doctor

ACTIONS = {  # weight of each kind of session
    "validate": 6,
    "upload": 2,
    "balance": 2,
    "transactions": 1,
    "my_clips": 1,
    "me": 1,
    "notifications": 1,
}


@dataclass
class Tally:
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    votes: list[Sent] = field(default_factory=list)
    no_answer: Counter[str] = field(default_factory=Counter)  # by transport error

    def record(self, action: str, status: int, started: float) -> None:
        self.statuses[action][status] += 1
        self.latency_ms[action].append((time.monotonic() - started) * 1000)


class Member:
    def __init__(self, member_id: uuid.UUID) -> None:
        self.id = member_id
        self.headers = bearer(hs256(member_id))


async def call(
    tally: Tally, action: str, request: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response | None:
    started = time.monotonic()
    try:
        response = await request()
    except httpx.TransportError as error:
        tally.record(action, 0, started)
        tally.no_answer[type(error).__name__] += 1
        return None
    tally.record(action, response.status_code, started)
    return response


async def validate(
    client: httpx.AsyncClient, member: Member, tally: Tally, rng: random.Random
) -> None:
    page = await call(
        tally,
        "queue",
        lambda: client.get(
            "/monetization/queue", params={"language": LANGUAGE, "limit": 5}, headers=member.headers
        ),
    )
    if page is None or page.status_code != 200:
        return
    for clip in page.json()["items"]:
        clip_id = clip["id"]
        if rng.random() < 0.15:
            await call(
                tally,
                "skip",
                lambda clip_id=clip_id: client.post(
                    "/monetization/skip", json={"clipId": clip_id}, headers=member.headers
                ),
            )
            continue
        verdict = "valid" if rng.random() < 0.8 else "invalid"
        for _ in range(5):  # resent after no answer or a 5xx, as the app does
            started = time.monotonic()
            response = await call(
                tally,
                "vote",
                lambda clip_id=clip_id, verdict=verdict: client.post(
                    "/monetization/validate",
                    json={"clipId": clip_id, "verdict": verdict},
                    headers=member.headers,
                ),
            )
            status = 0 if response is None else response.status_code
            tally.votes.append(Sent(started, status, member.id, clip_id))
            if status and status < 500:
                break
            await asyncio.sleep(0.2)


async def upload(client: httpx.AsyncClient, member: Member, tally: Tally) -> None:
    form = {"language": LANGUAGE, "prompt": "Ẹ káàárọ̀", "clientId": str(uuid.uuid4())}
    await call(
        tally,
        "upload",
        lambda: client.post(
            "/clips",
            files={"audio": ("clip.wav", AUDIO, "audio/wav")},
            data=form,
            headers=member.headers,
        ),
    )


READS = {
    "balance": "/monetization/balance",
    "transactions": "/monetization/transactions",
    "my_clips": "/clips/mine",
    "me": "/me",
    "notifications": "/notifications",
}


async def user(
    clients: list[httpx.AsyncClient],
    members: list[Member],
    tally: Tally,
    deadline: float,
    seed: int,
    pause: float,
) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*ACTIONS.items(), strict=True)
    while time.monotonic() < deadline:
        client = rng.choice(clients)
        member = rng.choice(members)
        action = rng.choices(kinds, weights)[0]
        if action == "validate":
            await validate(client, member, tally, rng)
        elif action == "upload":
            await upload(client, member, tally)
        else:
            await call(
                tally,
                action,
                lambda c=client, m=member, a=action: c.get(READS[a], headers=m.headers),
            )
        await asyncio.sleep(rng.uniform(0, 2 * pause))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def report(
    tally: Tally,
    minutes: float,
    broken: int,
    lost: int,
    doubled: int,
    memory: dict[str, tuple[float, float]],
    worker_log: str,
) -> str:
    lines = [
        f"soak: {minutes:g} min, 2 API processes + 2 workers",
        "",
        "| action | requests | statuses | p50 ms | p99 ms |",
        "| --- | --- | --- | --- | --- |",
    ]
    total = Counter[int]()
    for action in sorted(tally.statuses):
        statuses = tally.statuses[action]
        total.update(statuses)
        times = sorted(tally.latency_ms[action])
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        shown = ", ".join(f"{status or 'no answer'}: {n}" for status, n in sorted(statuses.items()))
        lines.append(
            f"| {action} | {sum(statuses.values())} | {shown} | "
            f"{statistics.median(times):.1f} | {p99:.1f} |"
        )
    five = sum(n for status, n in total.items() if status >= 500)
    lines += [
        "",
        f"requests: {sum(total.values())}, 5xx: {five} (500: {total[500]}), "
        f"no answer: {total[0]} {dict(tally.no_answer) or ''}",
        f"acknowledged votes: {sum(1 for v in tally.votes if 200 <= v.status < 300)}, "
        f"lost: {lost}, stored twice: {doubled}",
        f"invariants broken (chorus doctor): {broken}",
        "workers logged: "
        + ", ".join(
            f"{event} {worker_log.count(marker)}"
            for event in ("worker_loop_error", "database_unavailable", "job_dead", "job_retry")
            for marker in [f'"event": "{event}"']
        ),
        "memory (RSS MiB, start → end): "
        + ", ".join(f"{name} {start:.0f} → {end:.0f}" for name, (start, end) in memory.items()),
    ]
    return "\n".join(lines)


async def seed(base_url: str, members: list[Member]) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for kind, amount in RATES.items():
            rate = {"kind": kind, "amountMinor": amount, "currency": "NGN"}
            response = await client.post(
                "/monetization/rates", json=rate, headers=bearer(service_token())
            )
            assert response.status_code in (201, 409), response.text
        tally = Tally()
        for member in members:
            for _ in range(3):
                await upload(client, member, tally)
        assert set(tally.statuses["upload"]) == {201}, tally.statuses


async def soak(args: argparse.Namespace, database_url: str) -> int:
    await migrate.upgrade(database_url)
    env = chorus_env(database_url)
    logs = Path(tempfile.mkdtemp(prefix="chorus-soak-logs-"))
    servers = [ServerProcess(env, logs / f"api-{n}.log") for n in range(2)]
    workers = [ChorusProcess(["worker"], env | WORKER, logs / f"worker-{n}.log") for n in range(2)]
    processes = {f"api-{n}": s for n, s in enumerate(servers)} | {
        f"worker-{n}": w for n, w in enumerate(workers)
    }
    try:
        await asyncio.gather(*(server.ready() for server in servers))
        for worker in workers:
            await worker.logged("worker_started")
        members = [Member(uuid.uuid4()) for _ in range(args.members)]
        await seed(servers[0].base_url, members)
        start_rss = {name: rss_mib(p.process.pid) for name, p in processes.items()}
        tally = Tally()
        deadline = time.monotonic() + args.minutes * 60
        limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users)
        clients = [
            httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits)
            for server in servers
        ]
        try:
            await asyncio.gather(
                *(
                    user(clients, members[n :: args.users], tally, deadline, n, args.pause)
                    for n in range(args.users)
                )
            )
        finally:
            for client in clients:
                await client.aclose()
        end_rss = {name: rss_mib(p.process.pid) for name, p in processes.items()}

        await until_done(database_url, within=300)
        acknowledged = [vote for vote in tally.votes if 200 <= vote.status < 300]
        lost, doubled = await votes_stored(database_url, acknowledged)
        broken = await asyncio.to_thread(run_doctor, env)
    finally:
        for process in processes.values():
            process.stop(timeout=30)
    worker_log = "".join(worker.output() for worker in workers)
    memory = {name: (start_rss[name], end_rss[name]) for name in processes}
    print(report(tally, args.minutes, broken, lost, doubled, memory, worker_log))
    print(f"\nlogs: {logs}", file=sys.stderr)
    five = sum(n for s in tally.statuses.values() for status, n in s.items() if status >= 500)
    return 1 if (five or broken or lost or doubled) else 0


async def main(args: argparse.Namespace) -> int:
    if args.database_url:
        name = f"chorus_soak_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(args.database_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            base, _, _ = args.database_url.rpartition("/")
            return await soak(args, f"{base}/{name}")
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()
    cluster = Cluster()
    try:
        cluster.start()
        await cluster.wait_accepting()
        return await soak(args, await cluster.create_database("chorus_soak"))
    finally:
        cluster.close()


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=12, help="members acting at once")
    parser.add_argument("--members", type=int, default=80)
    parser.add_argument("--pause", type=float, default=0.05, help="mean seconds between sessions")
    parser.add_argument("--database-url", help="a server to make the throwaway database on")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(arguments())))
