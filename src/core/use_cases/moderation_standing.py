"""A member's standing as moderators weigh it: flags against them and by them, decisions,
validation accuracy and fraud signals (``chorus moderation standing``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from core.domain.accuracy import ValidatorRecord
from core.domain.dawid_skene import Reliability
from core.domain.fraud import FraudSignal
from core.domain.identity import Principal, Profile, Role, ensure_role
from core.domain.moderation import Decision, FlagReason, FlagStatus
from core.domain.validation import ValidationRules
from core.errors import NotFound
from core.ports.moderation import CapDay
from core.ports.unit_of_work import UnitOfWork

RECENT = 20


@dataclass(frozen=True, slots=True)
class MemberStanding:
    """Everything moderation knows about one member, newest first where listed."""

    profile: Profile
    flags_against: Mapping[FlagStatus, Mapping[FlagReason, int]]
    flags_raised: Mapping[FlagStatus, int]
    decisions: Sequence[Decision]
    validator: ValidatorRecord
    reliability: Reliability
    signals: Sequence[FraudSignal]
    capped_days: Sequence[CapDay]
    payouts_frozen: bool


@dataclass(frozen=True, slots=True)
class GetMemberStanding:
    """A member's flags (on their content and profile, per status and reason; the ones they
    raised, per status — how often their reports were upheld), the latest decisions about
    them, their validation accuracy (live rates and probation), their latest fraud signals,
    days the earnings cap withheld something, and whether their payouts are frozen.
    Moderators, admins and the service identity only."""

    uow_factory: Callable[[], UnitOfWork]
    rules: ValidationRules
    recent: int = RECENT

    async def __call__(self, principal: Principal, profile_id: UUID) -> MemberStanding:
        ensure_role(principal, Role.MODERATOR, Role.ADMIN)
        async with self.uow_factory() as uow:
            profile = await uow.profiles.get(profile_id)
            if profile is None:
                raise NotFound("No such member.", code="profile_not_found")
            record, model = await uow.validator_stats.get_with_model(profile_id)
            return MemberStanding(
                profile=profile,
                flags_against=await uow.flags.against_member(profile_id),
                flags_raised=await uow.flags.raised_by(profile_id),
                decisions=await uow.decisions.page(
                    before=None, limit=self.recent, member_id=profile_id
                ),
                validator=record,
                reliability=record.standing(self.rules.accuracy, model).reliability,
                signals=await uow.fraud_signals.for_member(profile_id, self.recent),
                capped_days=await uow.daily_earnings.withheld_days(profile_id, self.recent),
                payouts_frozen=await uow.payouts.is_frozen(profile_id),
            )
