"""Use cases of a member's payouts: asking for one, and reading one's own (admins read all)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.identity import Principal, Role, ensure_may_read, ensure_role
from core.domain.ledger import payout_held
from core.domain.payouts import (
    DAILY_WINDOW,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    Payout,
    PayoutNotFound,
    PayoutRefused,
    PayoutRequest,
    PayoutRules,
    PayoutStatus,
    check_amount_rules,
    check_destination,
    check_idempotency_key,
    check_member_may_withdraw,
    checked_amount,
    event_payload,
)
from core.errors import InvalidInput
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.unit_of_work import UnitOfWork
from core.use_cases.probation import is_on_probation_now

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class PayoutReceipt:
    """The answer to a payout request: the payout as it was recorded, and whether this was
    a replay of an earlier request with the same key and body."""

    payout: Payout
    replayed: bool


def as_recorded(payout: Payout) -> Payout:
    """The payout as the request recorded it (a replay answers exactly what the first
    request answered, whatever happened since)."""
    return replace(
        payout,
        status=PayoutStatus.REQUESTED,
        updated_at=payout.requested_at,
        attempts=0,
        transfer_code=None,
        failure_code=None,
        failure_detail=None,
        finished_at=None,
    )


@dataclass(frozen=True, slots=True)
class RequestPayout:
    """A member withdraws part of their available balance.

    Rules: an ``Idempotency-Key`` is required (400 ``idempotency_key_required`` without);
    keys belong to the member and are kept as long as the payout; the same key with the same
    body answers the recorded payout again, with another body 422
    ``idempotency_key_reused``, and while the first request is still running 409
    ``idempotency_key_in_use``. The amount is a positive whole number of minor units of a
    supported currency, at least the minimum, and with the last 24 hours' payouts within the
    daily cap; at most one payout in flight per member (409 ``payout_in_flight``); the
    member is active, not on probation and not frozen (403); the destination — the one
    named, or the member's default in that currency — is their own, confirmed and in that
    currency. The amount moves ``available → payout_hold`` in the same transaction that
    records the payout (409 ``insufficient_funds`` when it does not fit), and
    ``payout.requested`` is recorded for the worker, which asks the provider to transfer.
    """

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    ids: IdGenerator
    rules: PayoutRules

    async def __call__(
        self, principal: Principal, request: PayoutRequest, idempotency_key: str | None
    ) -> PayoutReceipt:
        member = principal.require_member()
        key = check_idempotency_key(idempotency_key)
        request = replace(request, idempotency_key=key)
        async with self.uow_factory() as uow:
            if not await uow.payouts.lock_request_key(member.id, key):
                raise IdempotencyKeyInUse("A request with this Idempotency-Key is running.")
            earlier = await uow.payouts.by_idempotency_key(member.id, key)
            if earlier is not None:
                if earlier.fingerprint != request.fingerprint():
                    raise IdempotencyKeyReused("This Idempotency-Key was used for another request.")
                return PayoutReceipt(as_recorded(earlier), replayed=True)
            amount = checked_amount(request)
            profile = await uow.profiles.get(member.id) or member
            check_member_may_withdraw(
                profile,
                on_probation=await is_on_probation_now(uow, member.id),
                frozen=await uow.payouts.is_frozen(member.id),
            )
            now = self.clock.now()
            recent = await uow.payouts.paid_out_since(
                member.id, amount.currency, now - DAILY_WINDOW
            )
            check_amount_rules(amount, self.rules, recent)
            destination = check_destination(
                await uow.payout_destinations.get(request.destination_id)
                if request.destination_id
                else await uow.payout_destinations.default_for(member.id, amount.currency),
                member.id,
                amount.currency,
            )
            payout = Payout(
                id=self.ids.new_id(),
                profile_id=member.id,
                destination_id=destination.id,
                provider=destination.provider,
                recipient_code=destination.recipient_code,
                amount=amount,
                status=PayoutStatus.REQUESTED,
                idempotency_key=key,
                fingerprint=request.fingerprint(),
                requested_at=now,
                updated_at=now,
            )
            if not await uow.payouts.add(payout):
                raise PayoutRefused(
                    "A payout is already in flight; wait until it finishes.",
                    code="payout_in_flight",
                )
            await uow.ledger.post(
                payout_held(
                    transaction_id=self.ids.new_id(),
                    payout_id=payout.id,
                    profile_id=member.id,
                    amount=amount,
                    occurred_at=now,
                )
            )
            uow.record(
                DomainEvent(self.ids.new_id(), "payout.requested", now, event_payload(payout))
            )
            await uow.commit()
        return PayoutReceipt(payout, replayed=False)


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be 1–{MAX_PAGE}.", code="invalid_limit")


@dataclass(frozen=True, slots=True)
class ListMyPayouts:
    """The caller's own payouts, newest first, a page at a time. Members only; banned
    members read nothing."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self, principal: Principal, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Payout]:
        member = principal.require_member()
        ensure_may_read(member)
        _check_limit(limit)
        async with self.uow_factory() as uow:
            return await uow.payouts.list_for_member(member.id, before=before, limit=limit)


@dataclass(frozen=True, slots=True)
class GetMyPayout:
    """One of the caller's own payouts; someone else's is "not found" (404), as is a
    payout that does not exist."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(self, principal: Principal, payout_id: UUID) -> Payout:
        member = principal.require_member()
        ensure_may_read(member)
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id)
        if payout is None or payout.profile_id != member.id:
            raise PayoutNotFound("No such payout.")
        return payout


@dataclass(frozen=True, slots=True)
class ListPayouts:
    """Everyone's payouts, newest first, optionally of one status (admins and the service
    identity only)."""

    uow_factory: Callable[[], UnitOfWork]

    async def __call__(
        self,
        principal: Principal,
        *,
        status: PayoutStatus | None,
        before: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Payout]:
        ensure_role(principal, Role.ADMIN)
        _check_limit(limit)
        async with self.uow_factory() as uow:
            return await uow.payouts.list_all(status=status, before=before, limit=limit)
