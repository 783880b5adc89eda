"""Offline sync: one 500-operation push against 500 single requests, and pull latency for a
member with 10,000 changes.

    .venv/bin/python bench/sync_bench.py [--ops 500] [--rounds 3] [--changes 10000]
        [--database-url postgresql://…]

Not a test: run it by hand. On a throwaway database (``--database-url`` /
``BENCH_DATABASE_URL``'s server, else an embedded ``pgserver``) it serves the real app
(uvicorn on 127.0.0.1, one process) and drives it with the lean keep-alive client
(``bench/lean_client.py``), one request at a time:

1. push against singles, ``--rounds`` times with fresh validators: validator A pushes
   ``--ops`` ``validation.submit`` operations in one ``POST /sync/push``; validator B sends
   the same number of ``POST /monetization/validate`` one after the other, on clips of the
   same shape (pending, served an hour ago, no other vote: each vote counts and decides
   nothing); then A replays the push (every result a duplicate). Medians of the rounds.
2. pull: a member with ``--changes`` changes (70 % clips, 30 % notifications): the first
   pull (the whole state) page by page; then every one of those rows changes again and the
   next pull brings the changes page by page; then an idle pull (nothing changed) 200
   times. Page sizes 100 (the default) and 500 (the largest).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import asyncpg
from lean_client import LeanConnection  # bench/lean_client.py, beside this script
from validate_throughput import percentile, running_app, throwaway_database, token_for

from adapters.postgres import migrate

LANGUAGE = "yo"


async def seed_clips(connection: asyncpg.Connection, contributor: uuid.UUID, n: int) -> list:
    rows = await connection.fetch(
        "INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, audio_key, "
        "audio_format, mime_type, duration_ms, size_bytes, queue_rank, created_at) "
        "SELECT gen_random_uuid(), $1, gen_random_uuid(), $2, 'Ẹ káàárọ̀', 'k', 'wav', "
        "'audio/wav', 2000, 100, 2, now() - make_interval(secs => i) "
        "FROM generate_series(1, $3) AS i RETURNING id",
        contributor,
        LANGUAGE,
        n,
    )
    return [row["id"] for row in rows]


async def new_profile(connection: asyncpg.Connection) -> uuid.UUID:
    profile = uuid.uuid4()
    await connection.execute(
        "INSERT INTO profiles (id, role, status, languages, created_at, updated_at) "
        "VALUES ($1, 'member', 'active', '{}', now(), now())",
        profile,
    )
    return profile


async def served_voter(connection: asyncpg.Connection, clips: list) -> uuid.UUID:
    voter = await new_profile(connection)
    await connection.execute(
        "INSERT INTO clip_servings (validator_id, clip_id, served_at) "
        "SELECT $1, unnest($2::uuid[]), now() - interval '1 hour'",
        voter,
        clips,
    )
    return voter


async def push_vs_singles(url: str, base: str, ops: int, rounds: int) -> dict[str, float]:
    connection = await asyncpg.connect(url)
    contributor = await new_profile(connection)
    timings: dict[str, list[float]] = {"push": [], "replay": [], "singles": []}
    try:
        for _ in range(rounds):
            pusher = await served_voter(connection, await seed_clips(connection, contributor, ops))
            singler = await served_voter(connection, await seed_clips(connection, contributor, ops))
            await connection.execute("ANALYZE")
            batch = {
                "deviceId": "bench-phone",
                "ops": [
                    {
                        "opId": str(uuid.uuid4()),
                        "type": "validation.submit",
                        "payload": {"clipId": str(clip), "verdict": "valid"},
                        "occurredAt": datetime.now(UTC).isoformat(),
                    }
                    for clip in await pushed_ids(connection, pusher)
                ],
            }
            client = LeanConnection(base)
            headers = {"Authorization": f"Bearer {token_for(pusher)}"}
            await client.get("/me", headers)  # first sight of the member, outside the timing
            started = time.perf_counter()
            response = await client.post_json("/sync/push", batch, headers)
            timings["push"].append(time.perf_counter() - started)
            results = response.json()["results"]
            assert response.status == 200, response.body[:300]
            assert {r["status"] for r in results} == {"applied"}, results[:3]
            started = time.perf_counter()
            response = await client.post_json("/sync/push", batch, headers)
            timings["replay"].append(time.perf_counter() - started)
            assert {r["status"] for r in response.json()["results"]} == {"duplicate"}
            await client.aclose()

            client = LeanConnection(base)
            headers = {"Authorization": f"Bearer {token_for(singler)}"}
            await client.get("/me", headers)
            clips = await pushed_ids(connection, singler)
            started = time.perf_counter()
            for clip in clips:
                body = {"clipId": str(clip), "verdict": "valid"}
                response = await client.post_json("/monetization/validate", body, headers)
                assert response.status == 200, response.body[:300]
            timings["singles"].append(time.perf_counter() - started)
            await client.aclose()
            assert len(clips) == ops
    finally:
        await connection.close()
    return {name: statistics.median(values) for name, values in timings.items()}


async def pushed_ids(connection: asyncpg.Connection, voter: uuid.UUID) -> list:
    rows = await connection.fetch(
        "SELECT clip_id FROM clip_servings WHERE validator_id = $1 ORDER BY clip_id", voter
    )
    return [row["clip_id"] for row in rows]


async def seed_member_with_changes(url: str, changes: int) -> uuid.UUID:
    connection = await asyncpg.connect(url)
    try:
        member = await new_profile(connection)
        await seed_clips(connection, member, changes * 7 // 10)
        await connection.execute(
            "INSERT INTO notifications (id, profile_id, category, title, body, data, "
            "created_at) SELECT gen_random_uuid(), $1, 'badge', 'A badge', 'You earned it', "
            "'{}'::jsonb, now() - make_interval(secs => i) FROM generate_series(1, $2) AS i",
            member,
            changes - changes * 7 // 10,
        )
        await connection.execute("VACUUM ANALYZE")
        return member
    finally:
        await connection.close()


async def change_everything(url: str, member: uuid.UUID) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "UPDATE voice_clips SET status = 'accepted', decided_at = now() "
            "WHERE contributor_id = $1",
            member,
        )
        await connection.execute(
            "UPDATE notifications SET read_at = now() WHERE profile_id = $1", member
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def walk(client: LeanConnection, headers: dict, cursor: str | None, limit: int):
    """Every page of one window: per-page latencies (ms), items, the next cursor."""
    latencies, items = [], 0
    while True:
        query = f"/sync/pull?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        started = time.perf_counter()
        response = await client.get(query, headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status == 200, response.body[:300]
        page = response.json()
        items += len(page["clips"]) + len(page["notifications"])
        cursor = page["cursor"]
        if not page["hasMore"]:
            return latencies, items, cursor


def describe(name: str, latencies: list[float], items: int) -> str:
    return (
        f"{name:<34} pages {len(latencies):>3}  items {items:>6}  total {sum(latencies):8.1f} ms"
        f"  page p50 {statistics.median(latencies):6.1f}  p95 {percentile(latencies, 0.95):6.1f}"
    )


async def pulls(url: str, base: str, changes: int) -> list[str]:
    lines = []
    for limit in (100, 500):
        member = await seed_member_with_changes(url, changes)
        client = LeanConnection(base)
        headers = {"Authorization": f"Bearer {token_for(member)}"}
        await client.get("/me", headers)
        latencies, items, cursor = await walk(client, headers, None, limit)
        assert items == changes, items
        lines.append(describe(f"first pull, limit {limit}", latencies, items))
        await change_everything(url, member)
        latencies, items, cursor = await walk(client, headers, cursor, limit)
        assert items == changes, items
        lines.append(describe(f"{changes:,} changes since, limit {limit}", latencies, items))
        idle = []
        for _ in range(200):
            latencies, items, cursor = await walk(client, headers, cursor, limit)
            assert items == 0
            idle += latencies
        lines.append(describe(f"nothing changed (x200), limit {limit}", idle, 0))
        await client.aclose()
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    async with throwaway_database(args.database_url) as url:
        await migrate.upgrade(url)
        with running_app(url, args.port, 1, "WARNING", None) as (base,):
            medians = await push_vs_singles(url, base, args.ops, args.rounds)
            pull_lines = await pulls(url, base, args.changes)
    ops = args.ops
    print(f"\n{ops} operations, median of {args.rounds} rounds, one client, one app process:")
    print(f"  one push of {ops} votes     {medians['push'] * 1000:8.1f} ms"
          f"  ({medians['push'] * 1000 / ops:.2f} ms per op)")  # fmt: skip
    print(f"  {ops} single requests        {medians['singles'] * 1000:8.1f} ms"
          f"  ({medians['singles'] * 1000 / ops:.2f} ms per request)")  # fmt: skip
    print(f"  replayed push ({ops} dups)   {medians['replay'] * 1000:8.1f} ms")
    print(f"  singles / push: {medians['singles'] / medians['push']:.2f}")
    print(f"\npull, a member with {args.changes:,} changes:")
    for line in pull_lines:
        print("  " + line)


if __name__ == "__main__":
    asyncio.run(main())
