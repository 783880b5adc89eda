"""The invariant checks of ``chorus doctor`` as SQL (their meaning: core/domain/invariants.py).

Each check is a query returning the offending rows (ids and numbers, never a push token or a
payload). All run in one ``REPEATABLE READ READ ONLY`` transaction, so they see one snapshot
and lock nothing; the domain's definitions (flows, account kinds, which votes count and earn)
are bound as parameters from ``core``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.postgres.errors import storage_errors
from core.domain import invariants as inv
from core.domain.clips import ClipStatus, Verdict
from core.domain.jobs import JobStatus
from core.domain.ledger import FLOWS, MEMBER_ACCOUNT_KINDS, TransactionKind
from core.domain.member_notifications import DeliveryState

_CHECKS: Mapping[str, str] = {
    inv.LEDGER_BALANCED.code: """
        SELECT currency, CAST(sum(amount_minor) AS bigint) AS sum_minor
          FROM postings GROUP BY currency HAVING sum(amount_minor) <> 0
    """,
    inv.TRANSACTIONS_BALANCED.code: """
        SELECT transaction_id, currency, CAST(sum(amount_minor) AS bigint) AS sum_minor
          FROM postings GROUP BY transaction_id, currency HAVING sum(amount_minor) <> 0
    """,
    inv.TRANSACTIONS_FOLLOW_FLOWS.code: """
        WITH flows AS (
            SELECT * FROM unnest(CAST(:flow_kinds AS text[]), CAST(:flow_sources AS text[]),
                                 CAST(:flow_destinations AS text[])) AS f(kind, source, destination)
        ), shape AS (
            SELECT t.id, t.kind,
                   count(p.id) AS postings,
                   count(p.id) FILTER (WHERE p.amount_minor < 0) AS debits,
                   min(a.kind) FILTER (WHERE p.amount_minor < 0) AS source,
                   min(a.kind) FILTER (WHERE p.amount_minor > 0) AS destination,
                   coalesce(bool_or(a.owner_id <> t.member_id), false) AS foreign_money
              FROM transactions t
              LEFT JOIN postings p ON p.transaction_id = t.id
              LEFT JOIN accounts a ON a.id = p.account_id
             GROUP BY t.id
        )
        SELECT s.id AS transaction_id, s.kind, s.postings, s.source, s.destination,
               s.foreign_money
          FROM shape s LEFT JOIN flows f ON f.kind = s.kind
         WHERE f.kind IS NULL OR s.postings <> 2 OR s.debits <> 1 OR s.foreign_money
            OR s.source IS DISTINCT FROM f.source OR s.destination IS DISTINCT FROM f.destination
    """,
    inv.CLOSINGS_MATCH.code: """
        WITH flows AS (
            SELECT * FROM unnest(CAST(:flow_kinds AS text[]), CAST(:flow_closes AS text[]))
                       AS f(kind, closes)
        ), moved AS (
            SELECT transaction_id,
                   min(account_id::text) FILTER (WHERE amount_minor > 0) AS credited,
                   min(account_id::text) FILTER (WHERE amount_minor < 0) AS debited,
                   max(amount_minor) AS amount_minor
              FROM postings GROUP BY transaction_id
        )
        SELECT t.id AS transaction_id, t.kind, t.closes_transaction_id AS closes,
               c.kind AS closed_kind, mt.amount_minor, mc.amount_minor AS closed_amount_minor
          FROM transactions t
          JOIN flows f ON f.kind = t.kind
          LEFT JOIN transactions c ON c.id = t.closes_transaction_id
          LEFT JOIN moved mt ON mt.transaction_id = t.id
          LEFT JOIN moved mc ON mc.transaction_id = c.id
         WHERE (f.closes IS NULL) <> (t.closes_transaction_id IS NULL)
            OR (t.closes_transaction_id IS NOT NULL
                AND (c.kind IS DISTINCT FROM f.closes
                     OR mt.debited IS DISTINCT FROM mc.credited
                     OR mt.amount_minor IS DISTINCT FROM mc.amount_minor))
    """,
    inv.CLOSED_AT_MOST_ONCE.code: """
        SELECT closes_transaction_id AS closed_transaction_id, count(*) AS closings
          FROM transactions WHERE closes_transaction_id IS NOT NULL
         GROUP BY closes_transaction_id HAVING count(*) > 1
    """,
    inv.BALANCES_MATCH_POSTINGS.code: """
        WITH sums AS (
            SELECT p.account_id, CAST(sum(p.amount_minor) AS bigint) AS total,
                   CAST(coalesce(sum(p.amount_minor) FILTER (
                       WHERE t.kind = ANY(CAST(:earning_kinds AS text[]))), 0) AS bigint) AS earned
              FROM postings p JOIN transactions t ON t.id = p.transaction_id
             GROUP BY p.account_id
        )
        SELECT a.id AS account_id, a.owner_id, a.kind, a.currency,
               a.balance_minor, coalesce(s.total, 0) AS postings_minor,
               a.lifetime_earned_minor, coalesce(s.earned, 0) AS earned_minor
          FROM accounts a LEFT JOIN sums s ON s.account_id = a.id
         WHERE CASE WHEN a.kind = ANY(CAST(:member_kinds AS text[]))
                    THEN a.balance_minor IS DISTINCT FROM coalesce(s.total, 0)
                         OR a.lifetime_earned_minor IS DISTINCT FROM coalesce(s.earned, 0)
                    ELSE a.balance_minor IS NOT NULL OR a.lifetime_earned_minor IS NOT NULL
               END
    """,
    inv.MEMBER_BALANCES_NOT_NEGATIVE.code: """
        SELECT a.id AS account_id, a.owner_id, a.kind, a.currency, a.balance_minor,
               CAST(coalesce(sum(p.amount_minor), 0) AS bigint) AS postings_minor
          FROM accounts a LEFT JOIN postings p ON p.account_id = a.id
         WHERE a.kind = ANY(CAST(:member_kinds AS text[]))
         GROUP BY a.id
        HAVING a.balance_minor < 0 OR coalesce(sum(p.amount_minor), 0) < 0
    """,
    inv.OPEN_EARNINGS_MATCH_JOURNAL.code: """
        SELECT e.id AS earning_id, 'open but not in the release queue' AS problem
          FROM transactions e
         WHERE e.kind = :earned
           AND NOT EXISTS (SELECT 1 FROM transactions c WHERE c.closes_transaction_id = e.id)
           AND NOT EXISTS (SELECT 1 FROM open_earnings o WHERE o.earning_id = e.id)
        UNION ALL
        SELECT o.earning_id, 'in the release queue but not an open earning'
          FROM open_earnings o LEFT JOIN transactions e ON e.id = o.earning_id
         WHERE e.kind IS DISTINCT FROM :earned
            OR EXISTS (SELECT 1 FROM transactions c WHERE c.closes_transaction_id = o.earning_id)
    """,
    inv.EARNED_ONCE.code: """
        SELECT clip_id, reward_kind, member_id, count(*) AS earnings
          FROM transactions WHERE kind = :earned
         GROUP BY clip_id, reward_kind, member_id HAVING count(*) > 1
    """,
    inv.REWARDS_FOR_DECISIONS.code: """
        WITH decisions AS (
            SELECT * FROM unnest(CAST(:decided AS text[]), CAST(:agreeing AS text[]))
                       AS d(status, verdict)
        )
        SELECT t.id AS transaction_id, t.reward_kind, t.member_id, t.clip_id,
               c.status AS clip_status
          FROM transactions t
          LEFT JOIN voice_clips c ON c.id = t.clip_id
          LEFT JOIN decisions d ON d.status = c.status
         WHERE t.kind = :earned
           AND (d.status IS NULL
                OR (t.reward_kind = :contributor_reward
                    AND (c.status <> :contributor_status OR t.member_id <> c.contributor_id))
                OR (t.reward_kind = :validator_reward
                    AND NOT EXISTS (
                        SELECT 1 FROM validations v
                         WHERE v.clip_id = t.clip_id AND v.validator_id = t.member_id
                           AND (v.outcome = ANY(CAST(:earning_outcomes AS text[]))
                                OR v.outcome = ANY(CAST(:reserved_earning_outcomes AS text[]))
                                OR (c.is_gold
                                    AND v.outcome = ANY(CAST(:gold_earning_outcomes AS text[]))))
                           AND v.verdict = d.verdict AND NOT v.on_probation)))
    """,
    inv.ONE_VOTE_PER_VALIDATOR.code: """
        SELECT validator_id, clip_id, count(*) AS votes
          FROM validations GROUP BY validator_id, clip_id HAVING count(*) > 1
    """,
    inv.TALLIES_MATCH_VOTES.code: """
        WITH counted AS (
            SELECT clip_id,
                   count(*) FILTER (WHERE verdict = :valid) AS valid,
                   count(*) FILTER (WHERE verdict = :invalid) AS invalid,
                   sum(evidence) AS evidence,
                   count(*) FILTER (WHERE established) AS established
              FROM validations WHERE outcome = ANY(CAST(:tallied_outcomes AS text[]))
             GROUP BY clip_id
        )
        SELECT c.id AS clip_id, c.valid_votes, c.invalid_votes, c.log_odds_sum,
               c.established_votes, coalesce(v.valid, 0) AS counted_valid,
               coalesce(v.invalid, 0) AS counted_invalid, coalesce(v.evidence, 0) AS evidence,
               coalesce(v.established, 0) AS counted_established
          FROM voice_clips c LEFT JOIN counted v ON v.clip_id = c.id
         WHERE NOT c.is_gold
           AND (c.valid_votes <> coalesce(v.valid, 0)
                OR c.invalid_votes <> coalesce(v.invalid, 0)
                OR abs(c.log_odds_sum - coalesce(v.evidence, 0)) > :evidence_tolerance
                OR c.established_votes <> coalesce(v.established, 0))
    """,
    inv.DECIDED_ONCE.code: """
        SELECT id::text AS clip_id, status, decided_at, NULL::bigint AS decided_events
          FROM voice_clips WHERE (status = :pending) <> (decided_at IS NULL)
        UNION ALL
        SELECT payload->>:event_clip_key, NULL, NULL, count(*)
          FROM outbox WHERE name = :decided_event
         GROUP BY payload->>:event_clip_key HAVING count(*) > 1
    """,
    inv.OUTBOX_ROWS_CONSISTENT.code: """
        SELECT id AS job_id, name, status, attempts, locked_by, locked_until, finished_at
          FROM outbox
         WHERE (status = ANY(CAST(:leased AS text[])))
                   <> (locked_by IS NOT NULL AND locked_until IS NOT NULL)
            OR (status <> ALL(CAST(:leased AS text[]))
                AND (locked_by IS NOT NULL OR locked_until IS NOT NULL))
            OR (finished_at IS NOT NULL AND status <> ALL(CAST(:finished AS text[])))
            OR (status <> :job_pending AND attempts < 1)
            OR attempts < 0
    """,
    inv.OUTBOX_LEASES_ABANDONED.code: """
        SELECT id AS job_id, name, attempts, locked_by, locked_until
          FROM outbox
         WHERE status = ANY(CAST(:leased AS text[])) AND locked_until < :abandoned_before
    """,
    inv.PUSH_SENDS_ABANDONED.code: """
        SELECT id AS delivery_id, notification_id, locked_by, sending_since
          FROM push_deliveries
         WHERE state = :sending AND sending_since < :sending_abandoned_before
    """,
    inv.PUSH_ONCE_PER_DEVICE.code: """
        SELECT notification_id, count(*) AS deliveries
          FROM push_deliveries GROUP BY notification_id, token HAVING count(*) > 1
    """,
}


def _domain_parameters(window: inv.CheckWindow) -> dict[str, Any]:
    kinds = list(FLOWS)
    contributor_reward, contributor_status = inv.CONTRIBUTOR_REWARD
    return {
        "flow_kinds": [kind.value for kind in kinds],
        "flow_sources": [FLOWS[kind].source.value for kind in kinds],
        "flow_destinations": [FLOWS[kind].destination.value for kind in kinds],
        "flow_closes": [closes.value if (closes := FLOWS[kind].closes) else None for kind in kinds],
        "member_kinds": sorted(kind.value for kind in MEMBER_ACCOUNT_KINDS),
        "earning_kinds": sorted(kind.value for kind in inv.LIFETIME_EARNING_KINDS),
        "earned": TransactionKind.REWARD_EARNED.value,
        "decided": [status.value for status in inv.DECISION_VERDICTS],
        "agreeing": [verdict.value for verdict in inv.DECISION_VERDICTS.values()],
        "contributor_reward": contributor_reward.value,
        "contributor_status": contributor_status.value,
        "validator_reward": inv.VALIDATOR_REWARD.value,
        "earning_outcomes": sorted(outcome.value for outcome in inv.EARNING_OUTCOMES),
        "gold_earning_outcomes": sorted(o.value for o in inv.GOLD_EARNING_OUTCOMES),
        "reserved_earning_outcomes": sorted(o.value for o in inv.RESERVED_EARNING_OUTCOMES),
        "evidence_tolerance": inv.EVIDENCE_TOLERANCE,
        "tallied_outcomes": sorted(outcome.value for outcome in inv.TALLIED_OUTCOMES),
        "valid": Verdict.VALID.value,
        "invalid": Verdict.INVALID.value,
        "pending": ClipStatus.PENDING.value,
        "job_pending": JobStatus.PENDING.value,
        "decided_event": inv.DECISION_EVENT[0],
        "event_clip_key": inv.DECISION_EVENT[1],
        "leased": sorted(status.value for status in inv.LEASED_JOB_STATUSES),
        "finished": sorted(status.value for status in inv.FINISHED_JOB_STATUSES),
        "abandoned_before": window.now - window.abandoned_after,
        "sending": DeliveryState.SENDING.value,
        "sending_abandoned_before": window.now - window.push_lease - window.abandoned_after,
    }


def _plain(value: object) -> object:
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _statement(code: str) -> tuple[sa.TextClause, frozenset[str]]:
    """The check as a query for its total and its first rows, and the parameters it names."""
    check = _CHECKS[code]
    query = sa.text(
        f"SELECT count(*) OVER () AS total_violations, v.* FROM ({check}) AS v LIMIT :limit"  # noqa: S608 - the checks are constants
    )
    return query, frozenset(sa.text(check).compile().params)


async def find_violations(
    connection: AsyncConnection,
    invariants: Sequence[inv.Invariant],
    window: inv.CheckWindow,
    *,
    examples: int,
) -> list[inv.Finding]:
    """Run the checks on ``connection`` as it is (tests run them inside the transaction that
    corrupted the data); ``PostgresInvariantChecks`` gives them a read-only snapshot."""
    parameters = _domain_parameters(window)
    findings = []
    for invariant in invariants:
        query, names = _statement(invariant.code)
        bound = {name: parameters[name] for name in names} | {"limit": max(examples, 1)}
        rows = (await connection.execute(query, bound)).mappings().all()
        total = int(rows[0]["total_violations"]) if rows else 0
        shown = tuple(
            {key: _plain(value) for key, value in row.items() if key != "total_violations"}
            for row in rows[:examples]
        )
        findings.append(inv.Finding(invariant, total, shown))
    return findings


class PostgresInvariantChecks:
    """Implements ``core.ports.invariants.InvariantChecks``: one read-only, repeatable-read
    transaction; statements may run longer than the application's usual limit (a big
    journal takes a while to sum)."""

    def __init__(self, engine: AsyncEngine, *, statement_timeout_seconds: int = 600) -> None:
        self._engine = engine
        self._timeout_ms = statement_timeout_seconds * 1000

    async def find(
        self, invariants: Sequence[inv.Invariant], window: inv.CheckWindow, *, examples: int
    ) -> Sequence[inv.Finding]:
        async with storage_errors(), self._engine.connect() as connection:
            snapshot = await connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            async with snapshot.begin():
                await snapshot.execute(
                    sa.text(f"SET LOCAL statement_timeout = {int(self._timeout_ms)}")
                )
                return await find_violations(snapshot, invariants, window, examples=examples)
