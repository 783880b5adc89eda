"""Shared steps of the offline sync tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.clips.helpers import scalar
from tests.integration.money.helpers import insert_clip, insert_profile


class MovableClock:
    """The app's clock, moved by the test (reservations, listening, retention)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def op(op_type: str, payload: Any, *, op_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"opId": op_id or str(uuid.uuid4()), "type": op_type, "payload": payload, **extra}


def vote_op(clip_id: object, verdict: str = "valid", **extra: Any) -> dict[str, Any]:
    return op("validation.submit", {"clipId": str(clip_id), "verdict": verdict}, **extra)


def skip_op(clip_id: object, **extra: Any) -> dict[str, Any]:
    return op("clip.skip", {"clipId": str(clip_id)}, **extra)


async def push(client, headers, ops: list[dict[str, Any]], device: str = "phone-1") -> list[dict]:
    response = await client.post(
        "/sync/push", json={"deviceId": device, "ops": ops}, headers=headers
    )
    assert response.status_code == 200, response.text
    results: list[dict] = response.json()["results"]
    assert [r["opId"] for r in results] == [o["opId"] for o in ops]
    return results


async def reserve(client, headers, language: str = "yo", size: int = 50) -> dict:
    response = await client.post(
        "/sync/batches", json={"language": language, "size": size}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def clips_of_new_members(engine: AsyncEngine, count: int, language: str = "yo") -> list:
    """``count`` pending clips, each by a member of its own, made in SQL."""
    return [
        await insert_clip(engine, await insert_profile(engine), language=language)
        for _ in range(count)
    ]


async def serve_in_sql(engine: AsyncEngine, validator: uuid.UUID, clip_ids: list) -> None:
    """As if the queue had served these clips to the validator an hour ago."""
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO clip_servings (validator_id, clip_id, served_at) "
                "SELECT :validator, unnest(CAST(:clips AS uuid[])), now() - interval '1 hour' "
                "ON CONFLICT DO NOTHING"
            ),
            {"validator": validator, "clips": list(clip_ids)},
        )


async def count(engine: AsyncEngine, table: str) -> int:
    return int(await scalar(engine, f"SELECT count(*) FROM {table}"))


async def bulk_clips(engine: AsyncEngine, count_: int, language: str = "yo") -> list[uuid.UUID]:
    """``count_`` pending clips by one contributor, made in one statement."""
    contributor = await insert_profile(engine)
    async with engine.begin() as connection:
        rows = await connection.execute(
            sa.text(
                "INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, "
                "audio_key, audio_format, mime_type, duration_ms, size_bytes, queue_rank, "
                "created_at) SELECT gen_random_uuid(), :contributor, gen_random_uuid(), "
                ":language, 'Ẹ káàárọ̀', 'k', 'wav', 'audio/wav', 2000, 100, 2, "
                "now() - make_interval(secs => i) FROM generate_series(1, :n) AS i RETURNING id"
            ),
            {"contributor": contributor, "language": language, "n": count_},
        )
        return [row.id for row in rows]
