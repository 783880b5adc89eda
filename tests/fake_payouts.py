"""In-memory fakes of the payout ports: payouts, destinations and a payment provider that
keeps its transfers by reference, as the real ones do."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from core.domain.money import Money
from core.domain.payouts import (
    IN_FLIGHT,
    AccountDetails,
    DestinationKind,
    Observation,
    Payout,
    PayoutDestination,
    PayoutStatus,
    Recipient,
    ResolvedAccount,
    TransferState,
)
from core.errors import FeatureUnavailable, InvalidInput, NotAuthenticated
from core.ports.payouts import (
    PayoutGateway,
    ProviderUnreachable,
    TransferEvent,
    TransferOrder,
    TransferOutcomeUnknown,
    TransferRefused,
)


@dataclass
class PayoutState:
    payouts: dict[uuid.UUID, Payout] = field(default_factory=dict)
    destinations: dict[uuid.UUID, PayoutDestination] = field(default_factory=dict)
    handled_events: set[tuple[str, str]] = field(default_factory=set)
    frozen: set[uuid.UUID] = field(default_factory=set)

    def copy(self) -> PayoutState:
        return PayoutState(
            dict(self.payouts), dict(self.destinations), set(self.handled_events), set(self.frozen)
        )


def _newest_first(items, key, before, limit):
    ordered = sorted(items, key=key, reverse=True)
    if before is not None:
        ordered = [item for item in ordered if key(item) < before]
    return ordered[:limit]


class FakePayoutRepository:
    """``held_keys`` is shared by every unit of work of a store (the locks they hold)."""

    def __init__(self, state: PayoutState, held_keys: set, mine: set) -> None:
        self._state = state
        self._held_keys = held_keys
        self._mine = mine

    async def lock_request_key(self, profile_id: uuid.UUID, key: str) -> bool:
        token = (profile_id, key)
        if token in self._held_keys and token not in self._mine:
            return False
        self._held_keys.add(token)
        self._mine.add(token)
        return True

    async def by_idempotency_key(self, profile_id: uuid.UUID, key: str) -> Payout | None:
        return next(
            (
                p
                for p in self._state.payouts.values()
                if p.profile_id == profile_id and p.idempotency_key == key
            ),
            None,
        )

    async def add(self, payout: Payout) -> bool:
        if any(
            p.profile_id == payout.profile_id and p.in_flight for p in self._state.payouts.values()
        ):
            return False
        assert payout.id not in self._state.payouts
        self._state.payouts[payout.id] = payout
        return True

    async def get(self, payout_id: uuid.UUID, *, lock: bool = False) -> Payout | None:
        return self._state.payouts.get(payout_id)

    async def save(self, payout: Payout) -> None:
        assert payout.id in self._state.payouts
        self._state.payouts[payout.id] = payout

    async def list_for_member(self, profile_id, *, before, limit) -> Sequence[Payout]:
        mine = [p for p in self._state.payouts.values() if p.profile_id == profile_id]
        return _newest_first(mine, lambda p: (p.requested_at, p.id), before, limit)

    async def list_all(self, *, status, before, limit) -> Sequence[Payout]:
        chosen = [p for p in self._state.payouts.values() if status is None or p.status is status]
        return _newest_first(chosen, lambda p: (p.requested_at, p.id), before, limit)

    async def paid_out_since(self, profile_id, currency, since) -> Money:
        counted = IN_FLIGHT | {PayoutStatus.PAID, PayoutStatus.REVERSED}
        return Money.total(
            (
                p.amount
                for p in self._state.payouts.values()
                if p.profile_id == profile_id
                and p.amount.currency == currency
                and p.requested_at >= since
                and p.status in counted
            ),
            currency,
        )

    async def in_flight_before(self, updated_before: datetime, limit: int) -> Sequence[Payout]:
        due = [
            p
            for p in self._state.payouts.values()
            if p.in_flight and p.updated_at <= updated_before
        ]
        return sorted(due, key=lambda p: (p.updated_at, p.id))[:limit]

    async def mark_event_handled(self, provider: str, event_key: str, at: datetime) -> bool:
        if (provider, event_key) in self._state.handled_events:
            return False
        self._state.handled_events.add((provider, event_key))
        return True

    async def is_frozen(self, profile_id: uuid.UUID) -> bool:
        return profile_id in self._state.frozen

    async def set_frozen(self, profile_id, *, frozen: bool, reason: str, at) -> None:
        if frozen:
            self._state.frozen.add(profile_id)
        else:
            self._state.frozen.discard(profile_id)


class FakePayoutDestinationRepository:
    def __init__(self, state: PayoutState) -> None:
        self._state = state

    async def add(self, destination: PayoutDestination) -> None:
        if destination.is_default:
            for other in list(self._state.destinations.values()):
                if (
                    other.profile_id == destination.profile_id
                    and other.currency == destination.currency
                    and other.is_default
                ):
                    self._state.destinations[other.id] = replace(other, is_default=False)
        self._state.destinations[destination.id] = destination

    async def get(self, destination_id: uuid.UUID) -> PayoutDestination | None:
        return self._state.destinations.get(destination_id)

    async def default_for(self, profile_id, currency) -> PayoutDestination | None:
        return next(
            (
                d
                for d in self._state.destinations.values()
                if d.profile_id == profile_id
                and d.currency == currency
                and d.is_default
                and d.is_usable
            ),
            None,
        )

    async def list_for_member(self, profile_id) -> Sequence[PayoutDestination]:
        mine = [
            d
            for d in self._state.destinations.values()
            if d.profile_id == profile_id and d.is_usable
        ]
        return sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)

    async def remove(self, destination_id: uuid.UUID, at: datetime) -> None:
        current = self._state.destinations[destination_id]
        self._state.destinations[destination_id] = replace(current, removed_at=at, is_default=False)


# -- a payment provider ----------------------------------------------------------------------


@dataclass
class ProviderTransfer:
    order: TransferOrder
    state: TransferState
    code: str


class FakePayoutGateway:
    """A provider in memory. Transfers are kept by reference and a second one with a used
    reference is refused, as Paystack does. Script trouble with ``down`` (unreachable),
    ``lose_answers`` (the transfer is made but the answer is lost), ``refuse_next``."""

    def __init__(self, provider: str = "paystack", *, accepted_state=TransferState.PENDING):
        self._provider = provider
        self.accepted_state = accepted_state
        self.transfers: dict[str, ProviderTransfer] = {}
        self.sent: list[TransferOrder] = []
        self.names: dict[str, str] = {}
        self.down = False
        self.lose_answers = 0
        self.refusals: deque[TransferRefused] = deque()
        self.recipients: list[str] = []

    @property
    def provider(self) -> str:
        return self._provider

    def _reachable(self) -> None:
        if self.down:
            raise ProviderUnreachable("provider down")

    async def resolve_account(self, details: AccountDetails) -> ResolvedAccount:
        self._reachable()
        name = self.names.get(details.account_number)
        if name is None:
            raise InvalidInput("Could not resolve account name.", code="account_unresolvable")
        return ResolvedAccount(name)

    async def create_recipient(self, details: AccountDetails, account_name: str) -> Recipient:
        self._reachable()
        code = f"RCP_{len(self.recipients) + 1:08d}"
        self.recipients.append(code)
        return Recipient(self._provider, code, f"Bank {details.bank_code}")

    async def send_transfer(self, order: TransferOrder) -> Observation:
        self._reachable()
        self.sent.append(order)
        if self.refusals:
            raise self.refusals.popleft()
        if order.reference in self.transfers:
            raise TransferRefused("Duplicate Transfer Reference", permanent=True)
        transfer = ProviderTransfer(order, self.accepted_state, f"TRF_{len(self.transfers) + 1}")
        self.transfers[order.reference] = transfer
        if self.lose_answers:
            self.lose_answers -= 1
            raise TransferOutcomeUnknown("timed out")
        return Observation(transfer.state, transfer.code)

    async def find_transfer(self, reference: str) -> Observation | None:
        self._reachable()
        transfer = self.transfers.get(reference)
        if transfer is None:
            return None
        return Observation(transfer.state, transfer.code)

    def finish(self, reference: str, state: TransferState) -> Observation:
        transfer = self.transfers[reference]
        transfer.state = state
        return Observation(state, transfer.code)


class FakeGateways:
    def __init__(self, *gateways: PayoutGateway) -> None:
        self.by_name = {g.provider: g for g in gateways}

    def for_kind(self, kind: DestinationKind) -> PayoutGateway:
        name = "stripe" if kind is DestinationKind.STRIPE_ACCOUNT else "paystack"
        return self.named(name)

    def named(self, provider: str) -> PayoutGateway:
        if provider not in self.by_name:
            raise FeatureUnavailable("not configured", code="payouts_unavailable")
        return self.by_name[provider]


class FakeTransferVerifier:
    """Bodies are JSON transfer events; the signature is ``signed:<sha256 of the body>``."""

    def __init__(self, provider: str = "paystack") -> None:
        self._provider = provider

    @property
    def provider(self) -> str:
        return self._provider

    def verify(self, body: bytes, signature: str) -> list[TransferEvent]:
        if signature != self.sign(body):
            raise NotAuthenticated("Bad signature.", code="invalid_webhook_signature")
        fields = json.loads(body)
        return [
            TransferEvent(
                key=fields["key"],
                reference=fields["reference"],
                observation=Observation(TransferState(fields["state"]), fields.get("code")),
                amount=Money(fields["amount"], fields["currency"]),
            )
        ]

    @staticmethod
    def body(key: str, reference: str, state: TransferState, amount: Money, code=None) -> bytes:
        return json.dumps(
            {
                "key": key,
                "reference": reference,
                "state": state.value,
                "code": code,
                "amount": amount.amount_minor,
                "currency": amount.currency,
            }
        ).encode()

    @staticmethod
    def sign(body: bytes) -> str:
        return "signed:" + hashlib.sha256(body).hexdigest()
