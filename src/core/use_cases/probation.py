"""Whether a member is on validation probation now, asked by payouts.

This is the one place outside validation that asks. Probation is decided by the periodic
refit of the consensus model and stored with the validator's record
(``core.domain.accuracy``); when the probation rule changes, re-point this function and
payouts follow.
"""

from __future__ import annotations

from uuid import UUID

from core.ports.unit_of_work import UnitOfWork


async def is_on_probation_now(uow: UnitOfWork, member_id: UUID) -> bool:
    """True when the member is on probation at this moment, read inside ``uow`` (so in the
    same transaction as the payout that depends on it)."""
    return (await uow.validator_stats.get(member_id)).on_probation
