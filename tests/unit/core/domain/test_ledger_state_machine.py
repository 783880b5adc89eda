"""The double-entry ledger: malformed transactions are refused, every flow posts what the
table says, and any interleaving of flows and replays keeps the books straight."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from core.domain.ledger import (
    FLOWS,
    AccountKind,
    AccountRef,
    AlreadyClosed,
    DuplicateReference,
    InsufficientFunds,
    InvalidTransaction,
    JournalTransaction,
    Ledger,
    Posting,
    TransactionKind,
    UnknownTransaction,
    payout_failed,
    payout_held,
    payout_reversed,
    payout_settled,
    release_reference,
    reward_earned,
    reward_released,
    reward_reversed,
)
from core.domain.money import CurrencyMismatch, Money
from core.errors import DomainError

T0 = datetime(2025, 1, 1, tzinfo=UTC)
ALICE = UUID(int=1)
BOB = UUID(int=2)
CLIP = UUID(int=100)
PAYOUT = UUID(int=200)


def ngn(minor: int) -> Money:
    return Money(minor, "NGN")


def earn(
    tx: int, profile_id: UUID = ALICE, amount: int = 500, clip_id: UUID = CLIP
) -> JournalTransaction:
    return reward_earned(
        transaction_id=UUID(int=tx),
        profile_id=profile_id,
        clip_id=clip_id,
        reward_kind="clip_accepted",
        amount=ngn(amount),
        occurred_at=T0,
    )


def account(kind: AccountKind, owner: UUID | None = ALICE) -> AccountRef:
    return AccountRef(owner if kind.belongs_to_member else None, kind, "NGN")


def transaction(
    *postings: Posting, kind: TransactionKind = TransactionKind.REWARD_EARNED
) -> JournalTransaction:
    return JournalTransaction(
        id=UUID(int=9), reference="ref", kind=kind, postings=postings, occurred_at=T0
    )


# -- accounts and transactions -------------------------------------------------------------


def test_member_accounts_have_owners_and_platform_accounts_do_not() -> None:
    with pytest.raises(InvalidTransaction):
        AccountRef(None, AccountKind.AVAILABLE, "NGN")
    with pytest.raises(InvalidTransaction):
        AccountRef(ALICE, AccountKind.FEES, "NGN")
    assert str(AccountRef.platform(AccountKind.FEES, "USD")) == "platform:fees:USD"


def test_a_posting_holds_the_account_currency_only() -> None:
    with pytest.raises(CurrencyMismatch):
        Posting(account(AccountKind.PENDING), Money(1, "USD"))


@pytest.mark.parametrize(
    ("postings", "code"),
    [
        ((), "empty_transaction"),
        (
            (
                Posting(account(AccountKind.REWARDS_EXPENSE), ngn(0)),
                Posting(account(AccountKind.PENDING), ngn(0)),
            ),
            "zero_posting",
        ),
        (
            (
                Posting(account(AccountKind.REWARDS_EXPENSE), ngn(-100)),
                Posting(account(AccountKind.PENDING), ngn(90)),
            ),
            "unbalanced_transaction",
        ),
        (
            (
                Posting(
                    AccountRef.platform(AccountKind.REWARDS_EXPENSE, "USD"), Money(-100, "USD")
                ),
                Posting(account(AccountKind.PENDING), ngn(100)),
            ),
            "unbalanced_transaction",
        ),
        (
            (
                Posting(account(AccountKind.PAYOUTS_CLEARING), ngn(-100)),
                Posting(account(AccountKind.PENDING), ngn(100)),
            ),
            "flow_mismatch",
        ),
        (
            (
                Posting(account(AccountKind.REWARDS_EXPENSE), ngn(-100)),
                Posting(account(AccountKind.PENDING), ngn(60)),
                Posting(account(AccountKind.PENDING, BOB), ngn(40)),
            ),
            "flow_mismatch",
        ),
    ],
)
def test_malformed_transactions_are_refused(postings: tuple[Posting, ...], code: str) -> None:
    with pytest.raises(InvalidTransaction) as error:
        transaction(*postings)
    assert error.value.code == code


def test_a_transaction_needs_an_aware_time_and_a_reference() -> None:
    good = earn(1)
    with pytest.raises(InvalidTransaction, match="timezone"):
        JournalTransaction(good.id, good.reference, good.kind, good.postings, datetime(2025, 1, 1))
    with pytest.raises(InvalidTransaction) as error:
        JournalTransaction(good.id, " ", good.kind, good.postings, T0)
    assert error.value.code == "invalid_reference"


def test_only_closing_kinds_close_and_they_must() -> None:
    good = earn(1)
    with pytest.raises(InvalidTransaction):
        JournalTransaction(good.id, "x", good.kind, good.postings, T0, closes=UUID(int=5))
    with pytest.raises(InvalidTransaction):
        reward_released(transaction_id=UUID(int=2), earning=payout_hold_of(good), occurred_at=T0)


def payout_hold_of(earning: JournalTransaction) -> JournalTransaction:
    return payout_held(
        transaction_id=UUID(int=77),
        payout_id=PAYOUT,
        profile_id=earning.member_id,
        amount=earning.amount,
        occurred_at=T0,
    )


def test_builders_refuse_non_positive_amounts() -> None:
    with pytest.raises(InvalidTransaction) as error:
        earn(1, amount=0)
    assert error.value.code == "non_positive_amount"


# -- every flow posts what the table says --------------------------------------------------


def test_each_flow_moves_from_its_source_to_its_destination() -> None:
    earning = earn(1)
    hold = payout_hold_of(earning)
    settled = payout_settled(
        transaction_id=UUID(int=4), payout_id=PAYOUT, hold=hold, occurred_at=T0
    )
    built = [
        earning,
        reward_released(transaction_id=UUID(int=2), earning=earning, occurred_at=T0),
        reward_reversed(transaction_id=UUID(int=3), earning=earning, occurred_at=T0),
        hold,
        settled,
        payout_failed(transaction_id=UUID(int=5), payout_id=PAYOUT, hold=hold, occurred_at=T0),
        payout_reversed(
            transaction_id=UUID(int=6), payout_id=PAYOUT, settlement=settled, occurred_at=T0
        ),
    ]
    assert {tx.kind for tx in built} == set(FLOWS)
    for tx in built:
        assert (tx.debited.kind, tx.credited.kind) == (
            FLOWS[tx.kind].source,
            FLOWS[tx.kind].destination,
        )
        assert tx.amount == ngn(500)
        assert tx.member_id == ALICE


def test_references_follow_the_documented_formats() -> None:
    earning = earn(1)
    release = reward_released(transaction_id=UUID(int=2), earning=earning, occurred_at=T0)
    reversal = reward_reversed(transaction_id=UUID(int=3), earning=earning, occurred_at=T0)
    hold = payout_hold_of(earning)
    assert earning.reference == f"reward:{CLIP}:clip_accepted:{ALICE}"
    assert release.reference == f"release:{earning.id}"
    assert reversal.reference == f"reversal:{earning.id}"
    assert hold.reference == f"payout-hold:{PAYOUT}"
    with pytest.raises(InvalidTransaction):
        payout_settled(
            transaction_id=UUID(int=4), payout_id=UUID(int=201), hold=hold, occurred_at=T0
        )


# -- the ledger, by example ----------------------------------------------------------------


def test_a_reward_is_pending_then_available_then_paid_out() -> None:
    ledger = Ledger()
    earning = earn(1)
    ledger.apply(earning)
    assert ledger.member_balance(ALICE, "NGN").pending == ngn(500)
    ledger.apply(reward_released(transaction_id=UUID(int=2), earning=earning, occurred_at=T0))
    hold = payout_hold_of(earning)
    ledger.apply(hold)
    assert ledger.member_balance(ALICE, "NGN").on_hold == ngn(500)
    ledger.apply(
        payout_settled(transaction_id=UUID(int=4), payout_id=PAYOUT, hold=hold, occurred_at=T0)
    )
    balance = ledger.member_balance(ALICE, "NGN")
    assert (balance.available, balance.pending, balance.on_hold) == (ngn(0), ngn(0), ngn(0))
    assert balance.lifetime_earned == ngn(500)
    assert ledger.balance(AccountRef.platform(AccountKind.PAYOUTS_CLEARING, "NGN")) == ngn(500)
    assert ledger.total("NGN") == ngn(0)


def test_replaying_a_reference_changes_nothing_and_reusing_it_is_refused() -> None:
    ledger = Ledger([earn(1)])
    assert ledger.apply(earn(2)) is False  # same movement, new id: a replay
    with pytest.raises(DuplicateReference):
        ledger.apply(earn(3, amount=600))
    with pytest.raises(DuplicateReference) as error:
        ledger.apply(earn(1, clip_id=UUID(int=101)))
    assert error.value.code == "duplicate_id"
    assert len(ledger.transactions) == 1
    assert ledger.by_reference(earn(1).reference) == earn(1)


def test_an_earning_is_released_or_reversed_once() -> None:
    earning = earn(1)
    ledger = Ledger([earning])
    ledger.apply(reward_released(transaction_id=UUID(int=2), earning=earning, occurred_at=T0))
    assert ledger.is_closed(earning.id)
    with pytest.raises(AlreadyClosed):
        ledger.apply(reward_reversed(transaction_id=UUID(int=3), earning=earning, occurred_at=T0))


def test_closing_something_unknown_is_refused() -> None:
    with pytest.raises(UnknownTransaction):
        Ledger().apply(reward_released(transaction_id=UUID(int=2), earning=earn(1), occurred_at=T0))


def test_a_payout_cannot_overdraw_available() -> None:
    ledger = Ledger([earn(1)])
    with pytest.raises(InsufficientFunds):
        ledger.apply(payout_hold_of(earn(1)))  # still pending, nothing available
    assert ledger.member_balance(ALICE, "NGN").available == ngn(0)


# -- any interleaving keeps the books straight ---------------------------------------------

PROFILES = [UUID(int=i) for i in range(1, 4)]
CLIPS = [UUID(int=100 + i) for i in range(4)]
PAYOUTS = [UUID(int=200 + i) for i in range(6)]
CURRENCIES = ["NGN", "USD"]
REWARD_KINDS = ["clip_accepted", "validation_agreed"]
MEMBER_KINDS = (AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.PAYOUT_HOLD)

amounts = st.integers(min_value=1, max_value=5_000)


class LedgerMachine(RuleBasedStateMachine):
    """Drives a ``Ledger`` through random flows; a plain model predicts, for every step,
    whether the ledger must record it, treat it as a replay, or refuse it (and with what)."""

    earnings = Bundle("earnings")
    holds = Bundle("holds")

    @initialize()
    def start(self) -> None:
        self.ledger = Ledger()
        self.ids = (UUID(int=n) for n in itertools.count(10_000))
        self.clock = (T0 + timedelta(minutes=n) for n in itertools.count())
        self.expected: Counter[AccountRef] = Counter()
        self.lifetime: Counter[tuple[UUID, str]] = Counter()

    def _outcome(self, tx: JournalTransaction, refusal: type[DomainError] | None) -> bool:
        """Apply ``tx``; True when it was recorded. The model says which refusal to expect
        (``None`` = record it, unless its reference already holds the same movement)."""
        before = dict(self.ledger.balances())
        recorded = self.ledger.by_reference(tx.reference)
        event(f"{tx.kind}: {self._expected_result(tx, recorded, refusal)}")
        if recorded is not None and recorded.same_movement_as(tx):
            assert self.ledger.apply(tx) is False
        elif recorded is not None:
            with pytest.raises(DuplicateReference):
                self.ledger.apply(tx)
        elif refusal is not None:
            with pytest.raises(refusal):
                self.ledger.apply(tx)
        else:
            assert self.ledger.apply(tx) is True
            for posting in tx.postings:
                self.expected[posting.account] += posting.amount.amount_minor
            if tx.kind in (TransactionKind.REWARD_EARNED, TransactionKind.REWARD_REVERSED):
                sign = 1 if tx.kind is TransactionKind.REWARD_EARNED else -1
                self.lifetime[tx.member_id, tx.amount.currency] += sign * tx.amount.amount_minor
            return True
        assert self.ledger.balances() == before
        return False

    @staticmethod
    def _expected_result(
        tx: JournalTransaction,
        recorded: JournalTransaction | None,
        refusal: type[DomainError] | None,
    ) -> str:
        if recorded is not None:
            return "replay" if recorded.same_movement_as(tx) else "duplicate reference"
        return refusal.__name__ if refusal else "recorded"

    def _available(self, profile_id: UUID, currency: str) -> int:
        return self.expected[AccountRef.member(profile_id, AccountKind.AVAILABLE, currency)]

    @rule(
        target=earnings,
        profile_id=st.sampled_from(PROFILES),
        clip_id=st.sampled_from(CLIPS),
        kind=st.sampled_from(REWARD_KINDS),
        currency=st.sampled_from(CURRENCIES),
        amount=amounts,
    )
    def earn(
        self, profile_id: UUID, clip_id: UUID, kind: str, currency: str, amount: int
    ) -> object:
        tx = reward_earned(
            transaction_id=next(self.ids),
            profile_id=profile_id,
            clip_id=clip_id,
            reward_kind=kind,
            amount=Money(amount, currency),
            occurred_at=next(self.clock),
        )
        return tx if self._outcome(tx, None) else multiple()

    @rule(earning=earnings)
    def release(self, earning: JournalTransaction) -> None:
        tx = reward_released(
            transaction_id=next(self.ids), earning=earning, occurred_at=next(self.clock)
        )
        self._outcome(tx, AlreadyClosed if self.ledger.is_closed(earning.id) else None)

    @rule(earning=earnings)
    def reverse(self, earning: JournalTransaction) -> None:
        tx = reward_reversed(
            transaction_id=next(self.ids), earning=earning, occurred_at=next(self.clock)
        )
        self._outcome(tx, AlreadyClosed if self.ledger.is_closed(earning.id) else None)

    @rule(
        target=holds,
        profile_id=st.sampled_from(PROFILES),
        payout_id=st.sampled_from(PAYOUTS),
        currency=st.sampled_from(CURRENCIES),
        amount=amounts,
    )
    def hold(self, profile_id: UUID, payout_id: UUID, currency: str, amount: int) -> object:
        tx = payout_held(
            transaction_id=next(self.ids),
            payout_id=payout_id,
            profile_id=profile_id,
            amount=Money(amount, currency),
            occurred_at=next(self.clock),
        )
        overdraw = amount > self._available(profile_id, currency)
        return (
            (payout_id, tx)
            if self._outcome(tx, InsufficientFunds if overdraw else None)
            else multiple()
        )

    @rule(held=holds, succeeded=st.booleans())
    def settle_or_fail(self, held: tuple[UUID, JournalTransaction], succeeded: bool) -> None:
        payout_id, hold = held
        outcome = payout_settled if succeeded else payout_failed
        tx = outcome(
            transaction_id=next(self.ids),
            payout_id=payout_id,
            hold=hold,
            occurred_at=next(self.clock),
        )
        self._outcome(tx, AlreadyClosed if self.ledger.is_closed(hold.id) else None)

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        if not self.ledger.transactions:
            return
        original = data.draw(st.sampled_from(self.ledger.transactions))
        again = JournalTransaction(
            id=next(self.ids),
            reference=original.reference,
            kind=original.kind,
            postings=tuple(reversed(original.postings)),
            occurred_at=next(self.clock),
            closes=original.closes,
            memo="retried",
        )
        count = len(self.ledger.transactions)
        assert not self._outcome(again, None)
        assert len(self.ledger.transactions) == count

    @rule(earning=earnings)
    def retry_release_after_close(self, earning: JournalTransaction) -> None:
        """A retried release job finds its own release recorded: a no-op, not an error."""
        if self.ledger.by_reference(release_reference(earning.id)) is None:
            return
        tx = reward_released(
            transaction_id=next(self.ids), earning=earning, occurred_at=next(self.clock)
        )
        assert self.ledger.apply(tx) is False

    @invariant()
    def every_currency_sums_to_zero(self) -> None:
        for currency in CURRENCIES:
            assert self.ledger.total(currency).is_zero

    @invariant()
    def no_member_account_is_negative(self) -> None:
        for account, money in self.ledger.balances().items():
            if account.kind.belongs_to_member:
                assert not money.is_negative, account

    @invariant()
    def balances_match_the_model(self) -> None:
        actual = {a: m.amount_minor for a, m in self.ledger.balances().items() if not m.is_zero}
        assert actual == {a: v for a, v in self.expected.items() if v}
        for profile_id, currency in itertools.product(PROFILES, CURRENCIES):
            balance = self.ledger.member_balance(profile_id, currency)
            assert balance.lifetime_earned.amount_minor == self.lifetime[profile_id, currency]

    @invariant()
    def each_earning_and_hold_is_closed_at_most_once(self) -> None:
        closes = [tx.closes for tx in self.ledger.transactions if tx.closes is not None]
        assert len(closes) == len(set(closes))


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedgerStateMachine = LedgerMachine.TestCase
