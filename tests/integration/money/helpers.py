"""Shared steps of the money tests: rows made directly in SQL, and a look at the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def insert_profile(
    engine: AsyncEngine, *, status: str = "active", role: str = "member"
) -> uuid.UUID:
    profile_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO profiles (id, role, status, created_at, updated_at) "
                "VALUES (:id, :role, :status, now(), now())"
            ),
            {"id": profile_id, "role": role, "status": status},
        )
    return profile_id


async def insert_clip(
    engine: AsyncEngine, contributor_id: uuid.UUID, *, language: str = "yo"
) -> uuid.UUID:
    clip_id = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO voice_clips (id, contributor_id, client_id, language, prompt, "
                "audio_key, audio_format, mime_type, duration_ms, size_bytes, queue_rank, "
                "created_at) VALUES (:id, :contributor, :client, :language, 'Ẹ káàárọ̀', "
                "'k', 'wav', 'audio/wav', 2000, 100, 0, now())"
            ),
            {
                "id": clip_id,
                "contributor": contributor_id,
                "client": uuid.uuid4(),
                "language": language,
            },
        )
    return clip_id


async def set_visibility(engine: AsyncEngine, clip_id: uuid.UUID, visibility: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE voice_clips SET visibility = :v WHERE id = :id"),
            {"v": visibility, "id": clip_id},
        )


async def seed_rates(
    engine: AsyncEngine, clip_minor: int = 5_000, agreed_minor: int = 1_000
) -> None:
    """Generic NGN rates for accepted clips and agreeing votes, in force since yesterday."""
    async with engine.begin() as connection:
        for kind, amount in (("clip_accepted", clip_minor), ("validation_agreed", agreed_minor)):
            await connection.execute(
                sa.text(
                    "INSERT INTO reward_rates (id, kind, amount_minor, currency, valid_from, "
                    "created_at) VALUES (:id, :kind, :amount, 'NGN', now() - interval '1 day', "
                    "now())"
                ),
                {"id": uuid.uuid4(), "kind": kind, "amount": amount},
            )


async def scalar(engine: AsyncEngine, sql: str, **params: object) -> object:
    async with engine.connect() as connection:
        return await connection.scalar(sa.text(sql), params)


async def ledger_totals(engine: AsyncEngine) -> dict[str, int]:
    """Σ postings per currency (always zero) and checks that every member balance is the sum
    of its postings."""
    async with engine.connect() as connection:
        totals = dict(
            (
                await connection.execute(
                    sa.text("SELECT currency, sum(amount_minor) FROM postings GROUP BY currency")
                )
            ).all()
        )
        drift = await connection.scalar(
            sa.text(
                "SELECT count(*) FROM accounts a WHERE a.owner_id IS NOT NULL AND "
                "a.balance_minor <> coalesce((SELECT sum(amount_minor) FROM postings p "
                "WHERE p.account_id = a.id), 0)"
            )
        )
    assert drift == 0
    return {currency: int(total) for currency, total in totals.items()}


# -- raw SQL, bypassing the code -------------------------------------------------------------


async def raw_account(
    connection: AsyncConnection, owner_id: uuid.UUID | None, kind: str, currency: str = "NGN"
) -> uuid.UUID:
    account_id = uuid.uuid4()
    kept = 0 if owner_id is not None else None
    await connection.execute(
        sa.text(
            "INSERT INTO accounts (id, owner_id, kind, currency, balance_minor, "
            "lifetime_earned_minor) VALUES (:id, :owner, :kind, :currency, :kept, :kept)"
        ),
        {"id": account_id, "owner": owner_id, "kind": kind, "currency": currency, "kept": kept},
    )
    return account_id


async def raw_transaction(
    connection: AsyncConnection,
    *,
    member_id: uuid.UUID,
    kind: str,
    reference: str | None = None,
    clip_id: uuid.UUID | None = None,
    closes: uuid.UUID | None = None,
    postings: list[tuple[uuid.UUID, int]] = (),  # type: ignore[assignment]
) -> uuid.UUID:
    transaction_id = uuid.uuid4()
    await connection.execute(
        sa.text(
            "INSERT INTO transactions (id, reference, kind, member_id, occurred_at, "
            "closes_transaction_id, clip_id, reward_kind) VALUES (:id, :reference, :kind, "
            ":member, now(), :closes, :clip, :reward_kind)"
        ),
        {
            "id": transaction_id,
            "reference": reference or f"raw:{transaction_id}",
            "kind": kind,
            "member": member_id,
            "closes": closes,
            "clip": clip_id,
            "reward_kind": "clip_accepted" if kind == "reward_earned" else None,
        },
    )
    for account_id, amount in postings:
        await connection.execute(
            sa.text(
                "INSERT INTO postings (transaction_id, account_id, currency, amount_minor) "
                "VALUES (:tx, :account, 'NGN', :amount)"
            ),
            {"tx": transaction_id, "account": account_id, "amount": amount},
        )
    return transaction_id
