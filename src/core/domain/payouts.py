"""Payouts: members withdraw their available balance to a bank or mobile-money account
(through Paystack) or to a Stripe connected account.

Rules:
- a destination is saved only after the provider resolved the account's name and the member
  confirmed that exact name; only what is needed is kept (the provider's recipient code, the
  bank or operator name, the resolved account name and the last four digits) — never the
  full account number;
- a payout asks for an amount in integer minor units of one supported currency, at least the
  currency's minimum, at most the daily cap over the last 24 hours and at most what is
  available; a member has at most one payout in flight; the member is active, not on
  probation and their payouts are not frozen; the destination is their own, of the same
  currency, and not removed;
- the amount moves ``available → payout_hold`` together with the payout record; the payout id
  is the provider's transfer reference, so one payout is at most one transfer;
- a payout's status only moves forward (``TRANSITIONS``): ``requested → sending → pending |
  otp → paid | failed``; a ``paid`` payout may still be ``reversed`` by the provider, and
  ``failed`` and ``reversed`` are final. An observation that would move a payout backwards (a
  late ``pending`` after ``paid``) changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from core.domain.identity import Profile, ProfileStatus
from core.domain.ledger import TransactionKind
from core.domain.money import Money, normalise_currency
from core.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

MAX_IDEMPOTENCY_KEY_LENGTH = 255
DAILY_WINDOW = timedelta(hours=24)
MAX_REASON_LENGTH = 100


# -- errors --------------------------------------------------------------------------------


class IdempotencyKeyRequired(DomainError):
    """``POST /monetization/payout`` needs an ``Idempotency-Key`` header: a request that cannot
    be processed as sent, 400 at the HTTP edge (the IETF Idempotency-Key header draft's
    status; the fallback for a ``DomainError`` no class maps)."""

    code = "idempotency_key_required"


class IdempotencyKeyReused(InvalidInput):
    """The key was already used for a request with another body."""

    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    """A request with this key is being processed right now."""

    code = "idempotency_key_in_use"


class PayoutRefused(Conflict):
    """The payout breaks a rule about the member's state (the ``code`` says which)."""

    code = "payout_refused"


class PayoutNotAllowed(PermissionDenied):
    """The member may not withdraw now (the ``code`` says why)."""

    code = "payout_not_allowed"


class PayoutNotFound(NotFound):
    code = "payout_not_found"


class DestinationNotFound(NotFound):
    code = "destination_not_found"


class AccountNameMismatch(InvalidInput):
    """The name the member confirmed is not the name the provider resolved."""

    code = "account_name_mismatch"


class TransferNotApproved(DomainError):
    """A transfer the provider asked us to approve is not one of ours as it stands (the HTTP
    edge answers 400, which is how Paystack's approval URL rejects a transfer)."""

    code = "transfer_not_approved"


# -- destinations --------------------------------------------------------------------------


class DestinationKind(StrEnum):
    BANK_ACCOUNT = "bank_account"
    MOBILE_MONEY = "mobile_money"
    STRIPE_ACCOUNT = "stripe_account"


#: Paystack's recipient type per (kind, currency).
PAYSTACK_RECIPIENT_TYPES: Mapping[tuple[DestinationKind, str], str] = MappingProxyType(
    {
        (DestinationKind.BANK_ACCOUNT, "NGN"): "nuban",
        (DestinationKind.BANK_ACCOUNT, "GHS"): "ghipss",
        (DestinationKind.BANK_ACCOUNT, "KES"): "kepss",
        (DestinationKind.BANK_ACCOUNT, "ZAR"): "basa",
        (DestinationKind.MOBILE_MONEY, "GHS"): "mobile_money",
        (DestinationKind.MOBILE_MONEY, "KES"): "mobile_money",
    }
)
#: Mobile-money operators (Paystack bank codes) per currency.
MOBILE_MONEY_OPERATORS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"GHS": frozenset({"MTN", "ATL", "VOD"}), "KES": frozenset({"MPESA"})}
)
#: Currencies paid to a Stripe connected account.
STRIPE_CURRENCIES = frozenset({"USD"})

_DIGITS = re.compile(r"[0-9]+")
_BANK_CODE = re.compile(r"[0-9A-Za-z]{2,20}")
_STRIPE_ACCOUNT = re.compile(r"acct_[0-9A-Za-z]{6,64}")


@dataclass(frozen=True, slots=True)
class AccountDetails:
    """What a member typed to name an account. Used to ask the provider and then dropped:
    it is never stored, logged or shown (its ``repr`` hides the number)."""

    kind: DestinationKind
    currency: str
    account_number: str
    bank_code: str | None = None

    def __repr__(self) -> str:
        return (
            f"AccountDetails(kind={self.kind.value!r}, currency={self.currency!r}, "
            f"bank_code={self.bank_code!r}, account_number='…{self.last4}')"
        )

    __str__ = __repr__

    @property
    def last4(self) -> str:
        return self.account_number[-4:]

    @property
    def recipient_type(self) -> str:
        """Paystack's recipient type (``nuban``, ``mobile_money`` …); ``stripe`` for Stripe."""
        if self.kind is DestinationKind.STRIPE_ACCOUNT:
            return "stripe"
        return PAYSTACK_RECIPIENT_TYPES[self.kind, self.currency]


def account_details(
    kind: str, currency: str, account_number: str, bank_code: str | None = None
) -> AccountDetails:
    """Check what the member typed: a kind and currency that go together, a bank code or
    operator where one is needed, and an account number of the right shape (NUBAN: 10
    digits; other bank accounts: 6–20 digits; mobile money: 9–15 digits; Stripe:
    ``acct_…``)."""
    try:
        chosen = DestinationKind(kind)
    except ValueError:
        raise InvalidInput(
            f"kind must be one of {', '.join(k.value for k in DestinationKind)}.",
            code="invalid_destination_kind",
        ) from None
    currency = normalise_currency(currency)
    number = account_number.strip().replace(" ", "")
    code = bank_code.strip() if bank_code else None
    if chosen is DestinationKind.STRIPE_ACCOUNT:
        if currency not in STRIPE_CURRENCIES:
            raise _kind_currency(chosen, currency)
        if not _STRIPE_ACCOUNT.fullmatch(number):
            raise _bad_number("a Stripe account id (acct_…)")
        return AccountDetails(chosen, currency, number, None)
    if (chosen, currency) not in PAYSTACK_RECIPIENT_TYPES:
        raise _kind_currency(chosen, currency)
    if chosen is DestinationKind.MOBILE_MONEY:
        code = (code or "").upper()
        if code not in MOBILE_MONEY_OPERATORS[currency]:
            raise InvalidInput(
                f"bankCode must be one of {', '.join(sorted(MOBILE_MONEY_OPERATORS[currency]))}.",
                code="invalid_bank_code",
            )
        low, high = 9, 15
    else:
        if code is None or not _BANK_CODE.fullmatch(code):
            raise InvalidInput("bankCode is the bank's code.", code="invalid_bank_code")
        low, high = (10, 10) if currency == "NGN" else (6, 20)
    if not (_DIGITS.fullmatch(number) and low <= len(number) <= high):
        span = f"{low}" if low == high else f"{low}–{high}"
        raise _bad_number(f"{span} digits")
    return AccountDetails(chosen, currency, number, code)


def _kind_currency(kind: DestinationKind, currency: str) -> InvalidInput:
    return InvalidInput(
        f"A {kind.value} destination cannot be paid in {currency}.",
        code="unsupported_destination",
    )


def _bad_number(shape: str) -> InvalidInput:
    return InvalidInput(f"accountNumber must be {shape}.", code="invalid_account_number")


def same_account_name(resolved: str, confirmed: str) -> bool:
    """Whether the member confirmed the resolved name (case and spacing aside)."""

    def plain(name: str) -> str:
        return " ".join(name.split()).casefold()

    return bool(plain(resolved)) and plain(resolved) == plain(confirmed)


@dataclass(frozen=True, slots=True)
class ResolvedAccount:
    """The provider's name for an account."""

    account_name: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """The provider's handle for a destination (Paystack ``RCP_…``, Stripe ``acct_…``)."""

    provider: str
    recipient_code: str
    bank_name: str


@dataclass(frozen=True, slots=True)
class PayoutDestination:
    """A confirmed place to send a member's money; ``removed_at`` set once deleted (kept for
    the payouts that went there)."""

    id: UUID
    profile_id: UUID
    kind: DestinationKind
    currency: str
    provider: str
    recipient_code: str
    bank_code: str | None
    bank_name: str
    account_name: str
    last4: str
    is_default: bool
    created_at: datetime
    removed_at: datetime | None = None

    @property
    def is_usable(self) -> bool:
        return self.removed_at is None


# -- payouts -------------------------------------------------------------------------------


class PayoutStatus(StrEnum):
    REQUESTED = "requested"  # money held; the worker has not asked the provider yet
    SENDING = "sending"  # a transfer request may be at the provider; verify before resending
    PENDING = "pending"  # the provider accepted it and has not finished
    OTP = "otp"  # the provider wants an OTP: its account is not set up for automation
    PAID = "paid"  # the provider paid (may still be reversed)
    FAILED = "failed"  # final: the hold went back to available
    REVERSED = "reversed"  # final: the provider took the money back after taking it


IN_FLIGHT = frozenset(
    {PayoutStatus.REQUESTED, PayoutStatus.SENDING, PayoutStatus.PENDING, PayoutStatus.OTP}
)
FINAL = frozenset({PayoutStatus.FAILED, PayoutStatus.REVERSED})

#: Where each status may go next.
TRANSITIONS: Mapping[PayoutStatus, frozenset[PayoutStatus]] = MappingProxyType(
    {
        PayoutStatus.REQUESTED: frozenset(
            {PayoutStatus.SENDING, PayoutStatus.PENDING, PayoutStatus.OTP}
            | {PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.REVERSED}
        ),
        PayoutStatus.SENDING: frozenset(
            {PayoutStatus.REQUESTED, PayoutStatus.PENDING, PayoutStatus.OTP}
            | {PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.REVERSED}
        ),
        PayoutStatus.PENDING: frozenset(
            {PayoutStatus.OTP, PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.REVERSED}
        ),
        PayoutStatus.OTP: frozenset(
            {PayoutStatus.PENDING, PayoutStatus.PAID, PayoutStatus.FAILED, PayoutStatus.REVERSED}
        ),
        PayoutStatus.PAID: frozenset({PayoutStatus.REVERSED}),
        PayoutStatus.FAILED: frozenset(),
        PayoutStatus.REVERSED: frozenset(),
    }
)


class TransferState(StrEnum):
    """What the provider says about a transfer."""

    PENDING = "pending"  # accepted, not finished (Paystack: pending/received/queued/processing)
    OTP = "otp"
    SUCCESS = "success"
    FAILED = "failed"  # failed or abandoned/rejected: the money never left
    REVERSED = "reversed"


#: The payout status a provider state leads to.
_STATUS_FOR: Mapping[TransferState, PayoutStatus] = MappingProxyType(
    {
        TransferState.PENDING: PayoutStatus.PENDING,
        TransferState.OTP: PayoutStatus.OTP,
        TransferState.SUCCESS: PayoutStatus.PAID,
        TransferState.FAILED: PayoutStatus.FAILED,
        TransferState.REVERSED: PayoutStatus.REVERSED,
    }
)


@dataclass(frozen=True, slots=True)
class Payout:
    """One withdrawal. ``id`` is also the provider's transfer reference."""

    id: UUID
    profile_id: UUID
    destination_id: UUID
    provider: str
    recipient_code: str
    amount: Money
    status: PayoutStatus
    idempotency_key: str
    fingerprint: str
    requested_at: datetime
    updated_at: datetime
    attempts: int = 0
    transfer_code: str | None = None
    failure_code: str | None = None
    failure_detail: str | None = None
    finished_at: datetime | None = None

    @property
    def reference(self) -> str:
        """The provider's reference for this payout's one transfer (lowercase, 36 chars)."""
        return transfer_reference(self.id)

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def may_reach_provider(self) -> bool:
        """Whether a transfer request for it may already be at the provider: then it must be
        verified by reference before anything is sent again."""
        return self.status is PayoutStatus.SENDING or self.attempts > 0


def transfer_reference(payout_id: UUID) -> str:
    """Paystack wants a lowercase reference of at least 16 characters: the payout id is."""
    return str(payout_id)


def payout_id_of(reference: str) -> UUID | None:
    """The payout a provider reference names, or ``None`` when it is not one of ours."""
    try:
        parsed = UUID(reference)
    except (ValueError, AttributeError, TypeError):
        return None
    return parsed if str(parsed) == reference else None


@dataclass(frozen=True, slots=True)
class Observation:
    """What is known of a payout's transfer: the provider's state, its transfer code and,
    for a failure, why."""

    state: TransferState
    transfer_code: str | None = None
    failure_code: str | None = None
    failure_detail: str | None = None


@dataclass(frozen=True, slots=True)
class PayoutChange:
    """The effect of an observation: the payout after it, and the ledger movement it needs
    (``None`` when no money moves)."""

    before: Payout
    after: Payout
    movement: TransactionKind | None

    @property
    def changed(self) -> bool:
        return self.after != self.before


def observe(payout: Payout, seen: Observation, now: datetime) -> PayoutChange:
    """Apply what the provider says. A state the payout may not move to (``TRANSITIONS``)
    changes nothing — so duplicate, late and out-of-order news is harmless. Money moves only
    on entering ``paid`` (hold → clearing), ``failed`` (hold → available) or ``reversed``
    (clearing → available after ``paid``; hold → available when the reversal is the first
    final news)."""
    target = _STATUS_FOR[seen.state]
    if target is payout.status or target not in TRANSITIONS[payout.status]:
        return PayoutChange(payout, payout, None)
    after = replace(
        payout,
        status=target,
        updated_at=now,
        transfer_code=seen.transfer_code or payout.transfer_code,
        failure_code=seen.failure_code if target is not PayoutStatus.PAID else None,
        failure_detail=_cut(seen.failure_detail) if target is not PayoutStatus.PAID else None,
        finished_at=now if target in FINAL or target is PayoutStatus.PAID else None,
    )
    return PayoutChange(payout, after, _movement(payout.status, target))


def _movement(before: PayoutStatus, after: PayoutStatus) -> TransactionKind | None:
    if after is PayoutStatus.PAID:
        return TransactionKind.PAYOUT_SETTLED
    if after is PayoutStatus.FAILED:
        return TransactionKind.PAYOUT_FAILED
    if after is PayoutStatus.REVERSED:
        if before is PayoutStatus.PAID:
            return TransactionKind.PAYOUT_REVERSED
        return TransactionKind.PAYOUT_FAILED
    return None


def _cut(text: str | None) -> str | None:
    return text[:500] if text else text


def mark_sending(payout: Payout, now: datetime) -> Payout:
    """Before a transfer request leaves: from now on the payout is verified by reference
    before anything is sent again."""
    if payout.status not in {PayoutStatus.REQUESTED, PayoutStatus.SENDING}:
        raise PayoutRefused(f"A {payout.status} payout is not sent.", code="not_sendable")
    return replace(
        payout, status=PayoutStatus.SENDING, attempts=payout.attempts + 1, updated_at=now
    )


def mark_waiting(payout: Payout, now: datetime, code: str, detail: str) -> Payout:
    """The provider surely did not take the request (unreachable, or it refused for a reason
    of ours to fix): the payout waits for the next attempt, with the reason for operators."""
    status = PayoutStatus.REQUESTED if payout.status is PayoutStatus.SENDING else payout.status
    return replace(
        payout, status=status, updated_at=now, failure_code=code, failure_detail=_cut(detail)
    )


def note_problem(payout: Payout, now: datetime, code: str, detail: str) -> Payout:
    """Keep the status; record why the payout is stuck (shown to operators)."""
    return replace(payout, updated_at=now, failure_code=code, failure_detail=_cut(detail))


# -- rules of a request --------------------------------------------------------------------


#: Defaults: the smallest payout and the most paid out per 24 hours, in minor units.
DEFAULT_MINIMUMS: Mapping[str, int] = MappingProxyType(
    {"NGN": 50_000, "GHS": 1_000, "KES": 10_000, "ZAR": 2_000, "USD": 500}
)
DEFAULT_DAILY_CAPS: Mapping[str, int] = MappingProxyType(
    {"NGN": 5_000_000, "GHS": 200_000, "KES": 2_000_000, "ZAR": 500_000, "USD": 50_000}
)


@dataclass(frozen=True, slots=True)
class PayoutRules:
    """The minimum and the daily cap per currency (minor units)."""

    minimums: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MINIMUMS)
    daily_caps: Mapping[str, int] = field(default_factory=lambda: DEFAULT_DAILY_CAPS)

    def minimum(self, currency: str) -> Money:
        return Money(self.minimums.get(currency, 1), currency)

    def daily_cap(self, currency: str) -> Money | None:
        cap = self.daily_caps.get(currency)
        return None if cap is None else Money(cap, currency)


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """What a member asks for. ``destination_id`` ``None`` means their default destination
    in that currency."""

    amount_minor: int
    currency: str
    idempotency_key: str
    destination_id: UUID | None = None

    def fingerprint(self) -> str:
        """Identifies the body: the same key with another body is refused."""
        text = f"{self.amount_minor}|{self.currency.upper()}|{self.destination_id or ''}"
        return hashlib.sha256(text.encode()).hexdigest()


def checked_amount(request: PayoutRequest) -> Money:
    """The amount asked for, as money: a positive whole number of minor units of a
    supported currency."""
    if type(request.amount_minor) is not int or request.amount_minor <= 0:
        raise InvalidInput("amountMinor must be a positive whole number.", code="invalid_amount")
    return Money(request.amount_minor, normalise_currency(request.currency))


def check_idempotency_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise IdempotencyKeyRequired("The Idempotency-Key header is required.")
    key = key.strip()
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise IdempotencyKeyRequired(
            f"The Idempotency-Key must be 1–{MAX_IDEMPOTENCY_KEY_LENGTH} printable characters."
        )
    return key


def check_member_may_withdraw(member: Profile, *, on_probation: bool, frozen: bool) -> None:
    """Active, not on probation, payouts not frozen."""
    if member.status is not ProfileStatus.ACTIVE:
        raise PayoutNotAllowed("Only active members can withdraw.", code="account_not_active")
    if frozen:
        raise PayoutNotAllowed("Payouts are frozen for this account.", code="payouts_frozen")
    if on_probation:
        raise PayoutNotAllowed(
            "Members on validation probation cannot withdraw until their accuracy recovers.",
            code="on_probation",
        )


def check_amount_rules(amount: Money, rules: PayoutRules, paid_out_last_24h: Money) -> None:
    """At least the minimum; the last 24 hours' payouts plus this one within the daily cap."""
    minimum = rules.minimum(amount.currency)
    if amount < minimum:
        raise InvalidInput(
            f"The smallest payout is {minimum}.",
            code="below_minimum",
            minimum_minor=minimum.amount_minor,
        )
    cap = rules.daily_cap(amount.currency)
    if cap is not None and paid_out_last_24h + amount > cap:
        raise PayoutRefused(
            f"At most {cap} can be paid out per 24 hours.",
            code="daily_cap_reached",
            remaining_minor=max(0, (cap - paid_out_last_24h).amount_minor),
        )


def check_destination(
    destination: PayoutDestination | None, member_id: UUID, currency: str
) -> PayoutDestination:
    """The member's own usable destination in the payout's currency."""
    if destination is None or destination.profile_id != member_id or not destination.is_usable:
        raise DestinationNotFound(
            "No confirmed payout destination: add one in this currency first."
        )
    if destination.currency != currency:
        raise InvalidInput(
            f"That destination is paid in {destination.currency}, not {currency}.",
            code="destination_currency_mismatch",
        )
    return destination


def event_payload(payout: Payout) -> dict[str, object]:
    """What a payout event carries: ids, amount and status — never bank details."""
    payload: dict[str, object] = {
        "payoutId": str(payout.id),
        "profileId": str(payout.profile_id),
        "amountMinor": payout.amount.amount_minor,
        "currency": payout.amount.currency,
        "status": payout.status.value,
        "provider": payout.provider,
    }
    if payout.failure_code:
        payload["failureCode"] = payout.failure_code
    return payload
