"""The money ledger and reward rates in PostgreSQL.

The database does the bookkeeping that must hold under concurrency (migration 0005_ledger):
a statement trigger on ``postings`` updates member balances in the same transaction, locking
the accounts in id order, and a CHECK refuses a negative member balance; deferred constraint
triggers check at COMMIT that each transaction's postings sum to zero per currency and follow
its kind's flow; unique constraints make a reference and a closing happen once. This module
maps rows to domain values and turns those refusals into domain errors.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.clip_tables import voice_clips
from adapters.postgres.errors import storage_errors
from adapters.postgres.keyset import newest_first
from adapters.postgres.ledger_tables import (
    accounts,
    open_earnings,
    postings,
    reward_rates,
    transactions,
)
from adapters.postgres.shared_connection import autocommit_connection
from core.domain.ledger import (
    AccountKind,
    AccountRef,
    AlreadyClosed,
    DuplicateReference,
    InsufficientFunds,
    JournalTransaction,
    MemberBalance,
    Posting,
    TransactionKind,
    UnknownTransaction,
)
from core.domain.money import Money
from core.domain.rewards import RewardKind, RewardRate
from core.ports.ledger import LedgerEntry, RateRecord

#: Account ids are uuid5 of the account's name (``member:<id>:pending:NGN``,
#: ``platform:rewards_expense:NGN``) in this namespace: a posting finds its account without a
#: lookup, and the unique (owner, kind, currency) constraint still guards the name.
ACCOUNT_NAMESPACE = uuid.UUID("6f1c2a4e-9b0d-5e3a-8c71-2d4b6a8e0f15")


def account_id(account: AccountRef) -> UUID:
    return uuid.uuid5(ACCOUNT_NAMESPACE, str(account))


def _constraint_of(error: IntegrityError) -> str | None:
    cause = getattr(error.orig, "__cause__", None)
    name = getattr(cause, "constraint_name", None)
    return name if isinstance(name, str) else None


def _domain_error(error: IntegrityError) -> Exception | None:
    """The domain's name for a refusal by the database, if it has one."""
    constraint = _constraint_of(error)
    if constraint == "transactions_closes_once":
        return AlreadyClosed("That transaction was already closed.")
    if constraint == "transactions_closes_fkey":
        return UnknownTransaction("The transaction to close is not in the ledger.")
    if constraint == "accounts_member_non_negative":
        return InsufficientFunds("A member account would go negative.")
    if constraint == "transactions_pkey":
        return DuplicateReference("Transaction id already used.", code="duplicate_id")
    return None


# A batch of transactions is posted by one statement, whatever its size: arrays unnested in
# the order given, each table written by one data-modifying CTE. Postings go in only for the
# transactions inserted now (a replayed reference inserts nothing), in the order posted, so a
# transaction reads back exactly as it was posted. That `postings` gets one INSERT matters:
# its balance trigger runs once per statement, after every CTE, and locks the accounts of all
# its rows in id order.
_POST_TRANSACTIONS = sa.text(
    "WITH new_accounts AS ("
    " INSERT INTO accounts (id, owner_id, kind, currency, balance_minor, lifetime_earned_minor)"
    " SELECT id, owner_id, kind, currency, kept, kept FROM unnest(CAST(:account_ids AS uuid[]),"
    " CAST(:owner_ids AS uuid[]), CAST(:account_kinds AS text[]),"
    " CAST(:account_currencies AS text[]), CAST(:kept AS bigint[]))"
    " AS a(id, owner_id, kind, currency, kept)"
    " ON CONFLICT DO NOTHING"
    "), new_transactions AS ("
    " INSERT INTO transactions (id, reference, kind, member_id, occurred_at,"
    " closes_transaction_id, clip_id, reward_kind, memo, metadata)"
    " SELECT id, reference, kind, member_id, occurred_at, closes, clip_id, reward_kind, memo,"
    " CAST(metadata AS jsonb) FROM unnest(CAST(:ids AS uuid[]), CAST(:references AS text[]),"
    " CAST(:kinds AS text[]), CAST(:member_ids AS uuid[]), CAST(:occurred_at AS timestamptz[]),"
    " CAST(:closes AS uuid[]), CAST(:clip_ids AS uuid[]), CAST(:reward_kinds AS text[]),"
    " CAST(:memos AS text[]), CAST(:metadata AS text[])) AS t(id, reference, kind, member_id,"
    " occurred_at, closes, clip_id, reward_kind, memo, metadata)"
    " ON CONFLICT (reference) DO NOTHING RETURNING id, reference"
    "), new_postings AS ("
    " INSERT INTO postings (transaction_id, account_id, currency, amount_minor)"
    " SELECT p.transaction_id, p.account_id, p.currency, p.amount_minor"
    " FROM unnest(CAST(:posting_transaction_ids AS uuid[]), CAST(:posting_account_ids AS uuid[]),"
    " CAST(:posting_currencies AS text[]), CAST(:posting_amounts AS bigint[]))"
    " WITH ORDINALITY AS p(transaction_id, account_id, currency, amount_minor, position)"
    " WHERE p.transaction_id IN (SELECT id FROM new_transactions)"
    " ORDER BY p.position"
    ") SELECT reference FROM new_transactions"
)


_MEMBER_ACCOUNTS = sa.select(
    accounts.c.kind, accounts.c.balance_minor, accounts.c.lifetime_earned_minor
).where(
    accounts.c.owner_id == sa.bindparam("profile_id"),
    accounts.c.currency == sa.bindparam("currency"),
)


async def _member_balance(
    connection: AsyncConnection, profile_id: UUID, currency: str
) -> MemberBalance:
    rows = await connection.execute(
        _MEMBER_ACCOUNTS, {"profile_id": profile_id, "currency": currency}
    )
    balances = {AccountKind(row.kind): row for row in rows}

    def of(kind: AccountKind) -> Money:
        row = balances.get(kind)
        return Money(row.balance_minor if row else 0, currency)

    pending = balances.get(AccountKind.PENDING)
    return MemberBalance(
        currency=currency,
        available=of(AccountKind.AVAILABLE),
        pending=of(AccountKind.PENDING),
        on_hold=of(AccountKind.PAYOUT_HOLD),
        lifetime_earned=Money(pending.lifetime_earned_minor if pending else 0, currency),
    )


class PostgresBalanceLookup:
    """Implements ``core.ports.ledger.BalanceLookup``: one autocommit read (no BEGIN and
    ROLLBACK around it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def member_balance(self, profile_id: UUID, currency: str) -> MemberBalance:
        async with storage_errors(), autocommit_connection(self._engine) as connection:
            return await _member_balance(connection, profile_id, currency)


class PostgresLedgerRepository:
    """Implements ``core.ports.ledger.LedgerRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    # -- writing ---------------------------------------------------------------------------

    async def post(self, transaction: JournalTransaction) -> bool:
        return (await self.post_all([transaction]))[0]

    async def post_all(self, transactions_: Sequence[JournalTransaction]) -> tuple[bool, ...]:
        wanted: dict[str, JournalTransaction] = {}
        for tx in transactions_:
            first = wanted.setdefault(tx.reference, tx)
            if not first.same_movement_as(tx):
                raise DuplicateReference(
                    f"Reference {tx.reference!r} is used by two movements.",
                    reference=tx.reference,
                )
        if not wanted:
            return ()
        try:
            new = await self._insert(list(wanted.values()))
        except IntegrityError as error:
            refusal = _domain_error(error)
            if refusal is None:
                raise
            raise refusal from error
        await self._check_replays([tx for ref, tx in wanted.items() if ref not in new])
        flags = []
        for tx in transactions_:
            flags.append(tx.reference in new)
            new.discard(tx.reference)  # a repeat in the list is a replay
        return tuple(flags)

    async def _insert(self, batch: list[JournalTransaction]) -> set[str]:
        """Insert what is new in one statement; return the references inserted. Rows others
        may be inserting at the same moment (a member's first accounts, a replayed reference)
        go in a fixed order (accounts by id, transactions by reference), so concurrent inserts
        wait for each other instead of deadlocking."""
        touched = sorted({p.account for tx in batch for p in tx.postings}, key=account_id)
        ordered = sorted(batch, key=lambda tx: tx.reference)
        # In the order posted, so a transaction reads back exactly as it was posted.
        posted = [(tx, posting) for tx in batch for posting in tx.postings]
        inserted = await self._connection.execute(
            _POST_TRANSACTIONS,
            {
                "account_ids": [account_id(account) for account in touched],
                "owner_ids": [account.owner_id for account in touched],
                "account_kinds": [account.kind.value for account in touched],
                "account_currencies": [account.currency for account in touched],
                # Member accounts start at zero; platform accounts keep no running balance.
                "kept": [None if account.owner_id is None else 0 for account in touched],
                "ids": [tx.id for tx in ordered],
                "references": [tx.reference for tx in ordered],
                "kinds": [tx.kind.value for tx in ordered],
                "member_ids": [tx.member_id for tx in ordered],
                "occurred_at": [tx.occurred_at for tx in ordered],
                "closes": [tx.closes for tx in ordered],
                "clip_ids": [_clip_of(tx) for tx in ordered],
                "reward_kinds": [tx.metadata.get("reward_kind") for tx in ordered],
                "memos": [tx.memo for tx in ordered],
                "metadata": [json.dumps(dict(tx.metadata)) for tx in ordered],
                "posting_transaction_ids": [tx.id for tx, _ in posted],
                "posting_account_ids": [account_id(p.account) for _, p in posted],
                "posting_currencies": [p.amount.currency for _, p in posted],
                "posting_amounts": [p.amount.amount_minor for _, p in posted],
            },
        )
        return set(inserted.scalars())

    async def _check_replays(self, candidates: list[JournalTransaction]) -> None:
        if not candidates:
            return
        recorded = {
            tx.reference: tx
            for tx in await self._load(
                transactions.c.reference.in_([tx.reference for tx in candidates])
            )
        }
        for tx in candidates:
            earlier = recorded.get(tx.reference)
            if earlier is None or not earlier.same_movement_as(tx):
                raise DuplicateReference(
                    f"Reference {tx.reference!r} is already used by another movement.",
                    reference=tx.reference,
                )

    # -- reading ---------------------------------------------------------------------------

    async def by_reference(self, reference: str) -> JournalTransaction | None:
        found = await self._load(transactions.c.reference == reference)
        return found[0] if found else None

    async def member_balance(self, profile_id: UUID, currency: str) -> MemberBalance:
        return await _member_balance(self._connection, profile_id, currency)

    async def history(
        self, profile_id: UUID, *, before: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[LedgerEntry]:
        closed = transactions.alias("closed")
        query = (
            sa.select(
                transactions,
                closed.c.clip_id.label("closed_clip_id"),
                closed.c.reward_kind.label("closed_reward_kind"),
            )
            .select_from(
                transactions.outerjoin(closed, closed.c.id == transactions.c.closes_transaction_id)
            )
            .where(transactions.c.member_id == profile_id)
        )
        page = newest_first(
            query, transactions.c.occurred_at, transactions.c.id, before=before, limit=limit
        )
        rows = list(await self._connection.execute(page))
        by_id = {tx.id: tx for tx in await self._with_postings(rows)}
        return [
            LedgerEntry(
                transaction=by_id[row.id],
                clip_id=row.clip_id or row.closed_clip_id,
                reward_kind=row.reward_kind or row.closed_reward_kind,
            )
            for row in rows
        ]

    async def lock_due_earnings(
        self, *, earned_up_to: datetime, limit: int
    ) -> Sequence[JournalTransaction]:
        clip_visible = sa.exists().where(
            voice_clips.c.id == open_earnings.c.clip_id, voice_clips.c.visibility == "visible"
        )
        due = (
            sa.select(open_earnings.c.earning_id)
            .where(
                open_earnings.c.earned_at <= earned_up_to,
                sa.or_(open_earnings.c.clip_id.is_(None), clip_visible),
            )
            .order_by(open_earnings.c.earned_at, open_earnings.c.earning_id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=open_earnings)
        )
        return await self._lock_and_load(due)

    async def lock_open_earnings_of_clip(self, clip_id: UUID) -> Sequence[JournalTransaction]:
        query = (
            sa.select(open_earnings.c.earning_id)
            .where(open_earnings.c.clip_id == clip_id)
            .order_by(open_earnings.c.earning_id)
            .with_for_update()
        )
        return await self._lock_and_load(query)

    async def earnings_of_clip(self, clip_id: UUID) -> Sequence[JournalTransaction]:
        return await self._load(
            transactions.c.clip_id == clip_id,
            transactions.c.kind == TransactionKind.REWARD_EARNED.value,
        )

    async def _lock_and_load(self, query: sa.Select[Any]) -> Sequence[JournalTransaction]:
        ids = list((await self._connection.execute(query)).scalars())
        if not ids:
            return []
        order = {earning_id: n for n, earning_id in enumerate(ids)}
        found = await self._load(transactions.c.id.in_(ids))
        return sorted(found, key=lambda tx: order[tx.id])

    async def _load(self, *conditions: sa.ColumnElement[bool]) -> list[JournalTransaction]:
        rows = list(
            await self._connection.execute(
                sa.select(transactions)
                .where(*conditions)
                .order_by(transactions.c.occurred_at, transactions.c.id)
            )
        )
        return await self._with_postings(rows)

    async def _with_postings(self, rows: Collection[sa.Row[Any]]) -> list[JournalTransaction]:
        if not rows:
            return []
        found = await self._connection.execute(
            sa.select(
                postings.c.transaction_id,
                postings.c.amount_minor,
                accounts.c.owner_id,
                accounts.c.kind,
                accounts.c.currency,
            )
            .select_from(postings.join(accounts, accounts.c.id == postings.c.account_id))
            .where(postings.c.transaction_id.in_([row.id for row in rows]))
            .order_by(postings.c.id)
        )
        by_transaction: dict[UUID, list[Posting]] = {}
        for posting in found:
            account = AccountRef(posting.owner_id, AccountKind(posting.kind), posting.currency)
            by_transaction.setdefault(posting.transaction_id, []).append(
                Posting(account, Money(posting.amount_minor, posting.currency))
            )
        return [_to_transaction(row, by_transaction.get(row.id, [])) for row in rows]


def _clip_of(tx: JournalTransaction) -> UUID | None:
    clip_id = tx.metadata.get("clip_id")
    return UUID(clip_id) if clip_id else None


def _to_transaction(row: sa.Row[Any], postings_: list[Posting]) -> JournalTransaction:
    return JournalTransaction(
        id=row.id,
        reference=row.reference,
        kind=TransactionKind(row.kind),
        postings=tuple(postings_),
        occurred_at=row.occurred_at,
        closes=row.closes_transaction_id,
        memo=row.memo,
        metadata={str(k): str(v) for k, v in row.metadata.items()},
    )


# -- reward rates --------------------------------------------------------------------------


def _to_rate_record(row: sa.Row[Any]) -> RateRecord:
    return RateRecord(
        rate=RewardRate(
            id=row.id,
            kind=RewardKind(row.kind),
            amount=Money(row.amount_minor, row.currency),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            language=row.language,
        ),
        created_by=row.created_by,
        created_at=row.created_at,
    )


_RATES_IN_FORCE = sa.select(reward_rates).where(
    reward_rates.c.currency == sa.bindparam("currency"),
    sa.or_(reward_rates.c.language.is_(None), reward_rates.c.language == sa.bindparam("language")),
    reward_rates.c.valid_from <= sa.bindparam("at"),
    sa.or_(reward_rates.c.valid_to.is_(None), reward_rates.c.valid_to > sa.bindparam("at")),
)


class PostgresRewardRateRepository:
    """Implements ``core.ports.ledger.RewardRateRepository``."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def in_force(self, *, currency: str, language: str, at: datetime) -> Sequence[RewardRate]:
        rows = await self._connection.execute(
            _RATES_IN_FORCE, {"currency": currency, "language": language, "at": at}
        )
        return [_to_rate_record(row).rate for row in rows]

    async def add_if_absent(self, record: RateRecord) -> bool:
        rate = record.rate
        statement = (
            insert(reward_rates)
            .values(
                id=rate.id,
                kind=rate.kind.value,
                amount_minor=rate.amount.amount_minor,
                currency=rate.amount.currency,
                language=rate.language,
                valid_from=rate.valid_from,
                valid_to=rate.valid_to,
                created_by=record.created_by,
                created_at=record.created_at,
            )
            .on_conflict_do_nothing(constraint="reward_rates_one_start")
            .returning(reward_rates.c.id)
        )
        return (await self._connection.execute(statement)).scalar_one_or_none() is not None

    async def list_rates(
        self,
        *,
        currency: str | None = None,
        kind: RewardKind | None = None,
        after: tuple[datetime, datetime, UUID] | None = None,
        limit: int | None = None,
    ) -> Sequence[RateRecord]:
        query = sa.select(reward_rates)
        if currency is not None:
            query = query.where(reward_rates.c.currency == currency)
        if kind is not None:
            query = query.where(reward_rates.c.kind == kind.value)
        if after is not None:
            valid_from, created_at, rate_id = after
            stamps = sa.tuple_(reward_rates.c.valid_from, reward_rates.c.created_at)
            query = query.where(
                sa.or_(
                    stamps < sa.tuple_(sa.literal(valid_from), sa.literal(created_at)),
                    sa.and_(
                        reward_rates.c.valid_from == valid_from,
                        reward_rates.c.created_at == created_at,
                        reward_rates.c.id > rate_id,
                    ),
                )
            )
        query = query.order_by(
            reward_rates.c.valid_from.desc(), reward_rates.c.created_at.desc(), reward_rates.c.id
        )
        if limit is not None:
            query = query.limit(limit)
        return [_to_rate_record(row) for row in await self._connection.execute(query)]
