"""Applying a moderation decision's effects in the decision's unit of work: visibility,
the member's status and name, reversal of pending earnings, ending streams, freezing
payouts and switching off devices."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from core.domain.identity import Principal, Profile
from core.domain.live import LiveStream, end_stream
from core.domain.member_notifications import TokenDeactivation
from core.domain.moderation import Effects, StreamEnding, Target, TargetType
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.live import ENDED_BY_SERVICE, room_close_requested, stream_ended_event
from core.use_cases.rewards import reverse_clip_earnings


async def apply_effects(
    uow: UnitOfWork,
    effects: Effects,
    *,
    target: Target,
    owner: Profile,
    actor: Principal,
    memo: str,
    now: datetime,
    ids: IdGenerator,
) -> dict[str, Any]:
    """Apply ``effects`` (target and owner locked by the caller); returns what changed, with
    ids and counts only, for the audit log."""
    summary: dict[str, Any] = {}
    profile = owner
    if effects.visibility is not None:
        summary["visibility"] = [target.visibility.value, effects.visibility.value]
        if target.ref.type is TargetType.PROFILE:
            profile = replace(profile, visibility=effects.visibility)
        else:
            await uow.moderation_targets.set_visibility(target.ref, effects.visibility)
    if effects.member_status is not None:
        summary["status"] = [owner.status.value, effects.member_status.value]
        profile = replace(profile, status=effects.member_status)
    if effects.clear_display_name and owner.display_name is not None:
        summary["displayNameCleared"] = True
        profile = replace(profile, display_name=None)
    if profile != owner:
        await uow.profiles.save(replace(profile, updated_at=now))
    if effects.reverse_earnings:
        reversed_ = await reverse_clip_earnings(
            uow, clip_id=target.ref.id, ids=ids, now=now, reason=memo
        )
        summary["earningsReversed"] = len(reversed_)
    ended = await _end_streams(uow, effects.end_streams, target, owner, actor, now, ids)
    if ended:
        summary["streamsEnded"] = [str(stream.id) for stream in ended]
    if effects.freeze_payouts:
        await uow.payouts.set_frozen(owner.id, frozen=True, reason=memo, at=now)
        summary["payoutsFrozen"] = True
    if effects.deactivate_devices:
        devices = await uow.push_tokens.list_for(owner.id, active_only=True)
        if devices:
            await uow.push_tokens.deactivate(
                [device.token for device in devices],
                reason=TokenDeactivation.BANNED.value,
                now=now,
            )
        summary["devicesDeactivated"] = len(devices)
    return summary


async def _end_streams(
    uow: UnitOfWork,
    ending: StreamEnding,
    target: Target,
    owner: Profile,
    actor: Principal,
    now: datetime,
    ids: IdGenerator,
) -> list[LiveStream]:
    """End the streams in the database now; their video rooms are closed by the worker
    (``live.room_close_requested``), so the decision never waits for the video service."""
    if ending is StreamEnding.NONE:
        return []
    if ending is StreamEnding.TARGET:
        stream_ids = [target.ref.id]
    else:
        stream_ids = [stream.id for stream in await uow.live_streams.live_streams_of(owner.id)]
    ended_by = str(actor.profile_id) if actor.profile_id else ENDED_BY_SERVICE
    ended: list[LiveStream] = []
    for stream_id in sorted(stream_ids):
        stream = await uow.live_streams.get(stream_id, lock=True)
        if stream is None or not stream.is_live:
            continue
        over = end_stream(stream, actor, now)
        await uow.live_streams.save(over)
        uow.record(stream_ended_event(ids.new_id(), over, ended_by))
        uow.record(room_close_requested(ids.new_id(), over, now))
        ended.append(over)
    return ended
