"""Admin use cases of reward rates: list them, add one (rates are never edited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.domain.identity import Principal, Role, ensure_role
from core.domain.money import Money, normalise_currency
from core.domain.pagination import decode_stamped_position, encode_stamped_position
from core.domain.rewards import RewardKind, RewardRate, check_new_rate
from core.errors import Conflict, InvalidInput
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.ledger import RateRecord
from core.ports.unit_of_work import UnitOfWork


def _reward_kind(kind: str) -> RewardKind:
    try:
        return RewardKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in RewardKind)
        raise InvalidInput(f"kind must be one of {known}.", code="invalid_reward_kind") from None


@dataclass(frozen=True, slots=True)
class NewRewardRate:
    """What an admin asks for; ``valid_from`` defaults to now."""

    kind: str
    amount_minor: int
    currency: str
    language: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class AddRewardRate:
    """An admin adds a reward rate.

    Rules: admins (or the service identity) only; a positive whole amount of minor units in a
    supported currency; optionally for one language; it takes effect from ``valid_from``
    (now if omitted), which may not be in the past, and may end at ``valid_to``. Rates are
    never edited: to change one, add another with a later ``valid_from`` (the latest start
    wins). Two rates for the same kind, currency and language may not start at the same
    instant (409 ``rate_exists``).
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator

    async def __call__(self, principal: Principal, new: NewRewardRate) -> RateRecord:
        ensure_role(principal, Role.ADMIN)
        now = self.clock.now()
        rate = RewardRate(
            id=self.ids.new_id(),
            kind=_reward_kind(new.kind),
            amount=Money(new.amount_minor, normalise_currency(new.currency)),
            valid_from=new.valid_from or now,
            valid_to=new.valid_to,
            language=new.language,
        )
        record = RateRecord(rate, principal.profile_id, now)
        async with self.uow_factory() as uow:
            existing = await uow.reward_rates.list_rates(
                currency=rate.amount.currency, kind=rate.kind
            )
            check_new_rate(rate, (r.rate for r in existing), now)
            if not await uow.reward_rates.add_if_absent(record):
                raise Conflict(
                    "A rate for this kind, currency and language already starts then.",
                    code="rate_exists",
                )
            await uow.commit()
        return record


@dataclass(frozen=True, slots=True)
class ListRewardRates:
    """The reward rates, latest start first (then latest added), optionally of one currency
    and kind, a page at a time (admins and the service identity only). ``cursor`` is the
    ``next_cursor`` of the previous page; ``next_cursor`` is ``None`` on the last one."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self,
        principal: Principal,
        *,
        currency: str | None = None,
        kind: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> RatePage:
        ensure_role(principal, Role.ADMIN)
        chosen_currency = normalise_currency(currency) if currency else None
        chosen_kind = _reward_kind(kind) if kind else None
        after = None
        if cursor:
            (valid_from, created_at), rate_id = decode_stamped_position(cursor, 2)
            after = (valid_from, created_at, rate_id)
        async with self.uow_factory() as uow:
            records = await uow.reward_rates.list_rates(
                currency=chosen_currency, kind=chosen_kind, after=after, limit=limit
            )
        last = records[-1] if len(records) == limit else None
        return RatePage(
            items=tuple(records),
            next_cursor=encode_stamped_position(
                (last.rate.valid_from, last.created_at), last.rate.id
            )
            if last
            else None,
        )


@dataclass(frozen=True, slots=True)
class RatePage:
    items: tuple[RateRecord, ...]
    next_cursor: str | None
