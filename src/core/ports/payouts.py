"""Payouts as ports: their storage, the payment providers that move the money, and the
providers' signed notifications."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.domain.money import Money
from core.domain.payouts import (
    AccountDetails,
    DestinationKind,
    Observation,
    Payout,
    PayoutDestination,
    PayoutStatus,
    Recipient,
    ResolvedAccount,
)
from core.errors import DomainError, FeatureUnavailable


class PayoutRepository(Protocol):
    """Payouts, inside the current unit of work."""

    async def lock_request_key(self, profile_id: UUID, key: str) -> bool:
        """Hold the member's idempotency key until the unit of work ends, without waiting:
        ``False`` when another unit of work holds it (a request with that key is running)."""
        ...

    async def by_idempotency_key(self, profile_id: UUID, key: str) -> Payout | None:
        """The member's payout requested with ``key`` (keys are kept as long as payouts)."""
        ...

    async def add(self, payout: Payout) -> bool:
        """Insert a new payout; ``False`` when the member already has one in flight (race-
        safe: of concurrent adds for one member at most one succeeds)."""
        ...

    async def get(self, payout_id: UUID, *, lock: bool = False) -> Payout | None:
        """The payout; ``lock`` holds it until the unit of work ends, so changes to one
        payout are applied one after another."""
        ...

    async def save(self, payout: Payout) -> None:
        """Write a payout's changed fields."""
        ...

    async def list_for_member(
        self, profile_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[Payout]:
        """The member's payouts, newest first (``requested_at`` then id), strictly before
        the cursor."""
        ...

    async def list_all(
        self,
        *,
        status: PayoutStatus | None,
        before: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[Payout]:
        """Everyone's payouts (optionally of one status), newest first."""
        ...

    async def paid_out_since(self, profile_id: UUID, currency: str, since: datetime) -> Money:
        """What the member asked to withdraw since ``since`` in payouts that did not fail
        (in flight, paid or reversed)."""
        ...

    async def in_flight_before(self, updated_before: datetime, limit: int) -> Sequence[Payout]:
        """Payouts in flight whose last change is older than ``updated_before``, oldest
        first: the ones reconciliation asks the provider about."""
        ...

    async def mark_event_handled(self, provider: str, event_key: str, at: datetime) -> bool:
        """Remember a provider notification; ``False`` when it was already handled."""
        ...

    async def is_frozen(self, profile_id: UUID) -> bool:
        """Whether the member's payouts are frozen (moderation, fraud)."""
        ...

    async def set_frozen(
        self, profile_id: UUID, *, frozen: bool, reason: str, at: datetime
    ) -> None:
        """Freeze or unfreeze the member's payouts."""
        ...


class PayoutDestinationRepository(Protocol):
    """Members' payout destinations, inside the current unit of work."""

    async def add(self, destination: PayoutDestination) -> None:
        """Insert a destination. When it is the default, the member's previous default in
        that currency stops being one (one default per member and currency)."""
        ...

    async def get(self, destination_id: UUID) -> PayoutDestination | None: ...

    async def default_for(self, profile_id: UUID, currency: str) -> PayoutDestination | None:
        """The member's usable default destination in ``currency``."""
        ...

    async def list_for_member(self, profile_id: UUID) -> Sequence[PayoutDestination]:
        """The member's usable destinations, newest first."""
        ...

    async def remove(self, destination_id: UUID, at: datetime) -> None:
        """Mark removed (kept for the payouts that went there); it is no longer a default."""
        ...


# -- the providers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TransferOrder:
    """One transfer: ``reference`` is the payout id, so the provider refuses a second
    transfer for one payout."""

    reference: str
    amount: Money
    recipient_code: str
    reason: str


class ProviderUnreachable(FeatureUnavailable):
    """The request surely did not reach the provider (no connection): safe to send later."""

    code = "provider_unreachable"


class TransferOutcomeUnknown(DomainError):
    """The request may have reached the provider but no usable answer came back (timeout,
    connection lost, 5xx): the transfer must be looked up by reference before anything
    else."""

    code = "transfer_outcome_unknown"


class TransferRefused(DomainError):
    """The provider answered that it did not take the transfer. ``extra["permanent"]`` tells
    a refusal that retrying cannot fix (bad recipient) from one an operator can fix (the
    platform's provider balance, a revoked key, a rate limit)."""

    code = "transfer_refused"

    @property
    def permanent(self) -> bool:
        return bool(self.extra.get("permanent"))


class PayoutGateway(Protocol):
    """A payment provider that sends money to members' destinations. Every call raises
    ``ProviderUnreachable`` when the provider cannot be reached, ``InvalidInput`` when it
    says the account details are wrong, and ``FeatureUnavailable`` for other failures."""

    @property
    def provider(self) -> str:
        """Its name, stored on destinations and payouts (``paystack``, ``stripe``,
        ``sandbox``)."""
        ...

    async def resolve_account(self, details: AccountDetails) -> ResolvedAccount:
        """The account holder's name as the provider knows it."""
        ...

    async def create_recipient(self, details: AccountDetails, account_name: str) -> Recipient:
        """Register the account with the provider; the recipient code is what transfers
        name."""
        ...

    async def send_transfer(self, order: TransferOrder) -> Observation:
        """Ask for one transfer. Returns what the provider said about it; raises
        ``TransferRefused`` when it did not take it, ``TransferOutcomeUnknown`` when it
        may have, ``ProviderUnreachable`` when it surely did not."""
        ...

    async def find_transfer(self, reference: str) -> Observation | None:
        """What the provider says about the transfer with this reference; ``None`` when it
        has none (it was never accepted). Raises ``ProviderUnreachable`` or
        ``TransferOutcomeUnknown`` when it cannot tell now."""
        ...


class PayoutGateways(Protocol):
    """Which provider pays which kind of destination."""

    def for_kind(self, kind: DestinationKind) -> PayoutGateway:
        """The gateway that registers new destinations of ``kind``; ``FeatureUnavailable``
        (``payouts_unavailable``) when none is configured."""
        ...

    def named(self, provider: str) -> PayoutGateway:
        """The gateway that created a destination; ``FeatureUnavailable`` when it is not
        configured in this process."""
        ...


@dataclass(frozen=True, slots=True)
class TransferEvent:
    """One provider notification about a transfer. ``key`` identifies the notification (a
    redelivery has the same key); ``amount`` and ``recipient_code`` are what the provider
    says, checked against the payout before anything moves."""

    key: str
    reference: str
    observation: Observation
    amount: Money | None = None
    recipient_code: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A transfer the provider asks us to approve before it sends it."""

    reference: str
    amount: Money | None
    recipient_code: str | None


class TransferWebhookVerifier(Protocol):
    """Checks a provider's signed notifications."""

    @property
    def provider(self) -> str: ...

    def verify(self, body: bytes, signature: str) -> Sequence[TransferEvent]:
        """The transfer events in ``body`` (none for notifications about anything else).
        Raises ``NotAuthenticated`` when the signature does not check out, ``InvalidInput``
        when a correctly signed body is not a notification."""
        ...


class TransferApprovalVerifier(Protocol):
    """Checks a provider's signed transfer-approval requests."""

    def approval_requests(self, body: bytes, signature: str) -> Sequence[ApprovalRequest]:
        """The transfers asked about. Raises ``NotAuthenticated`` for a bad signature and
        ``InvalidInput`` for a body that is not an approval request."""
        ...
