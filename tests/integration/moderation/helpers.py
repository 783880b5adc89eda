"""Shared steps of the moderation tests: members with a role, rates, clips with audio of
their own (identical audio is flagged as repeated), flags and decisions over HTTP."""

from __future__ import annotations

import itertools
import uuid

from tests.audio import wav_bytes
from tests.integration.clips.helpers import execute, upload
from tests.integration.money.test_money_http import AGREED_RATE, CLIP_RATE, add_rates

__all__ = ["AGREED_RATE", "CLIP_RATE", "add_rates"]
from tests.tokens import member_headers

_frames = itertools.count(1)


def distinct_audio() -> bytes:
    """About two seconds of tone, one sample longer than the previous clip's: audio no other
    clip of the session has."""
    return wav_bytes((16_000 + next(_frames) + 0.5) / 8000)  # +0.5: whole frames despite floats


async def member(client, engine, role: str = "member") -> tuple[uuid.UUID, dict[str, str]]:
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    if role != "member":
        await execute(engine, "UPDATE profiles SET role = :role WHERE id = :id", role=role,
                      id=subject)  # fmt: skip
    return subject, member_headers(subject)


async def clip_by(client, headers, language: str = "yo", prompt: str = "Ẹ káàárọ̀") -> str:
    response = await upload(client, headers, language=language, prompt=prompt,
                            audio=distinct_audio())  # fmt: skip
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def flag(client, headers, target_id: str, reason: str = "offensive",
               target_type: str = "clip", **more: object):  # fmt: skip
    return await client.post(
        "/moderation/flags",
        json={"targetType": target_type, "targetId": target_id, "reason": reason, **more},
        headers=headers,
    )


async def decide(client, headers, target_id: str, action: str, reason: str = "offensive",
                 target_type: str = "clip", **more: object):  # fmt: skip
    return await client.post(
        "/moderation/decisions",
        json={"targetType": target_type, "targetId": target_id, "action": action,
              "reason": reason, **more},
        headers=headers,
    )  # fmt: skip
