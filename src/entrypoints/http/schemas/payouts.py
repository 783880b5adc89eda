"""Wire structs for payouts and payout destinations. Amounts are integer minor units; an
account number goes in once and never comes back out (only its last four digits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from core.domain.payouts import (
    AccountDetails,
    Payout,
    PayoutDestination,
    PayoutRequest,
    ResolvedAccount,
    account_details,
)
from entrypoints.http.schemas.money import MAX_JSON_SAFE_INTEGER

DestinationKindName = Literal["bank_account", "mobile_money", "stripe_account"]
PayoutStatusName = Literal["requested", "sending", "pending", "otp", "paid", "failed", "reversed"]
CurrencyCode = Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")]


class PayoutIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """``amountMinor`` (whole minor units) of ``currency`` to ``destinationId`` (default: the
    member's default destination in that currency)."""

    amount_minor: Annotated[int, msgspec.Meta(le=MAX_JSON_SAFE_INTEGER)]
    currency: CurrencyCode
    destination_id: UUID | None = None

    def to_request(self) -> PayoutRequest:
        return PayoutRequest(
            amount_minor=self.amount_minor,
            currency=self.currency,
            idempotency_key="",
            destination_id=self.destination_id,
        )


class PayoutOut(msgspec.Struct, rename="camel"):
    """A payout. ``status``: ``requested`` → ``sending`` → ``pending`` | ``otp`` → ``paid`` |
    ``failed``; ``paid`` may later become ``reversed``. ``failureCode`` says why a payout
    failed or waits."""

    id: UUID
    status: str
    amount_minor: int
    currency: str
    destination_id: UUID
    provider: str
    requested_at: datetime
    updated_at: datetime
    finished_at: datetime | None = None
    failure_code: str | None = None

    @classmethod
    def of(cls, payout: Payout) -> PayoutOut:
        return cls(
            id=payout.id,
            status=payout.status.value,
            amount_minor=payout.amount.amount_minor,
            currency=payout.amount.currency,
            destination_id=payout.destination_id,
            provider=payout.provider,
            requested_at=payout.requested_at,
            updated_at=payout.updated_at,
            finished_at=payout.finished_at,
            failure_code=payout.failure_code,
        )


class AdminPayoutOut(PayoutOut, kw_only=True):
    """A payout as operators see it (still no bank details)."""

    profile_id: UUID
    attempts: int
    transfer_code: str | None = None
    failure_detail: str | None = None

    @classmethod
    def of_admin(cls, payout: Payout) -> AdminPayoutOut:
        base = PayoutOut.of(payout)
        return cls(
            **{f: getattr(base, f) for f in base.__struct_fields__},
            profile_id=payout.profile_id,
            attempts=payout.attempts,
            transfer_code=payout.transfer_code,
            failure_detail=payout.failure_detail,
        )


class PayoutPage(msgspec.Struct, rename="camel"):
    items: list[PayoutOut]
    next_cursor: str | None


class AdminPayoutPage(msgspec.Struct, rename="camel"):
    items: list[AdminPayoutOut]
    next_cursor: str | None


class AccountIn(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """An account to resolve: ``bankCode`` is the bank's code (bank accounts) or the operator
    (``MTN``, ``ATL``, ``VOD``, ``MPESA``); a Stripe connected account has its ``acct_…`` id
    as ``accountNumber``."""

    kind: DestinationKindName
    currency: CurrencyCode
    account_number: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    bank_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None

    def to_details(self) -> AccountDetails:
        return account_details(self.kind, self.currency, self.account_number, self.bank_code)


class DestinationIn(AccountIn, forbid_unknown_fields=True, kw_only=True):
    """The account again, with the holder's name as ``resolve`` gave it (the member's
    confirmation); ``makeDefault`` makes it the default for its currency."""

    account_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    make_default: bool = False


class ResolvedAccountOut(msgspec.Struct, rename="camel"):
    account_name: str

    @classmethod
    def of(cls, resolved: ResolvedAccount) -> ResolvedAccountOut:
        return cls(account_name=resolved.account_name)


class DestinationOut(msgspec.Struct, rename="camel"):
    id: UUID
    kind: str
    currency: str
    provider: str
    bank_name: str
    account_name: str
    last4: str
    is_default: bool
    created_at: datetime

    @classmethod
    def of(cls, destination: PayoutDestination) -> DestinationOut:
        return cls(
            id=destination.id,
            kind=destination.kind.value,
            currency=destination.currency,
            provider=destination.provider,
            bank_name=destination.bank_name,
            account_name=destination.account_name,
            last4=destination.last4,
            is_default=destination.is_default,
            created_at=destination.created_at,
        )


class DestinationList(msgspec.Struct, rename="camel"):
    items: list[DestinationOut]


class WebhookReceipt(msgspec.Struct, rename="camel"):
    """What happened to each transfer event of the notification."""

    outcomes: list[str]


class ApprovalOut(msgspec.Struct, rename="camel"):
    approved: int
