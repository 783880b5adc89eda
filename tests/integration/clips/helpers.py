"""Shared steps of the clips and validation tests."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.audio import wav_bytes
from tests.tokens import member_headers

AUDIO = wav_bytes(2.0)


async def upload(client, headers, *, language="yo", prompt="Ẹ káàárọ̀", audio=AUDIO, client_id=None):
    files = {"audio": ("clip.wav", audio, "audio/wav")}
    form = {"language": language, "prompt": prompt, "clientId": str(client_id or uuid.uuid4())}
    return await client.post("/clips", files=files, data=form, headers=headers)


async def new_clip(client, language="yo") -> tuple[str, dict[str, str]]:
    """A clip by a new member; returns its id and its contributor's headers."""
    headers = member_headers()
    response = await upload(client, headers, language=language)
    assert response.status_code == 201, response.text
    return response.json()["id"], headers


async def serve(client, headers, language="yo", limit=50) -> list[str]:
    """Read the caller's queue, as the app does before voting: what it returns is recorded
    as served to the caller (a vote counts only on a clip served to its voter)."""
    response = await client.get(
        f"/monetization/queue?language={language}&limit={limit}", headers=headers
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def vote(client, headers, clip_id, verdict="valid", *, language="yo"):
    """Read the queue (serving whatever it holds), then vote on ``clip_id``."""
    await serve(client, headers, language)
    return await cast(client, headers, clip_id, verdict)


async def cast(client, headers, clip_id, verdict="valid"):
    """Vote without reading the queue first."""
    return await client.post(
        "/monetization/validate", json={"clipId": clip_id, "verdict": verdict}, headers=headers
    )


async def scalar(engine, sql: str, **params):
    async with engine.connect() as connection:
        return await connection.scalar(sa.text(sql), params)


async def execute(engine, sql: str, **params) -> None:
    async with engine.begin() as connection:
        await connection.execute(sa.text(sql), params)
