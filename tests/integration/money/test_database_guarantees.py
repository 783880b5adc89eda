"""The database itself keeps the ledger's invariants, even when the code is bypassed: every
statement here is raw SQL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tests.integration.money.helpers import (
    insert_clip,
    insert_profile,
    raw_account,
    raw_transaction,
    scalar,
)


@dataclass
class Books:
    """A member with an earning of 1 000 kobo in ``pending`` (recorded in raw SQL)."""

    member: uuid.UUID
    clip: uuid.UUID
    pending: uuid.UUID
    available: uuid.UUID
    payout_hold: uuid.UUID
    expense: uuid.UUID
    earning: uuid.UUID


@pytest.fixture
async def books(engine: AsyncEngine) -> Books:
    member = await insert_profile(engine)
    clip = await insert_clip(engine, await insert_profile(engine))
    async with engine.begin() as c:
        pending = await raw_account(c, member, "pending")
        available = await raw_account(c, member, "available")
        hold = await raw_account(c, member, "payout_hold")
        expense = await raw_account(c, None, "rewards_expense")
        earning = await raw_transaction(
            c,
            member_id=member,
            kind="reward_earned",
            clip_id=clip,
            postings=[(expense, -1000), (pending, 1000)],
        )
    return Books(member, clip, pending, available, hold, expense, earning)


def refusal(error: pytest.ExceptionInfo[DBAPIError]) -> tuple[str | None, str | None]:
    cause = error.value.orig.__cause__  # type: ignore[union-attr]
    return getattr(cause, "sqlstate", None), getattr(cause, "constraint_name", None)


@pytest.fixture
def refused(
    engine: AsyncEngine,
) -> Callable[[Callable[[AsyncConnection], Awaitable[object]]], Awaitable[tuple]]:
    """Run ``steps`` in one transaction and commit; return (sqlstate, constraint) of the
    refusal, which must happen. Nothing of it is kept."""

    async def run(steps: Callable[[AsyncConnection], Awaitable[object]]) -> tuple:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as error:
                async with connection.begin():
                    await steps(connection)
        return refusal(error)

    return run


@pytest.fixture
def snapshot(engine: AsyncEngine) -> Callable[[], Awaitable[tuple]]:
    """Everything the books hold, to compare before and after a refusal."""

    async def take() -> tuple:
        async with engine.connect() as c:
            accounts = await c.execute(
                sa.text("SELECT id, balance_minor FROM accounts ORDER BY id")
            )
            return (
                await c.scalar(sa.text("SELECT count(*) FROM transactions")),
                await c.scalar(sa.text("SELECT count(*) FROM postings")),
                accounts.all(),
            )

    return take


async def test_raw_sql_keeps_balances_in_step_with_postings(engine, books):
    assert (
        await scalar(engine, "SELECT balance_minor FROM accounts WHERE id = :id", id=books.pending)
        == 1000
    )
    assert (
        await scalar(
            engine, "SELECT lifetime_earned_minor FROM accounts WHERE id = :id", id=books.pending
        )
        == 1000
    )
    assert (
        await scalar(engine, "SELECT balance_minor FROM accounts WHERE id = :id", id=books.expense)
        is None
    )
    assert await scalar(engine, "SELECT count(*) FROM open_earnings") == 1


async def test_an_unbalanced_transaction_is_refused_at_commit(books, refused, snapshot):
    before = await snapshot()

    async def unbalanced(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_earned",
            clip_id=books.clip,
            postings=[(books.expense, -1000), (books.pending, 900)],
        )

    assert await refused(unbalanced) == ("23514", "postings_balanced")
    assert await snapshot() == before


async def test_a_one_sided_posting_added_to_an_old_transaction_is_refused(books, refused):
    async def one_sided(c):
        await c.execute(
            sa.text(
                "INSERT INTO postings (transaction_id, account_id, currency, amount_minor) "
                "VALUES (:tx, :account, 'NGN', 5)"
            ),
            {"tx": books.earning, "account": books.pending},
        )

    assert await refused(one_sided) == ("23514", "postings_balanced")


async def test_a_transaction_without_postings_is_refused(books, refused):
    async def empty(c):
        await raw_transaction(c, member_id=books.member, kind="payout_held")

    assert await refused(empty) == ("23514", "transactions_have_postings")


async def test_a_reused_reference_is_refused(books, refused, snapshot):
    before = await snapshot()

    async def duplicate(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_earned",
            clip_id=books.clip,
            reference="reward:same",
            postings=[(books.expense, -1), (books.pending, 1)],
        )
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_earned",
            clip_id=books.clip,
            reference="reward:same",
            postings=[(books.expense, -1), (books.pending, 1)],
        )

    assert await refused(duplicate) == ("23505", "transactions_reference_unique")
    assert await snapshot() == before


async def test_an_overdraft_is_refused(books, refused, snapshot):
    before = await snapshot()

    async def overdraw(c):  # a payout from `available`, which holds nothing
        await raw_transaction(
            c,
            member_id=books.member,
            kind="payout_held",
            postings=[(books.available, -500), (books.payout_hold, 500)],
        )

    assert await refused(overdraw) == ("23514", "accounts_member_non_negative")

    async def overdraw_pending(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_released",
            closes=books.earning,
            postings=[(books.pending, -1001), (books.available, 1001)],
        )

    assert await refused(overdraw_pending) == ("23514", "accounts_member_non_negative")
    assert await snapshot() == before


async def test_an_earning_is_closed_once(books, refused, engine):
    async with engine.begin() as c:
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_released",
            closes=books.earning,
            postings=[(books.pending, -1000), (books.available, 1000)],
        )
    assert await scalar(engine, "SELECT count(*) FROM open_earnings") == 0

    async def reverse_too(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_reversed",
            closes=books.earning,
            postings=[(books.pending, -1), (books.expense, 1)],
        )

    assert await refused(reverse_too) == ("23505", "transactions_closes_once")


async def test_moving_another_members_money_is_refused(books, refused, engine):
    other = await insert_profile(engine)

    async def steal(c):
        await raw_transaction(
            c,
            member_id=other,
            kind="reward_released",
            closes=books.earning,
            postings=[(books.pending, -1000), (books.available, 1000)],
        )

    assert await refused(steal) == ("23514", "postings_one_member")


async def test_every_kind_follows_its_flow(books, refused):
    async def straight_to_available(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_earned",
            clip_id=books.clip,
            postings=[(books.expense, -1000), (books.available, 1000)],
        )

    assert await refused(straight_to_available) == ("23514", "postings_follow_flow")

    async def three_postings(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_earned",
            clip_id=books.clip,
            postings=[(books.expense, -1000), (books.pending, 600), (books.pending, 400)],
        )

    assert await refused(three_postings) == ("23514", "postings_follow_flow")


async def test_a_closing_moves_exactly_what_was_credited(books, refused, engine):
    async def release_half(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_released",
            closes=books.earning,
            postings=[(books.pending, -500), (books.available, 500)],
        )

    assert await refused(release_half) == ("23514", "closing_matches_closed")

    # a second earning, and the first one released: pending holds 1 000 again
    async with engine.begin() as c:
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_earned",
            clip_id=books.clip,
            postings=[(books.expense, -1000), (books.pending, 1000)],
        )
        release = await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_released",
            closes=books.earning,
            postings=[(books.pending, -1000), (books.available, 1000)],
        )

    async def reverse_a_release(c):
        await raw_transaction(
            c,
            member_id=books.member,
            kind="reward_reversed",
            closes=release,
            postings=[(books.pending, -1000), (books.expense, 1000)],
        )

    assert await refused(reverse_a_release) == ("23514", "closing_matches_closed")


async def test_a_posting_holds_its_accounts_currency(books, refused):
    async def in_usd(c):
        tx = await raw_transaction(c, member_id=books.member, kind="payout_held")
        await c.execute(
            sa.text(
                "INSERT INTO postings (transaction_id, account_id, currency, amount_minor) "
                "VALUES (:tx, :a, 'USD', -1), (:tx, :b, 'USD', 1)"
            ),
            {"tx": tx, "a": books.available, "b": books.payout_hold},
        )

    assert await refused(in_usd) == ("23503", "postings_account_fkey")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE accounts SET balance_minor = balance_minor + 100 WHERE owner_id IS NOT NULL",
        "UPDATE accounts SET balance_minor = -5 WHERE owner_id IS NOT NULL",
        "DELETE FROM accounts",
        "UPDATE transactions SET memo = 'edited'",
        "DELETE FROM transactions",
        "UPDATE postings SET amount_minor = amount_minor * 2",
        "DELETE FROM postings",
        "DELETE FROM open_earnings",
        "INSERT INTO open_earnings (earning_id, member_id, earned_at) "
        "SELECT id, member_id, now() - interval '1 year' FROM transactions LIMIT 1",
    ],
)
async def test_the_books_change_only_by_posting(books, refused, snapshot, statement):
    before = await snapshot()
    state, _ = await refused(lambda c: c.execute(sa.text(statement)))
    assert state == "23001"  # restrict_violation
    assert await snapshot() == before


async def test_an_account_cannot_start_with_money(books, refused):
    async def rich(c):
        await c.execute(
            sa.text(
                "INSERT INTO accounts (id, owner_id, kind, currency, balance_minor, "
                "lifetime_earned_minor) VALUES (:id, :owner, 'available', 'GHS', 100000, 0)"
            ),
            {"id": uuid.uuid4(), "owner": books.member},
        )

    state, _ = await refused(rich)
    assert state == "23001"


async def test_reward_rates_are_never_edited(engine, refused):
    async with engine.begin() as c:
        await c.execute(
            sa.text(
                "INSERT INTO reward_rates (id, kind, amount_minor, currency, valid_from, "
                "created_at) VALUES (:id, 'clip_accepted', 5000, 'NGN', now(), now())"
            ),
            {"id": uuid.uuid4()},
        )
    for statement in ("UPDATE reward_rates SET amount_minor = 1", "DELETE FROM reward_rates"):
        state, _ = await refused(lambda c, s=statement: c.execute(sa.text(s)))
        assert state == "23001"
    assert await scalar(engine, "SELECT amount_minor FROM reward_rates") == 5000
