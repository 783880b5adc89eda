"""The double-entry ledger: accounts, postings, journal transactions and the flows between them.

Rules:
- every movement is one ``JournalTransaction`` whose postings sum to zero per currency; no
  transaction is empty and no posting is zero;
- each transaction kind follows exactly one flow (``FLOWS``): it debits one account kind and
  credits another, for one member and one currency;
- every transaction has a unique idempotency ``reference``: recording the same movement
  again changes nothing, a different movement under a used reference is refused;
- a release or reversal closes one earning, a settlement or failure closes one payout hold,
  a payout reversal closes one settlement, and each can be closed only once (so an earning is
  never both released and reversed, and a payout is never both paid and failed);
- a member's ``pending``, ``available`` and ``payout_hold`` never go negative; platform
  accounts may.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from uuid import UUID

from core.domain.money import CurrencyMismatch, Money
from core.errors import Conflict, InvalidInput, NotFound

MAX_REFERENCE_LENGTH = 200


class AccountKind(StrEnum):
    # a member's own accounts
    PENDING = "pending"  # earned, still inside the holding period
    AVAILABLE = "available"  # withdrawable
    PAYOUT_HOLD = "payout_hold"  # reserved for a payout in flight
    # the platform's accounts
    REWARDS_EXPENSE = "rewards_expense"  # where rewards come from
    PAYOUTS_CLEARING = "payouts_clearing"  # money sent out through a payout provider
    FEES = "fees"  # provider fees (no flow uses it yet)

    @property
    def belongs_to_member(self) -> bool:
        return self in MEMBER_ACCOUNT_KINDS


MEMBER_ACCOUNT_KINDS = frozenset(
    {AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.PAYOUT_HOLD}
)
PLATFORM_ACCOUNT_KINDS = frozenset(AccountKind) - MEMBER_ACCOUNT_KINDS


class TransactionKind(StrEnum):
    REWARD_EARNED = "reward_earned"
    REWARD_RELEASED = "reward_released"
    REWARD_REVERSED = "reward_reversed"
    PAYOUT_HELD = "payout_held"
    PAYOUT_SETTLED = "payout_settled"
    PAYOUT_FAILED = "payout_failed"
    PAYOUT_REVERSED = "payout_reversed"


@dataclass(frozen=True, slots=True)
class Flow:
    """What a transaction kind moves: from ``source`` to ``destination``; ``closes`` is the
    kind of the earlier transaction it finishes, if any."""

    source: AccountKind
    destination: AccountKind
    closes: TransactionKind | None = None


FLOWS: Mapping[TransactionKind, Flow] = MappingProxyType(
    {
        TransactionKind.REWARD_EARNED: Flow(AccountKind.REWARDS_EXPENSE, AccountKind.PENDING),
        TransactionKind.REWARD_RELEASED: Flow(
            AccountKind.PENDING, AccountKind.AVAILABLE, TransactionKind.REWARD_EARNED
        ),
        TransactionKind.REWARD_REVERSED: Flow(
            AccountKind.PENDING, AccountKind.REWARDS_EXPENSE, TransactionKind.REWARD_EARNED
        ),
        TransactionKind.PAYOUT_HELD: Flow(AccountKind.AVAILABLE, AccountKind.PAYOUT_HOLD),
        TransactionKind.PAYOUT_SETTLED: Flow(
            AccountKind.PAYOUT_HOLD, AccountKind.PAYOUTS_CLEARING, TransactionKind.PAYOUT_HELD
        ),
        TransactionKind.PAYOUT_FAILED: Flow(
            AccountKind.PAYOUT_HOLD, AccountKind.AVAILABLE, TransactionKind.PAYOUT_HELD
        ),
        TransactionKind.PAYOUT_REVERSED: Flow(
            AccountKind.PAYOUTS_CLEARING, AccountKind.AVAILABLE, TransactionKind.PAYOUT_SETTLED
        ),
    }
)


# -- errors --------------------------------------------------------------------------------


class InvalidTransaction(InvalidInput):
    """The transaction is malformed (the specific ``code`` says how)."""

    code = "invalid_transaction"


class DuplicateReference(Conflict):
    """A different movement was already recorded under this idempotency reference."""

    code = "duplicate_reference"


class AlreadyClosed(Conflict):
    """The earning was already released or reversed, the payout hold already settled or
    failed, or the settlement already reversed."""

    code = "already_closed"


class InsufficientFunds(Conflict):
    """The movement would make a member's account negative."""

    code = "insufficient_funds"


class UnknownTransaction(NotFound):
    """The transaction to close is not in the ledger."""

    code = "unknown_transaction"


# -- accounts and postings -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountRef:
    """One account: a member's (``owner_id`` = profile id) or the platform's (``None``)."""

    owner_id: UUID | None
    kind: AccountKind
    currency: str

    def __post_init__(self) -> None:
        if self.kind.belongs_to_member != (self.owner_id is not None):
            raise InvalidTransaction(
                f"A {self.kind} account needs {'an' if self.kind.belongs_to_member else 'no'}"
                " owner.",
                code="invalid_account",
            )
        Money.zero(self.currency)  # checks the currency

    @classmethod
    def member(cls, profile_id: UUID, kind: AccountKind, currency: str) -> AccountRef:
        return cls(profile_id, kind, currency)

    @classmethod
    def platform(cls, kind: AccountKind, currency: str) -> AccountRef:
        return cls(None, kind, currency)

    @property
    def may_go_negative(self) -> bool:
        return not self.kind.belongs_to_member

    def __str__(self) -> str:
        owner = "platform" if self.owner_id is None else f"member:{self.owner_id}"
        return f"{owner}:{self.kind}:{self.currency}"


@dataclass(frozen=True, slots=True)
class Posting:
    """A signed amount on one account: positive credits it, negative debits it."""

    account: AccountRef
    amount: Money

    def __post_init__(self) -> None:
        if self.amount.currency != self.account.currency:
            raise CurrencyMismatch(
                f"A {self.account.currency} account cannot hold {self.amount.currency}."
            )


# -- journal transactions ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JournalTransaction:
    """One balanced movement of money. ``closes`` is the id of the earning a release or
    reversal finishes, of the payout hold a settlement or failure finishes, or of the
    settlement a payout reversal takes back."""

    id: UUID
    reference: str
    kind: TransactionKind
    postings: tuple[Posting, ...]
    occurred_at: datetime
    closes: UUID | None = None
    memo: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.reference.strip() or len(self.reference) > MAX_REFERENCE_LENGTH:
            raise InvalidTransaction("Bad idempotency reference.", code="invalid_reference")
        if self.occurred_at.tzinfo is None:
            raise InvalidTransaction("occurred_at must be timezone-aware.", code="naive_datetime")
        if not self.postings:
            raise InvalidTransaction("A transaction needs postings.", code="empty_transaction")
        if any(posting.amount.is_zero for posting in self.postings):
            raise InvalidTransaction("Postings may not be zero.", code="zero_posting")
        for currency, total in _totals_by_currency(self.postings).items():
            if total:
                raise InvalidTransaction(
                    f"Postings sum to {total} {currency}, not zero.",
                    code="unbalanced_transaction",
                )
        self._check_flow()

    def _check_flow(self) -> None:
        flow = FLOWS[self.kind]
        shape_ok = (
            len(self.postings) == 2
            and self.debited.kind is flow.source
            and self.credited.kind is flow.destination
            and len({p.account.owner_id for p in self.postings} - {None}) == 1
        )
        if not shape_ok or (self.closes is None) != (flow.closes is None):
            raise InvalidTransaction(
                f"A {self.kind} moves {flow.source} → {flow.destination} for one member"
                f"{' and closes a ' + flow.closes if flow.closes else ''}.",
                code="flow_mismatch",
            )

    @property
    def debited(self) -> AccountRef:
        """The account money leaves."""
        return next(p.account for p in self.postings if p.amount.is_negative)

    @property
    def credited(self) -> AccountRef:
        """The account money arrives in."""
        return next(p.account for p in self.postings if p.amount.is_positive)

    @property
    def amount(self) -> Money:
        """How much moves."""
        return next(p.amount for p in self.postings if p.amount.is_positive)

    @property
    def member_id(self) -> UUID:
        """The member whose accounts this moves."""
        owners = (p.account.owner_id for p in self.postings)
        return next(owner for owner in owners if owner is not None)

    def same_movement_as(self, other: JournalTransaction) -> bool:
        """Same reference, kind, closed transaction and postings: a replay. Ids, times, memo
        and metadata may differ."""
        return (
            self.reference == other.reference
            and self.kind is other.kind
            and self.closes == other.closes
            and Counter(self.postings) == Counter(other.postings)
        )


def _totals_by_currency(postings: Iterable[Posting]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for posting in postings:
        currency = posting.amount.currency
        totals[currency] = totals.get(currency, 0) + posting.amount.amount_minor
    return totals


# -- idempotency references ----------------------------------------------------------------


def reward_reference(clip_id: UUID, reward_kind: str, profile_id: UUID) -> str:
    """One reward of a kind per clip per member."""
    return f"reward:{clip_id}:{reward_kind}:{profile_id}"


def release_reference(earning_id: UUID) -> str:
    return f"release:{earning_id}"


def reversal_reference(earning_id: UUID) -> str:
    return f"reversal:{earning_id}"


def payout_hold_reference(payout_id: UUID) -> str:
    return f"payout-hold:{payout_id}"


def payout_settled_reference(payout_id: UUID) -> str:
    return f"payout-settled:{payout_id}"


def payout_failed_reference(payout_id: UUID) -> str:
    return f"payout-failed:{payout_id}"


def payout_reversed_reference(payout_id: UUID) -> str:
    return f"payout-reversed:{payout_id}"


# -- builders, one per flow ----------------------------------------------------------------


def _move(
    kind: TransactionKind,
    *,
    transaction_id: UUID,
    reference: str,
    source: AccountRef,
    destination: AccountRef,
    amount: Money,
    occurred_at: datetime,
    closes: UUID | None = None,
    memo: str = "",
    metadata: Mapping[str, str] | None = None,
) -> JournalTransaction:
    if not amount.is_positive:
        raise InvalidTransaction("Only positive amounts move.", code="non_positive_amount")
    return JournalTransaction(
        id=transaction_id,
        reference=reference,
        kind=kind,
        postings=(Posting(source, -amount), Posting(destination, amount)),
        occurred_at=occurred_at,
        closes=closes,
        memo=memo,
        metadata=dict(metadata or {}),
    )


def _require_kind(transaction: JournalTransaction, kind: TransactionKind) -> None:
    if transaction.kind is not kind:
        raise InvalidTransaction(
            f"Expected a {kind}, got a {transaction.kind}.", code="flow_mismatch"
        )


def reward_earned(
    *,
    transaction_id: UUID,
    profile_id: UUID,
    clip_id: UUID,
    reward_kind: str,
    amount: Money,
    occurred_at: datetime,
) -> JournalTransaction:
    """``rewards_expense`` → the member's ``pending``."""
    return _move(
        TransactionKind.REWARD_EARNED,
        transaction_id=transaction_id,
        reference=reward_reference(clip_id, reward_kind, profile_id),
        source=AccountRef.platform(AccountKind.REWARDS_EXPENSE, amount.currency),
        destination=AccountRef.member(profile_id, AccountKind.PENDING, amount.currency),
        amount=amount,
        occurred_at=occurred_at,
        metadata={"clip_id": str(clip_id), "reward_kind": str(reward_kind)},
    )


def reward_released(
    *, transaction_id: UUID, earning: JournalTransaction, occurred_at: datetime
) -> JournalTransaction:
    """The member's ``pending`` → ``available``, for exactly what ``earning`` credited."""
    _require_kind(earning, TransactionKind.REWARD_EARNED)
    return _move(
        TransactionKind.REWARD_RELEASED,
        transaction_id=transaction_id,
        reference=release_reference(earning.id),
        source=earning.credited,
        destination=AccountRef.member(
            earning.member_id, AccountKind.AVAILABLE, earning.amount.currency
        ),
        amount=earning.amount,
        occurred_at=occurred_at,
        closes=earning.id,
    )


def reward_reversed(
    *, transaction_id: UUID, earning: JournalTransaction, occurred_at: datetime, memo: str = ""
) -> JournalTransaction:
    """The member's ``pending`` → back to ``rewards_expense`` (the clip was removed)."""
    _require_kind(earning, TransactionKind.REWARD_EARNED)
    return _move(
        TransactionKind.REWARD_REVERSED,
        transaction_id=transaction_id,
        reference=reversal_reference(earning.id),
        source=earning.credited,
        destination=AccountRef.platform(AccountKind.REWARDS_EXPENSE, earning.amount.currency),
        amount=earning.amount,
        occurred_at=occurred_at,
        closes=earning.id,
        memo=memo,
    )


def payout_held(
    *,
    transaction_id: UUID,
    payout_id: UUID,
    profile_id: UUID,
    amount: Money,
    occurred_at: datetime,
) -> JournalTransaction:
    """The member's ``available`` → ``payout_hold`` when a payout is requested."""
    return _move(
        TransactionKind.PAYOUT_HELD,
        transaction_id=transaction_id,
        reference=payout_hold_reference(payout_id),
        source=AccountRef.member(profile_id, AccountKind.AVAILABLE, amount.currency),
        destination=AccountRef.member(profile_id, AccountKind.PAYOUT_HOLD, amount.currency),
        amount=amount,
        occurred_at=occurred_at,
        metadata={"payout_id": str(payout_id)},
    )


def _payout_outcome(
    kind: TransactionKind,
    destination: AccountRef,
    reference: str,
    *,
    transaction_id: UUID,
    payout_id: UUID,
    hold: JournalTransaction,
    occurred_at: datetime,
) -> JournalTransaction:
    _require_kind(hold, TransactionKind.PAYOUT_HELD)
    if hold.reference != payout_hold_reference(payout_id):
        raise InvalidTransaction("This hold belongs to another payout.", code="flow_mismatch")
    return _move(
        kind,
        transaction_id=transaction_id,
        reference=reference,
        source=hold.credited,
        destination=destination,
        amount=hold.amount,
        occurred_at=occurred_at,
        closes=hold.id,
        metadata={"payout_id": str(payout_id)},
    )


def payout_settled(
    *, transaction_id: UUID, payout_id: UUID, hold: JournalTransaction, occurred_at: datetime
) -> JournalTransaction:
    """The member's ``payout_hold`` → ``payouts_clearing``: the provider paid."""
    return _payout_outcome(
        TransactionKind.PAYOUT_SETTLED,
        AccountRef.platform(AccountKind.PAYOUTS_CLEARING, hold.amount.currency),
        payout_settled_reference(payout_id),
        transaction_id=transaction_id,
        payout_id=payout_id,
        hold=hold,
        occurred_at=occurred_at,
    )


def payout_failed(
    *, transaction_id: UUID, payout_id: UUID, hold: JournalTransaction, occurred_at: datetime
) -> JournalTransaction:
    """The member's ``payout_hold`` → back to ``available``: the provider failed or reversed."""
    return _payout_outcome(
        TransactionKind.PAYOUT_FAILED,
        AccountRef.member(hold.member_id, AccountKind.AVAILABLE, hold.amount.currency),
        payout_failed_reference(payout_id),
        transaction_id=transaction_id,
        payout_id=payout_id,
        hold=hold,
        occurred_at=occurred_at,
    )


def payout_reversed(
    *, transaction_id: UUID, payout_id: UUID, settlement: JournalTransaction, occurred_at: datetime
) -> JournalTransaction:
    """``payouts_clearing`` → back to the member's ``available``: the provider reversed a
    transfer it had paid (the money came back)."""
    _require_kind(settlement, TransactionKind.PAYOUT_SETTLED)
    if settlement.reference != payout_settled_reference(payout_id):
        raise InvalidTransaction("This settlement belongs to another payout.", code="flow_mismatch")
    return _move(
        TransactionKind.PAYOUT_REVERSED,
        transaction_id=transaction_id,
        reference=payout_reversed_reference(payout_id),
        source=settlement.credited,
        destination=AccountRef.member(
            settlement.member_id, AccountKind.AVAILABLE, settlement.amount.currency
        ),
        amount=settlement.amount,
        occurred_at=occurred_at,
        closes=settlement.id,
        metadata={"payout_id": str(payout_id)},
    )


# -- the ledger ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberBalance:
    """What a member sees: ``lifetime_earned`` is earned minus reversed."""

    currency: str
    available: Money
    pending: Money
    on_hold: Money
    lifetime_earned: Money


class Ledger:
    """The ledger in memory: records transactions and keeps balances, enforcing every rule of
    this module. It is the reference model the Postgres journal must agree with."""

    def __init__(self, transactions: Iterable[JournalTransaction] = ()) -> None:
        self._by_reference: dict[str, JournalTransaction] = {}
        self._by_id: dict[UUID, JournalTransaction] = {}
        self._closed_by: dict[UUID, UUID] = {}
        self._balances: dict[AccountRef, int] = {}
        self._earned: dict[tuple[UUID, str], int] = {}
        for transaction in transactions:
            self.apply(transaction)

    def apply(self, transaction: JournalTransaction) -> bool:
        """Record ``transaction``; ``False`` when it is a replay of a recorded one (nothing
        changes). Refuses a reused reference or id, a bad or second closing, and any
        movement that would make a member's account negative — all before changing
        anything."""
        recorded = self._by_reference.get(transaction.reference)
        if recorded is not None:
            if recorded.same_movement_as(transaction):
                return False
            raise DuplicateReference(
                f"Reference {transaction.reference!r} is already used by another movement.",
                reference=transaction.reference,
            )
        if transaction.id in self._by_id:
            raise DuplicateReference(
                f"Transaction id {transaction.id} is already used.", code="duplicate_id"
            )
        self._check_closing(transaction)
        new_balances = self._balances_after(transaction)
        self._record(transaction, new_balances)
        return True

    def _check_closing(self, transaction: JournalTransaction) -> None:
        if transaction.closes is None:
            return
        closed = self._by_id.get(transaction.closes)
        if closed is None:
            raise UnknownTransaction(f"No transaction {transaction.closes} to close.")
        if (
            FLOWS[transaction.kind].closes is not closed.kind
            or transaction.debited != closed.credited
            or transaction.amount != closed.amount
        ):
            raise InvalidTransaction(
                f"A {transaction.kind} must move exactly what its {closed.kind} credited.",
                code="flow_mismatch",
            )
        if closed.id in self._closed_by:
            raise AlreadyClosed(
                f"{closed.kind} {closed.id} was already closed by {self._closed_by[closed.id]}.",
                transaction_id=str(closed.id),
            )

    def _balances_after(self, transaction: JournalTransaction) -> dict[AccountRef, int]:
        updated: dict[AccountRef, int] = {}
        for posting in transaction.postings:
            account = posting.account
            balance = updated.get(account, self._balances.get(account, 0))
            balance += posting.amount.amount_minor
            if balance < 0 and not account.may_go_negative:
                raise InsufficientFunds(f"{account} would go negative.", account=str(account))
            updated[account] = balance
        return updated

    def _record(self, transaction: JournalTransaction, new_balances: dict[AccountRef, int]) -> None:
        self._by_reference[transaction.reference] = transaction
        self._by_id[transaction.id] = transaction
        if transaction.closes is not None:
            self._closed_by[transaction.closes] = transaction.id
        self._balances.update(new_balances)
        sign = {TransactionKind.REWARD_EARNED: 1, TransactionKind.REWARD_REVERSED: -1}
        if transaction.kind in sign:
            key = (transaction.member_id, transaction.amount.currency)
            delta = sign[transaction.kind] * transaction.amount.amount_minor
            self._earned[key] = self._earned.get(key, 0) + delta

    # -- reading ---------------------------------------------------------------------------

    @property
    def transactions(self) -> tuple[JournalTransaction, ...]:
        """Every recorded transaction, in the order recorded."""
        return tuple(self._by_id.values())

    def by_reference(self, reference: str) -> JournalTransaction | None:
        return self._by_reference.get(reference)

    def is_closed(self, transaction_id: UUID) -> bool:
        """Whether an earning was released or reversed, or a payout hold settled or failed."""
        return transaction_id in self._closed_by

    def balance(self, account: AccountRef) -> Money:
        return Money(self._balances.get(account, 0), account.currency)

    def balances(self) -> Mapping[AccountRef, Money]:
        """Every account that has seen a posting."""
        return {
            account: Money(minor, account.currency) for account, minor in self._balances.items()
        }

    def total(self, currency: str) -> Money:
        """The sum of every account in ``currency``: always zero."""
        return Money.total(
            (money for account, money in self.balances().items() if account.currency == currency),
            currency,
        )

    def member_balance(self, profile_id: UUID, currency: str) -> MemberBalance:
        def of(kind: AccountKind) -> Money:
            return self.balance(AccountRef.member(profile_id, kind, currency))

        return MemberBalance(
            currency=currency,
            available=of(AccountKind.AVAILABLE),
            pending=of(AccountKind.PENDING),
            on_hold=of(AccountKind.PAYOUT_HOLD),
            lifetime_earned=Money(self._earned.get((profile_id, currency), 0), currency),
        )
