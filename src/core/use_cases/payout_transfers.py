"""Use cases that move a payout's money through the provider: the worker's transfer, the
provider's signed notifications, transfer approval, reconciliation and operators' retries.

The one rule behind all of them: a payout is at most one transfer, named by the payout id.
Once a request for it may have reached the provider (``Payout.may_reach_provider``), the
provider is asked about that reference before anything else, and a new request is sent only
when the provider has no transfer with it — with the same reference, which the provider
refuses to pay twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from core.domain.events import DomainEvent
from core.domain.identity import Principal, ProfileStatus, Role, ensure_role
from core.domain.jobs import PermanentFailure
from core.domain.ledger import (
    JournalTransaction,
    TransactionKind,
    payout_failed,
    payout_hold_reference,
    payout_reversed,
    payout_settled,
    payout_settled_reference,
)
from core.domain.payouts import (
    Observation,
    Payout,
    PayoutChange,
    PayoutNotFound,
    PayoutRefused,
    PayoutStatus,
    TransferNotApproved,
    TransferState,
    event_payload,
    mark_sending,
    mark_waiting,
    note_problem,
    observe,
    payout_id_of,
)
from core.errors import DomainError
from core.ports.clock import Clock
from core.ports.ids import IdGenerator
from core.ports.payouts import (
    PayoutGateway,
    PayoutGateways,
    ProviderUnreachable,
    TransferApprovalVerifier,
    TransferEvent,
    TransferOrder,
    TransferOutcomeUnknown,
    TransferRefused,
    TransferWebhookVerifier,
)
from core.ports.unit_of_work import UnitOfWork

log = logging.getLogger("chorus.payouts")

TRANSFER_REASON = "Chorus earnings"
#: Where a payout stands once nothing more can be done for it now.
SETTLED_NAMES = {
    PayoutStatus.PAID: "payout.paid",
    PayoutStatus.FAILED: "payout.failed",
    PayoutStatus.REVERSED: "payout.failed",
}


async def apply_observation(
    uow: UnitOfWork, payout: Payout, seen: Observation, *, now: datetime, ids: IdGenerator
) -> PayoutChange:
    """Apply what the provider says to ``payout`` (locked in ``uow``): the new status, the
    ledger movement it needs and the member's event — all in ``uow``, committed by the
    caller. News that cannot move the payout forward changes nothing."""
    change = observe(payout, seen, now)
    if not change.changed:
        return change
    if change.movement is not None:
        await uow.ledger.post(await _movement(uow, change, now=now, ids=ids))
    await uow.payouts.save(change.after)
    name = SETTLED_NAMES.get(change.after.status)
    if name is not None:
        uow.record(DomainEvent(ids.new_id(), name, now, event_payload(change.after)))
    if change.after.status is PayoutStatus.OTP:
        log.error("payout_needs_otp payout=%s provider=%s", payout.id, payout.provider)
    return change


async def _movement(
    uow: UnitOfWork, change: PayoutChange, *, now: datetime, ids: IdGenerator
) -> JournalTransaction:
    payout = change.after
    if change.movement is TransactionKind.PAYOUT_REVERSED:
        settlement = await uow.ledger.by_reference(payout_settled_reference(payout.id))
        if settlement is None:
            raise PermanentFailure(f"Payout {payout.id} has no settlement to reverse.")
        return payout_reversed(
            transaction_id=ids.new_id(), payout_id=payout.id, settlement=settlement, occurred_at=now
        )
    hold = await uow.ledger.by_reference(payout_hold_reference(payout.id))
    if hold is None:
        raise PermanentFailure(f"Payout {payout.id} has no hold.")
    build = payout_settled if change.movement is TransactionKind.PAYOUT_SETTLED else payout_failed
    return build(transaction_id=ids.new_id(), payout_id=payout.id, hold=hold, occurred_at=now)


@dataclass(frozen=True, slots=True)
class SendPayout:
    """Event handler for ``payout.requested``; also what reconciliation and operators run.

    Rules: only a ``requested`` or ``sending`` payout is sent. If a request for it may
    already be at the provider, the provider is asked about its reference first and what it
    says is applied; only a transfer the provider does not know is sent (again, with the same
    reference). The payout is marked ``sending`` and committed before the request leaves. A
    member who is no longer active (suspended, banned) or whose payouts are frozen is not
    paid: the payout is *held* — it stays ``requested`` with its money on hold and is not
    sent (``failureCode`` ``payouts_frozen`` or ``member_not_active``) — until an admin
    decides: unfreezing (or restoring the member) lets reconciliation send it, cancelling
    (``CancelHeldPayout``) returns the hold. Outcomes:

    - the provider answers → its state is applied (``pending``, ``otp``, ``paid``, ``failed``);
    - it cannot be reached → the payout waits (``requested``) and the job retries later;
    - no usable answer (timeout, 5xx) → the payout stays ``sending``, the job retries, and
      the retry asks the provider about the reference first;
    - it refuses → the reference is checked first (a refusal can hide an earlier accepted
      request); a refusal retrying cannot fix fails the payout and returns the hold, one an
      operator can fix (provider balance, key, rate limit) leaves it waiting.
    """

    uow_factory: Callable[[], UnitOfWork]
    gateways: PayoutGateways
    clock: Clock
    ids: IdGenerator

    async def __call__(self, event: DomainEvent) -> None:
        payout_id = payout_id_of(str(event.payload.get("payoutId", "")))
        if payout_id is None:
            raise PermanentFailure("payout.requested names no payout.", code="malformed_event")
        await self.advance(payout_id)

    async def advance(self, payout_id: UUID) -> PayoutStatus:
        """Do what the payout needs next; return its status afterwards."""
        payout = await self._load(payout_id)
        gateway = self.gateways.named(payout.provider)
        if payout.status in {PayoutStatus.PENDING, PayoutStatus.OTP}:
            return await self._verify_accepted(payout, gateway)
        if payout.status not in {PayoutStatus.REQUESTED, PayoutStatus.SENDING}:
            return payout.status
        if payout.may_reach_provider:
            found = await gateway.find_transfer(payout.reference)
            if found is not None:
                return await self._apply(payout.id, found)
        sending = await self._claim_for_sending(payout.id)
        if sending.status is not PayoutStatus.SENDING:
            return sending.status
        order = TransferOrder(
            reference=sending.reference,
            amount=sending.amount,
            recipient_code=sending.recipient_code,
            reason=TRANSFER_REASON,
        )
        try:
            answer = await gateway.send_transfer(order)
        except ProviderUnreachable as error:
            code, detail = error.code, str(error)
            await self._update(payout.id, lambda p, now: mark_waiting(p, now, code, detail))
            raise
        except TransferOutcomeUnknown as error:
            code, detail = error.code, str(error)
            await self._update(payout.id, lambda p, now: note_problem(p, now, code, detail))
            raise
        except TransferRefused as error:
            return await self._after_refusal(payout.id, gateway, error)
        return await self._apply(payout.id, answer)

    async def _verify_accepted(self, payout: Payout, gateway: PayoutGateway) -> PayoutStatus:
        found = await gateway.find_transfer(payout.reference)
        if found is None:
            await self._update(
                payout.id,
                lambda p, now: note_problem(
                    p, now, "transfer_missing", "The provider has no transfer it had accepted."
                ),
            )
            log.error("payout_transfer_missing payout=%s", payout.id)
            return payout.status
        return await self._apply(payout.id, found)

    async def _after_refusal(
        self, payout_id: UUID, gateway: PayoutGateway, error: TransferRefused
    ) -> PayoutStatus:
        found = await gateway.find_transfer(str(payout_id))
        if found is not None:
            return await self._apply(payout_id, found)
        if error.permanent:
            refused = Observation(TransferState.FAILED, None, error.code, str(error))
            return await self._apply(payout_id, refused)
        await self._update(payout_id, lambda p, now: mark_waiting(p, now, error.code, str(error)))
        raise error

    async def _load(self, payout_id: UUID) -> Payout:
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id)
        if payout is None:
            raise PermanentFailure(f"No payout {payout_id}.", code="unknown_payout")
        return payout

    async def _claim_for_sending(self, payout_id: UUID) -> Payout:
        """Mark ``sending`` (committed before the request leaves), or hold the payout when
        the member may not be paid now."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id, lock=True)
            assert payout is not None
            if payout.status not in {PayoutStatus.REQUESTED, PayoutStatus.SENDING}:
                return payout
            held = await _hold_reason(uow, payout)
            if held is not None:
                code, detail = held
                waiting = mark_waiting(payout, now, code, detail)
                await uow.payouts.save(waiting)
                await uow.commit()
                log.warning("payout_held payout=%s member=%s reason=%s", payout.id,
                            payout.profile_id, code)  # fmt: skip
                return waiting
            sending = mark_sending(payout, now)
            await uow.payouts.save(sending)
            await uow.commit()
        return sending

    async def _apply(self, payout_id: UUID, seen: Observation) -> PayoutStatus:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id, lock=True)
            assert payout is not None
            change = await apply_observation(uow, payout, seen, now=now, ids=self.ids)
            await uow.commit()
        return change.after.status

    async def _update(self, payout_id: UUID, update: Callable[[Payout, datetime], Payout]) -> None:
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id, lock=True)
            assert payout is not None
            if payout.in_flight:
                await uow.payouts.save(update(payout, self.clock.now()))
                await uow.commit()


async def _hold_reason(uow: UnitOfWork, payout: Payout) -> tuple[str, str] | None:
    """Why the member's payout may not be sent now, or ``None``."""
    if await uow.payouts.is_frozen(payout.profile_id):
        return "payouts_frozen", "The member's payouts are frozen; held until an admin decides."
    profile = await uow.profiles.get(payout.profile_id)
    if profile is None or profile.status is not ProfileStatus.ACTIVE:
        return "member_not_active", "The member is suspended or banned; held until restored."
    return None


@dataclass(frozen=True, slots=True)
class CancelHeldPayout:
    """``chorus payouts cancel``: an admin (or the service identity) cancels a payout that
    has not reached the provider — typically one held because the member was banned or
    their payouts frozen. The hold goes back to ``available`` (``failed``, failure code
    ``cancelled``) and the member is told. A payout a request may have reached is first
    looked up by reference: found there, what the provider says is applied instead and the
    cancel is refused (409 ``payout_at_provider``); a finished payout is 409
    ``payout_finished``, one the worker moved meanwhile 409 ``payout_busy``."""

    uow_factory: Callable[[], UnitOfWork]
    gateways: PayoutGateways
    clock: Clock
    ids: IdGenerator

    async def __call__(self, principal: Principal, payout_id: UUID, reason: str) -> Payout:
        ensure_role(principal, Role.ADMIN)
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id)
        if payout is None:
            raise PayoutNotFound("No such payout.")
        if payout.status not in {PayoutStatus.REQUESTED, PayoutStatus.SENDING}:
            raise PayoutRefused(f"The payout is {payout.status}.", code="payout_finished")
        found = None
        if payout.may_reach_provider:
            found = await self.gateways.named(payout.provider).find_transfer(payout.reference)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            locked = await uow.payouts.get(payout_id, lock=True)
            assert locked is not None
            if found is not None:
                await apply_observation(uow, locked, found, now=now, ids=self.ids)
                await uow.commit()
                raise PayoutRefused(
                    "The provider has this transfer; it is settled from what they say.",
                    code="payout_at_provider",
                )
            if (locked.status, locked.attempts) != (payout.status, payout.attempts):
                raise PayoutRefused(
                    "The payout moved meanwhile; look at it again.", code="payout_busy"
                )
            cancelled = Observation(
                TransferState.FAILED, failure_code="cancelled", failure_detail=reason[:500]
            )
            change = await apply_observation(uow, locked, cancelled, now=now, ids=self.ids)
            await uow.commit()
        return change.after


@dataclass(frozen=True, slots=True)
class ReconcileSummary:
    checked: int
    settled: int
    in_flight: int
    errors: int


@dataclass(frozen=True, slots=True)
class ReconcilePayouts:
    """Periodic task and ``chorus payouts reconcile``: every payout in flight whose last
    change is older than ``older_than`` is advanced (``SendPayout.advance``): sent if it never
    reached the provider, otherwise looked up by its reference and settled from what the
    provider says. Safe to run anywhere at any time: it sends nothing the provider already
    has. One failing payout does not stop the others."""

    uow_factory: Callable[[], UnitOfWork]
    sender: SendPayout
    clock: Clock
    older_than: timedelta = timedelta(minutes=10)
    batch_size: int = 100

    async def __call__(self) -> ReconcileSummary:
        async with self.uow_factory() as uow:
            due = await uow.payouts.in_flight_before(
                self.clock.now() - self.older_than, self.batch_size
            )
        settled = in_flight = errors = 0
        for payout in due:
            try:
                status = await self.sender.advance(payout.id)
            except DomainError as error:
                errors += 1
                log.warning("payout_reconcile_failed payout=%s error=%s", payout.id, error.code)
                continue
            if status in {PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.REVERSED}:
                settled += 1
            else:
                in_flight += 1
        return ReconcileSummary(len(due), settled, in_flight, errors)


@dataclass(frozen=True, slots=True)
class RetryPayout:
    """``chorus payouts retry``: advance one payout in flight now, whatever its age.
    A finished payout is refused (409 ``payout_finished``)."""

    uow_factory: Callable[[], UnitOfWork]
    sender: SendPayout

    async def __call__(self, payout_id: UUID) -> PayoutStatus:
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id)
        if payout is None:
            raise PayoutNotFound("No such payout.")
        if not payout.in_flight:
            raise PayoutRefused(f"The payout is {payout.status}.", code="payout_finished")
        return await self.sender.advance(payout_id)


class NotificationOutcome(StrEnum):
    APPLIED = "applied"  # the payout moved
    UNCHANGED = "unchanged"  # news that changes nothing (late, or already known)
    DUPLICATE = "duplicate"  # this notification was handled before
    IGNORED = "ignored"  # not about a payout of ours, or not matching it


@dataclass(frozen=True, slots=True)
class HandleTransferWebhook:
    """A provider's signed notification about transfers.

    Rules: the signature must check out (401 otherwise, and nothing is written); events
    about references that are not payouts of ours, of another provider, or whose amount or
    recipient differ from the payout are ignored (and logged); each notification is applied
    once (a redelivery is ``duplicate``); the payout moves only forward — a late ``pending``
    after ``success`` changes nothing, a reversal after success returns the money — so
    duplicated and reordered deliveries move balances once. Events of one payout are applied
    one after another.
    """

    uow_factory: Callable[[], UnitOfWork]
    verifier: TransferWebhookVerifier
    clock: Clock
    ids: IdGenerator

    async def __call__(self, body: bytes, signature: str) -> list[NotificationOutcome]:
        events = self.verifier.verify(body, signature)
        return [await self._handle(event) for event in events]

    async def _handle(self, event: TransferEvent) -> NotificationOutcome:
        payout_id = payout_id_of(event.reference)
        if payout_id is None:
            return NotificationOutcome.IGNORED
        now = self.clock.now()
        async with self.uow_factory() as uow:
            payout = await uow.payouts.get(payout_id, lock=True)
            if payout is None or not _matches(payout, event, self.verifier.provider):
                log.warning(
                    "payout_webhook_ignored provider=%s reference=%.64s",
                    self.verifier.provider,
                    event.reference,
                )
                return NotificationOutcome.IGNORED
            if not await uow.payouts.mark_event_handled(self.verifier.provider, event.key, now):
                return NotificationOutcome.DUPLICATE
            change = await apply_observation(uow, payout, event.observation, now=now, ids=self.ids)
            await uow.commit()
        return NotificationOutcome.APPLIED if change.changed else NotificationOutcome.UNCHANGED


def _matches(payout: Payout, event: TransferEvent, provider: str) -> bool:
    return (
        payout.provider == provider
        and (event.amount is None or event.amount == payout.amount)
        and (event.recipient_code is None or event.recipient_code == payout.recipient_code)
    )


@dataclass(frozen=True, slots=True)
class ApproveTransfer:
    """Paystack's transfer approval: before sending, Paystack asks whether a transfer is
    ours. Approve only when every transfer asked about is a payout of ours that is being
    sent right now (``sending``), for exactly its amount and recipient; anything else is
    refused (400 ``transfer_not_approved``), so a leaked secret key cannot pay an attacker.
    A bad signature is 401."""

    uow_factory: Callable[[], UnitOfWork]
    verifier: TransferApprovalVerifier

    async def __call__(self, body: bytes, signature: str) -> int:
        requests = self.verifier.approval_requests(body, signature)
        if not requests:
            raise TransferNotApproved("No transfer to approve.")
        async with self.uow_factory() as uow:
            for request in requests:
                payout_id = payout_id_of(request.reference)
                payout = await uow.payouts.get(payout_id) if payout_id else None
                if not (
                    payout is not None
                    and payout.status is PayoutStatus.SENDING
                    and request.amount == payout.amount
                    and request.recipient_code == payout.recipient_code
                ):
                    log.warning("transfer_not_approved reference=%.64s", request.reference)
                    raise TransferNotApproved(
                        "This transfer is not one we asked for.", reference=request.reference
                    )
        return len(requests)
