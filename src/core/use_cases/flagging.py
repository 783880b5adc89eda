"""Filing a flag in the caller's unit of work: members' flags (``CreateFlag``) and Chorus's
own (repeated audio, bursts) share it, so that both open a case and the threshold is applied
in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.moderation import (
    Action,
    ActorKind,
    Decision,
    DecisionReason,
    Flag,
    FlagReason,
    Target,
    automatic_flag,
    reaches_threshold,
)
from core.domain.visibility import Visibility
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Filed:
    """``created``: the flag was stored (``False``: the reporter — or, for Chorus's own, the
    reason — already had an open flag on the target); ``hidden``: it hid the target."""

    created: bool
    hidden: bool = False


async def file_flag(
    uow: UnitOfWork,
    flag: Flag,
    target: Target,
    *,
    now: datetime,
    ids: IdGenerator,
    threshold: int,
) -> Filed:
    """Store ``flag`` on ``target`` (locked by the caller) and open its case. When the open
    flags that count reach ``threshold`` distinct reporters on a visible target, hide it —
    a system decision, appended to the audit log — pending review."""
    if not await uow.flags.add(flag, target.owner_id):
        return Filed(created=False)
    await uow.moderation_cases.open(target, now, ids.new_id())
    if not flag.counts:
        return Filed(created=True)
    reporters = await uow.flags.counting_reporters(target.ref)
    if not reaches_threshold(target, reporters, threshold):
        return Filed(created=True)
    await uow.moderation_targets.set_visibility(target.ref, Visibility.HIDDEN)
    await uow.moderation_cases.mark_auto_hidden(target.ref)
    await uow.decisions.append(
        Decision(
            id=ids.new_id(),
            target=target.ref,
            owner_id=target.owner_id,
            action=Action.HIDE,
            reason=DecisionReason.FLAG_THRESHOLD,
            note=None,
            actor_id=None,
            actor_kind=ActorKind.SYSTEM,
            created_at=now,
            summary={"visibility": [target.visibility.value, Visibility.HIDDEN.value],
                     "reporters": reporters},
        )
    )  # fmt: skip
    return Filed(created=True, hidden=True)


async def file_automatic_flag(
    uow: UnitOfWork,
    target: Target,
    reason: FlagReason,
    note: str,
    *,
    now: datetime,
    ids: IdGenerator,
) -> bool:
    """Chorus's own flag: puts the target in the moderators' queue (it never hides anything
    by itself). ``False`` when a flag with this reason is already open on the target."""
    flag = automatic_flag(
        flag_id=ids.new_id(), target=target.ref, reason=reason, note=note, now=now
    )
    # Chorus's own flags never count toward the threshold, so it is never consulted.
    filed = await file_flag(uow, flag, target, now=now, ids=ids, threshold=1)
    return filed.created
