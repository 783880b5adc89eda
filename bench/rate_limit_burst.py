"""Benchmark: one member's burst of writes across a wall-clock minute boundary (issue 11's
reproduction: 260 writes in 3.1 s at 120/min let 231 through with fixed windows).

    .venv/bin/python bench/rate_limit_burst.py [--writes 260] [--seconds 3.1]
        [--redis-url redis://127.0.0.1:6379/14] [--database-url postgresql://…]

Not a test: run it by hand (bounded: it waits for the next minute boundary, at most a
minute, then sends ``--writes`` PATCH /me over ``--seconds`` from 4 keep-alive connections
to ``chorus serve`` on 127.0.0.1 with the default limit of 120 per minute). The limits live
in PostgreSQL, or in Redis with ``--redis-url``. Prints how many were admitted and refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

from lean_client import LeanConnection  # bench/lean_client.py, beside this script
from slowloris import serve  # beside this script
from validate_throughput import throwaway_database, token_for  # beside this script

from adapters.postgres import migrate

CONNECTIONS = 4


async def burst(port: int, writes: int, seconds: float) -> tuple[list[int], float]:
    token = token_for(uuid.uuid4())
    headers = {"Authorization": f"Bearer {token}"}
    # Start 1.5 s before the next minute boundary, so the burst straddles it.
    await asyncio.sleep((60 - time.time() % 60 - 1.5) % 60)
    connections = [LeanConnection(f"http://127.0.0.1:{port}") for _ in range(CONNECTIONS)]
    statuses: list[int] = []
    started = time.monotonic()

    async def send(first: int) -> None:
        for n in range(first, writes, CONNECTIONS):
            await asyncio.sleep(max(0.0, started + seconds * n / (writes - 1) - time.monotonic()))
            response = await connections[first].request_json(
                "PATCH", "/me", {"displayName": f"burst {n}"}, headers
            )
            statuses.append(response.status)

    try:
        await asyncio.gather(*(send(k) for k in range(CONNECTIONS)))
    finally:
        for connection in connections:
            await connection.aclose()
    return statuses, time.monotonic() - started


async def main(args: argparse.Namespace) -> None:
    server_url = args.database_url or os.environ.get("BENCH_DATABASE_URL")
    store = {"REDIS_URL": args.redis_url} if args.redis_url else {}
    async with throwaway_database(server_url) as url:
        await migrate.upgrade(url)
        process = serve(
            url, args.port, "guarded", CHORUS_WRITE_RATE_LIMIT_PER_MINUTE="120", **store
        )
        try:
            statuses, took = await burst(args.port, args.writes, args.seconds)
        finally:
            process.terminate()
            process.wait(timeout=20)
    print(
        json.dumps(
            {
                "store": "redis" if args.redis_url else "postgresql",
                "limit_per_minute": 120,
                "sent": len(statuses),
                "seconds": round(took, 2),
                "admitted": statuses.count(200),
                "refused_429": statuses.count(429),
                "other": len(statuses) - statuses.count(200) - statuses.count(429),
            }
        )
    )


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=260)
    parser.add_argument("--seconds", type=float, default=3.1)
    parser.add_argument("--redis-url", help="keep the limits in this Redis instead")
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--database-url", help="a server to make the throwaway database on")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
