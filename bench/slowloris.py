"""Benchmark: /health and vote latency while 500 slowloris connections are held open, and how
soon the server closes them.

    .venv/bin/python bench/slowloris.py [--connections 500] [--seconds 20]
        [--server guarded|stock] [--header-timeout 10] [--database-url postgresql://…]

Not a test: run it by hand (bounded: two phases of ``--seconds`` each, 127.0.0.1 only).

1. Makes a throwaway database (``--database-url`` / ``BENCH_DATABASE_URL``'s server, else an
   embedded ``pgserver``), migrates it and seeds clips each one vote from a decision
   (``bench/validate_throughput.py``'s world), so that every vote sent decides a clip.
2. Serves Chorus in ONE process (the limits are per process): ``chorus serve`` with its
   guarded HTTP protocol (``--server guarded``), or plain ``uvicorn`` as before issue 11
   (``--server stock``).
3. Unloaded phase: one client sends ``GET /health`` and another decisive votes, each on its
   own keep-alive connection, one request at a time with a short pause, for ``--seconds``.
4. Attack phase: ``--connections`` slowloris connections each send a request line and then one
   header line every ``--drip`` seconds, never finishing the head; when the server closes
   one, its lifetime is recorded and it is reopened at once (a sustained attack). Once they
   are all open, the same two clients measure again for ``--seconds``.
5. Prints p50/p95/p99 of both latencies per phase, their attack/unloaded ratio, and the
   slowloris connections' lifetimes against the configured header timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from lean_client import LeanConnection  # bench/lean_client.py, beside this script
from validate_throughput import (  # beside this script
    ROOT,
    Vote,
    percentile,
    seed_world,
    throwaway_database,
    token_for,
)

from adapters.postgres import migrate

SLOW_REQUEST_LINE = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"


@dataclass
class Latencies:
    health: list[float] = field(default_factory=list)
    votes: list[float] = field(default_factory=list)
    failures: int = 0


@dataclass
class Attack:
    open_now: int = 0
    opened: int = 0
    lifetimes: list[float] = field(default_factory=list)  # of connections the server closed
    answers: dict[int, int] = field(default_factory=dict)  # status -> count


def serve(url: str, port: int, server: str, **settings: str) -> subprocess.Popen[bytes]:
    """Chorus in one process on 127.0.0.1:``port`` (``guarded``: ``chorus serve``; ``stock``:
    plain uvicorn), with ``settings`` (environment variables) over the benchmark's own."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CHORUS_ENV": "test",
        "CHORUS_WORKERS": "1",
        "CHORUS_CONSENSUS_POLICY": "majority",
        "CHORUS_WRITE_RATE_LIMIT_PER_MINUTE": "100000",
        "CHORUS_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        **settings,
    }
    if server == "guarded":
        command = [str(Path(sys.executable).with_name("chorus")), "serve", "--port", str(port)]
    else:
        command = [
            *(sys.executable, "-m", "uvicorn", "entrypoints.http.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = f"http://127.0.0.1:{port}/health"
        with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=1):
            return process
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit("the app did not start")


async def measure(base: str, votes: list[Vote], seconds: float) -> Latencies:
    """Sequential /health requests and sequential decisive votes, side by side."""
    result = Latencies()
    stop_at = time.monotonic() + seconds

    async def health() -> None:
        connection = LeanConnection(base)
        try:
            while time.monotonic() < stop_at:
                began = time.perf_counter()
                response = await connection.get("/health")
                result.health.append(time.perf_counter() - began)
                result.failures += response.status != 200
                await asyncio.sleep(0.01)
        finally:
            await connection.aclose()

    async def vote() -> None:
        connection = LeanConnection(base)
        try:
            while time.monotonic() < stop_at and votes:
                ballot = votes.pop()
                began = time.perf_counter()
                response = await connection.post_json(
                    "/monetization/validate",
                    {"clipId": str(ballot.clip), "verdict": "valid"},
                    {"Authorization": f"Bearer {token_for(ballot.voter)}"},
                )
                result.votes.append(time.perf_counter() - began)
                result.failures += response.status != 200 or not response.json()["decided"]
                await asyncio.sleep(0.02)
        finally:
            await connection.aclose()

    await asyncio.gather(health(), vote())
    return result


async def slowloris(port: int, attack: Attack, drip: float, stop: asyncio.Event) -> None:
    """One attacker's connection, reopened whenever the server closes it."""
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        opened = time.monotonic()
        attack.opened += 1
        attack.open_now += 1
        try:
            writer.write(SLOW_REQUEST_LINE)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    answer = await asyncio.wait_for(reader.read(4096), drip)
                    if answer.startswith(b"HTTP/1.1 "):
                        status = int(answer[9:12])
                        attack.answers[status] = attack.answers.get(status, 0) + 1
                    attack.lifetimes.append(time.monotonic() - opened)
                    break
                writer.write(b"X-Drip: 1\r\n")
                await writer.drain()
        except ConnectionError:
            attack.lifetimes.append(time.monotonic() - opened)
        finally:
            attack.open_now -= 1
            writer.close()


def row(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"{name:<28} {len(ms):>6} {percentile(ms, 0.5):>8.1f} {percentile(ms, 0.95):>8.1f} "
        f"{percentile(ms, 0.99):>8.1f}"
    )


async def main(args: argparse.Namespace) -> None:
    server_url = args.database_url or os.environ.get("BENCH_DATABASE_URL")
    async with throwaway_database(server_url) as url:
        await migrate.upgrade(url)
        connection = await asyncpg.connect(url)
        try:
            votes = await seed_world(connection, args.votes)
            await connection.execute(
                "INSERT INTO reward_rates (id, kind, amount_minor, currency, valid_from, "
                "created_at) SELECT gen_random_uuid(), k, 1000, 'NGN', now() - interval '1 day',"
                " now() FROM unnest(ARRAY['clip_accepted', 'validation_agreed']) AS k"
            )
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()
        process = serve(
            url,
            args.port,
            args.server,
            CHORUS_HTTP_HEADER_TIMEOUT_SECONDS=str(args.header_timeout),
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            await measure(base, votes, 2)  # warm-up
            quiet = await measure(base, votes, args.seconds)
            attack, stop = Attack(), asyncio.Event()
            attackers = [
                asyncio.create_task(slowloris(args.port, attack, args.drip, stop))
                for _ in range(args.connections)
            ]
            for _ in range(100):
                if attack.open_now >= args.connections:
                    break
                await asyncio.sleep(0.05)
            held = attack.open_now
            loaded = await measure(base, votes, args.seconds)
            still_open = attack.open_now
            stop.set()
            await asyncio.gather(*attackers)
        finally:
            process.terminate()
            process.wait(timeout=20)

    print(f"server: {args.server}; header timeout {args.header_timeout:g} s (guarded only)")
    print(f"{'':<28} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    print(row("GET /health, unloaded", quiet.health))
    print(row(f"GET /health, {args.connections} slowloris", loaded.health))
    print(row("decisive vote, unloaded", quiet.votes))
    print(row(f"decisive vote, {args.connections} slowloris", loaded.votes))
    for name, before, during in (
        ("GET /health", quiet.health, loaded.health),
        ("decisive vote", quiet.votes, loaded.votes),
    ):
        ratio = percentile(during, 0.99) / percentile(before, 0.99)
        print(f"p99 ratio under attack, {name}: {ratio:.2f}×")
    print(f"failed requests: {quiet.failures + loaded.failures}")
    print(
        f"slowloris: {held} open when measuring began, {attack.opened} opened in all, "
        f"{len(attack.lifetimes)} closed by the server ({attack.answers or 'no answers'}), "
        f"{still_open} still open when the phase ended"
    )
    if attack.lifetimes:
        print(
            f"lifetime of closed slowloris connections: max {max(attack.lifetimes):.2f} s, "
            f"p99 {percentile(attack.lifetimes, 0.99):.2f} s (header timeout "
            f"{args.header_timeout:g} s)"
        )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--drip", type=float, default=1.0, help="seconds between header lines")
    parser.add_argument("--server", choices=("guarded", "stock"), default="guarded")
    parser.add_argument("--header-timeout", type=float, default=10.0)
    parser.add_argument("--votes", type=int, default=3000, help="clips seeded for votes")
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--database-url", help="a server to make the throwaway database on")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
