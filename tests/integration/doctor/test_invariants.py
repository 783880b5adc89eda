"""Every invariant holds on a database the real code made, and each one's check catches a
deliberate corruption of it. Corruptions are raw SQL — with triggers off
(``session_replication_role = replica``) and a constraint dropped where the database itself
would refuse them — inside a transaction that is rolled back, so the world stays healthy for
the next case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.invariants import find_violations
from core.domain import invariants as inv
from core.domain.invariants import INVARIANTS, CheckWindow
from tests.contracts.expo_server import running_expo_server
from tests.integration.conftest import empty_tables, suite_settings
from tests.integration.doctor.world import World, build_world

WINDOW = {"abandoned_after": timedelta(minutes=10), "push_lease": timedelta(minutes=5)}


def window() -> CheckWindow:
    return CheckWindow(datetime.now(UTC), **WINDOW)


@pytest.fixture(scope="module")
async def world(database_url: str, session_engine: AsyncEngine) -> AsyncIterator[World]:
    await empty_tables(session_engine)
    with running_expo_server() as expo:
        yield await build_world(suite_settings(database_url), expo)


async def test_a_database_made_by_the_code_holds_every_invariant(
    world: World, session_engine: AsyncEngine
) -> None:
    async with session_engine.connect() as connection:
        findings = await find_violations(connection, INVARIANTS, window(), examples=5)
        kinds = set(
            (await connection.execute(sa.text("SELECT DISTINCT kind FROM transactions"))).scalars()
        )
        states = set(
            (await connection.execute(sa.text("SELECT DISTINCT state FROM push_deliveries")))
            .scalars()
        )  # fmt: skip
    assert [f.invariant.code for f in findings if not f.holds] == [], findings
    # the world exercises what the checks look at
    assert {"reward_earned", "reward_released", "reward_reversed"} <= kinds
    assert "sent" in states


TRIGGERS_OFF = "SET LOCAL session_replication_role = replica"  # the ledger's guards, FKs
EARNING = (
    "SELECT id FROM transactions WHERE kind = 'reward_earned' AND reward_kind = 'clip_accepted' "
    "AND clip_id = CAST(:accepted AS uuid) ORDER BY member_id LIMIT 1"
)
AN_AVAILABLE_ACCOUNT = "(SELECT id FROM accounts WHERE kind = 'available' ORDER BY id LIMIT 1)"


@dataclass(frozen=True)
class Corruption:
    """What is done to the data, as SQL run in order; ``:accepted``, ``:rejected`` and
    ``:pending`` name the world's clips."""

    what: str
    statements: tuple[str, ...]


CORRUPTIONS: dict[str, Corruption] = {
    inv.LEDGER_BALANCED.code: Corruption("a posting without its counterpart", (
        TRIGGERS_OFF,
        "INSERT INTO postings (transaction_id, account_id, currency, amount_minor) "
        "SELECT transaction_id, account_id, currency, 1 FROM postings "
        "WHERE amount_minor > 0 LIMIT 1",
    )),
    inv.TRANSACTIONS_BALANCED.code: Corruption("a kobo moved between two transactions", (
        TRIGGERS_OFF,
        "UPDATE postings SET amount_minor = amount_minor + "
        "CASE WHEN id = (SELECT min(id) FROM postings WHERE amount_minor > 0) THEN 1 ELSE -1 END "
        "WHERE id IN ((SELECT min(id) FROM postings WHERE amount_minor > 0), "
        "(SELECT max(id) FROM postings WHERE amount_minor > 0))",
    )),
    inv.TRANSACTIONS_FOLLOW_FLOWS.code: Corruption("an earning credited to available", (
        TRIGGERS_OFF,
        "UPDATE postings p SET account_id = av.id FROM accounts pe, accounts av "
        f"WHERE p.transaction_id = ({EARNING}) AND p.amount_minor > 0 AND pe.id = p.account_id "
        "AND av.owner_id = pe.owner_id AND av.kind = 'available' AND av.currency = pe.currency",
    )),
    inv.CLOSINGS_MATCH.code: Corruption("a release of more than was earned", (
        TRIGGERS_OFF,
        "UPDATE postings SET amount_minor = amount_minor + sign(amount_minor) * 100 "
        "WHERE transaction_id = (SELECT id FROM transactions WHERE kind = 'reward_released' "
        "ORDER BY id LIMIT 1)",
    )),
    inv.CLOSED_AT_MOST_ONCE.code: Corruption("a released earning reversed too", (
        "ALTER TABLE transactions DROP CONSTRAINT transactions_closes_once",
        TRIGGERS_OFF,
        "INSERT INTO transactions (id, reference, kind, member_id, occurred_at, "
        "closes_transaction_id, clip_id, reward_kind) "
        "SELECT gen_random_uuid(), 'reversal-again', 'reward_reversed', member_id, now(), "
        "closes_transaction_id, clip_id, reward_kind FROM transactions "
        "WHERE kind = 'reward_released' ORDER BY id LIMIT 1",
    )),
    inv.BALANCES_MATCH_POSTINGS.code: Corruption("a kobo added to a balance", (
        TRIGGERS_OFF,
        f"UPDATE accounts SET balance_minor = balance_minor + 1 WHERE id = {AN_AVAILABLE_ACCOUNT}",
    )),
    inv.MEMBER_BALANCES_NOT_NEGATIVE.code: Corruption("a member overdrawn", (
        "ALTER TABLE accounts DROP CONSTRAINT accounts_member_non_negative",
        TRIGGERS_OFF,
        f"UPDATE accounts SET balance_minor = -5 WHERE id = {AN_AVAILABLE_ACCOUNT}",
    )),
    inv.OPEN_EARNINGS_MATCH_JOURNAL.code: Corruption("an open earning forgotten", (
        TRIGGERS_OFF,
        "DELETE FROM open_earnings WHERE earning_id = "
        "(SELECT earning_id FROM open_earnings ORDER BY earning_id LIMIT 1)",
    )),
    inv.EARNED_ONCE.code: Corruption("a clip paid twice under another reference", (
        TRIGGERS_OFF,
        "CREATE TEMP TABLE twice ON COMMIT DROP AS SELECT gen_random_uuid() AS new_id, t.* "
        f"FROM transactions t WHERE t.id = ({EARNING})",
        "INSERT INTO transactions (id, reference, kind, member_id, occurred_at, clip_id, "
        "reward_kind) SELECT new_id, reference || '-again', kind, member_id, occurred_at, "
        "clip_id, reward_kind FROM twice",
        "INSERT INTO postings (transaction_id, account_id, currency, amount_minor) "
        "SELECT t.new_id, p.account_id, p.currency, p.amount_minor FROM twice t "
        "JOIN postings p ON p.transaction_id = t.id",
    )),
    inv.REWARDS_FOR_DECISIONS.code: Corruption("a paid clip back to pending", (
        "UPDATE voice_clips SET status = 'pending', decided_at = NULL "
        "WHERE id = CAST(:accepted AS uuid)",
    )),
    inv.ONE_VOTE_PER_VALIDATOR.code: Corruption("a second vote by one validator", (
        "ALTER TABLE validations DROP CONSTRAINT validations_one_per_validator",
        "INSERT INTO validations (id, clip_id, validator_id, verdict, outcome, accuracy, "
        "on_probation, created_at) SELECT gen_random_uuid(), clip_id, validator_id, verdict, "
        "'late', accuracy, on_probation, now() FROM validations "
        "WHERE clip_id = CAST(:accepted AS uuid) ORDER BY id LIMIT 1",
    )),
    inv.TALLIES_MATCH_VOTES.code: Corruption("a tally one vote ahead", (
        "UPDATE voice_clips SET valid_votes = valid_votes + 1 WHERE id = CAST(:pending AS uuid)",
    )),
    inv.DECIDED_ONCE.code: Corruption("a clip decided again", (
        "INSERT INTO outbox (id, name, payload, occurred_at, status, attempts, available_at) "
        "SELECT gen_random_uuid(), name, payload, now(), 'pending', 0, now() FROM outbox "
        "WHERE name = 'clip.decided' AND payload->>'clipId' = :rejected",
    )),
    inv.OUTBOX_ROWS_CONSISTENT.code: Corruption("a done job holding a lease", (
        "UPDATE outbox SET locked_by = 'ghost', locked_until = now() "
        "WHERE id = (SELECT id FROM outbox WHERE status = 'done' ORDER BY id LIMIT 1)",
    )),
    inv.OUTBOX_LEASES_ABANDONED.code: Corruption("a job whose worker died an hour ago", (
        "UPDATE outbox SET status = 'running', finished_at = NULL, locked_by = 'ghost', "
        "locked_until = now() - interval '1 hour' "
        "WHERE id = (SELECT id FROM outbox ORDER BY id LIMIT 1)",
    )),
    inv.PUSH_SENDS_ABANDONED.code: Corruption("a push sending since yesterday", (
        "UPDATE push_deliveries SET state = 'sending', locked_by = 'ghost', "
        "sending_since = now() - interval '1 day' "
        "WHERE id = (SELECT min(id) FROM push_deliveries)",
    )),
    inv.PUSH_ONCE_PER_DEVICE.code: Corruption("a second delivery to one device", (
        "ALTER TABLE push_deliveries DROP CONSTRAINT push_deliveries_once",
        "INSERT INTO push_deliveries (notification_id, token, profile_id, state, attempts, "
        "available_at, created_at, updated_at) SELECT notification_id, token, profile_id, "
        "'queued', 0, now(), now(), now() FROM push_deliveries ORDER BY id LIMIT 1",
    )),
}  # fmt: skip


async def corrupt(connection: AsyncConnection, corruption: Corruption, world: World) -> None:
    clips = {"accepted": world.accepted, "rejected": world.rejected, "pending": world.pending}
    for statement in corruption.statements:
        query = sa.text(statement)
        named = {name: clips[name] for name in query.compile().params if name in clips}
        await connection.execute(query, named)


def test_every_invariant_has_a_corruption() -> None:
    assert set(CORRUPTIONS) == {invariant.code for invariant in INVARIANTS}


@pytest.mark.parametrize("code", list(CORRUPTIONS))
async def test_each_check_catches_its_corruption(
    code: str, world: World, session_engine: AsyncEngine
) -> None:
    async with session_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            await corrupt(connection, CORRUPTIONS[code], world)
            findings = await find_violations(connection, INVARIANTS, window(), examples=3)
        finally:
            await transaction.rollback()
    broken = {finding.invariant.code: finding for finding in findings if not finding.holds}
    assert code in broken, f"{CORRUPTIONS[code].what}: not caught; broken: {sorted(broken)}"
    assert broken[code].examples, "the offending rows are shown"
