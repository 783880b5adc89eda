"""Use cases of a member's own money: balance and history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.domain.identity import Principal, ensure_may_read
from core.domain.ledger import MemberBalance
from core.domain.money import normalise_currency
from core.domain.rewards import RewardRules
from core.errors import InvalidInput
from core.ports.ledger import BalanceLookup, LedgerEntry
from core.ports.unit_of_work import UnitOfWork

MAX_HISTORY_PAGE = 100


@dataclass(frozen=True, slots=True)
class GetMyBalance:
    """The caller's own balance: available, pending, on hold and lifetime earned (earned
    minus reversed), in one currency — the reward currency unless another is asked for.

    Rules: members only (banned members may read nothing); only one's own balance — there is
    no way to name another member.
    """

    balances: BalanceLookup
    rules: RewardRules

    async def __call__(self, principal: Principal, currency: str | None = None) -> MemberBalance:
        member = principal.require_member()
        ensure_may_read(member)
        chosen = normalise_currency(currency) if currency else self.rules.currency
        return await self.balances.member_balance(member.id, chosen)


@dataclass(frozen=True, slots=True)
class ListMyTransactions:
    """The caller's own ledger history, newest first, a page at a time, each entry with what
    it was for (the clip and reward kind of an earning, or of the earning a release or
    reversal closes).

    Rules: members only (banned members may read nothing); only one's own history.
    """

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, principal: Principal, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[LedgerEntry]:
        member = principal.require_member()
        ensure_may_read(member)
        if not 1 <= limit <= MAX_HISTORY_PAGE:
            raise InvalidInput(f"limit must be 1–{MAX_HISTORY_PAGE}.", code="invalid_limit")
        async with self.uow_factory() as uow:
            return await uow.ledger.history(member.id, before=before, limit=limit)
