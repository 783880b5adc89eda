"""payouts: destinations, payouts, handled provider notifications, payout freezes; the
payout_reversed ledger flow

Revision ID: 0008_payouts
Revises: 0005_ledger
Create Date: 2026-12-05

What the database guarantees on its own (docs/payouts.md):

- a member has at most one payout in flight (a partial unique index), and one default
  destination per currency;
- an idempotency key names one payout of a member (unique ``(profile_id, idempotency_key)``);
- a payout's status only moves forward (a trigger checks every UPDATE against the allowed
  transitions), and its member, amount, currency, destination, recipient and key never
  change;
- a provider notification is recorded once (primary key ``(provider, event_key)``);
- the ledger gains ``payout_reversed`` (``payouts_clearing → available``, closing one
  ``payout_settled``), checked like every other flow.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0008_payouts"
down_revision: str | None = "0005_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)
STATUSES = "('requested', 'sending', 'pending', 'otp', 'paid', 'failed', 'reversed')"
IN_FLIGHT = "('requested', 'sending', 'pending', 'otp')"
OLD_KINDS = (
    "('reward_earned', 'reward_released', 'reward_reversed', "
    "'payout_held', 'payout_settled', 'payout_failed')"
)
NEW_KINDS = OLD_KINDS[:-1] + ", 'payout_reversed')"


def upgrade() -> None:
    _destinations()
    _payouts()
    _notifications_and_freezes()
    _ledger_flow(NEW_KINDS, reversal=True)


def downgrade() -> None:
    _ledger_flow(OLD_KINDS, reversal=False)
    op.execute("DROP TRIGGER payouts_move_forward ON payouts")
    op.execute("DROP FUNCTION payouts_check_transition()")
    for table in ("payout_freezes", "payout_webhook_events", "payouts", "payout_destinations"):
        op.drop_table(table)


def _destinations() -> None:
    op.create_table(
        "payout_destinations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("profile_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        # Only what a transfer needs and what the member recognises: never the full number.
        sa.Column("recipient_code", sa.Text, nullable=False),
        sa.Column("bank_code", sa.Text),
        sa.Column("bank_name", sa.Text, nullable=False),
        sa.Column("account_name", sa.Text, nullable=False),
        sa.Column("last4", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("removed_at", TIMESTAMP),
        sa.CheckConstraint(
            "kind IN ('bank_account', 'mobile_money', 'stripe_account')",
            "payout_destinations_kind",
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", "payout_destinations_currency"),
        sa.CheckConstraint("char_length(last4) <= 4", "payout_destinations_last4_only"),
        sa.CheckConstraint(
            "NOT (is_default AND removed_at IS NOT NULL)", "payout_destinations_removed_not_default"
        ),
    )
    op.create_index("payout_destinations_by_member", "payout_destinations", ["profile_id"])
    op.create_index(
        "payout_destinations_one_default",
        "payout_destinations",
        ["profile_id", "currency"],
        unique=True,
        postgresql_where=sa.text("is_default"),
    )


def _payouts() -> None:
    op.create_table(
        "payouts",
        # Also the provider's transfer reference.
        sa.Column("id", UUID, primary_key=True),
        sa.Column("profile_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("destination_id", UUID, sa.ForeignKey("payout_destinations.id"), nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("recipient_code", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("transfer_code", sa.Text),
        sa.Column("failure_code", sa.Text),
        sa.Column("failure_detail", sa.Text),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP),
        sa.CheckConstraint("amount_minor > 0", "payouts_positive"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", "payouts_currency"),
        sa.CheckConstraint(f"status IN {STATUSES}", "payouts_status"),
        sa.CheckConstraint(
            "char_length(idempotency_key) BETWEEN 1 AND 255", "payouts_idempotency_key_length"
        ),
        sa.CheckConstraint("attempts >= 0", "payouts_attempts"),
        sa.UniqueConstraint("profile_id", "idempotency_key", name="payouts_one_per_key"),
    )
    op.create_index(
        "payouts_one_in_flight",
        "payouts",
        ["profile_id"],
        unique=True,
        postgresql_where=sa.text(f"status IN {IN_FLIGHT}"),
    )
    op.create_index(
        "payouts_by_member", "payouts", ["profile_id", sa.text("requested_at DESC"), "id"]
    )
    op.create_index("payouts_by_time", "payouts", [sa.text("requested_at DESC"), "id"])
    op.create_index(
        "payouts_in_flight_by_age",
        "payouts",
        ["updated_at"],
        postgresql_where=sa.text(f"status IN {IN_FLIGHT}"),
    )
    op.execute(
        """
        CREATE FUNCTION payouts_check_transition() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF (NEW.profile_id, NEW.amount_minor, NEW.currency, NEW.destination_id,
                NEW.recipient_code, NEW.provider, NEW.idempotency_key, NEW.fingerprint,
                NEW.requested_at)
               IS DISTINCT FROM
               (OLD.profile_id, OLD.amount_minor, OLD.currency, OLD.destination_id,
                OLD.recipient_code, OLD.provider, OLD.idempotency_key, OLD.fingerprint,
                OLD.requested_at) THEN
                RAISE EXCEPTION 'payout % changed what was asked for', OLD.id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_request_immutable';
            END IF;
            IF NEW.status <> OLD.status AND NOT (OLD.status || ' > ' || NEW.status = ANY (ARRAY[
                'requested > sending', 'requested > pending', 'requested > otp',
                'requested > paid', 'requested > failed', 'requested > reversed',
                'sending > requested', 'sending > pending', 'sending > otp',
                'sending > paid', 'sending > failed', 'sending > reversed',
                'pending > otp', 'pending > paid', 'pending > failed', 'pending > reversed',
                'otp > pending', 'otp > paid', 'otp > failed', 'otp > reversed',
                'paid > reversed'])) THEN
                RAISE EXCEPTION 'payout % may not go from % to %', OLD.id, OLD.status, NEW.status
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'payouts_move_forward';
            END IF;
            RETURN NEW;
        END $$;
        """
    )
    op.execute(
        """
        CREATE TRIGGER payouts_move_forward BEFORE UPDATE ON payouts
        FOR EACH ROW EXECUTE FUNCTION payouts_check_transition()
        """
    )


def _notifications_and_freezes() -> None:
    op.create_table(
        "payout_webhook_events",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("event_key", sa.Text, primary_key=True),
        sa.Column("received_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "payout_freezes",
        sa.Column("profile_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("frozen_at", TIMESTAMP, nullable=False),
    )


def _ledger_flow(kinds: str, *, reversal: bool) -> None:
    """The journal's kinds and the flow check, with or without ``payout_reversed``."""
    op.drop_constraint("transactions_kind", "transactions", type_="check")
    op.create_check_constraint("transactions_kind", "transactions", f"kind IN {kinds}")
    reversed_flow = "WHEN 'payout_reversed' THEN 'payouts_clearing > available'" if reversal else ""
    closes = (
        "CASE WHEN t.kind LIKE 'reward%' THEN 'reward_earned' "
        + ("WHEN t.kind = 'payout_reversed' THEN 'payout_settled' " if reversal else "")
        + "ELSE 'payout_held' END"
    )
    op.execute(
        CHECK_TRANSACTION.replace("@REVERSED_FLOW@", reversed_flow).replace("@CLOSES@", closes)
    )


# The flow check of 0005_ledger, with room for the payout_reversed flow and what it closes.
CHECK_TRANSACTION = """
        CREATE OR REPLACE FUNCTION ledger_check_transaction() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            tx uuid;
            t record;
            closed record;
        BEGIN
            IF TG_TABLE_NAME = 'postings' THEN
                tx := NEW.transaction_id;
            ELSE
                tx := NEW.id;
            END IF;
            IF EXISTS (SELECT 1 FROM postings WHERE transaction_id = tx
                        GROUP BY currency HAVING sum(amount_minor) <> 0) THEN
                RAISE EXCEPTION 'postings of transaction % do not sum to zero per currency', tx
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'postings_balanced';
            END IF;
            SELECT tr.kind, tr.closes_transaction_id AS closes,
                   count(p.id) AS postings,
                   count(p.id) FILTER (WHERE p.amount_minor < 0) AS debits,
                   min(a.kind) FILTER (WHERE p.amount_minor < 0) AS source,
                   min(a.kind) FILTER (WHERE p.amount_minor > 0) AS destination,
                   (array_agg(p.account_id) FILTER (WHERE p.amount_minor < 0))[1] AS debited,
                   max(p.amount_minor) AS amount,
                   coalesce(bool_or(a.owner_id <> tr.member_id), false) AS foreign_money
              INTO t
              FROM transactions AS tr
              LEFT JOIN postings AS p ON p.transaction_id = tr.id
              LEFT JOIN accounts AS a ON a.id = p.account_id
             WHERE tr.id = tx
             GROUP BY tr.id;
            IF t.postings = 0 THEN
                RAISE EXCEPTION 'transaction % has no postings', tx
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'transactions_have_postings';
            END IF;
            IF t.foreign_money THEN
                RAISE EXCEPTION 'transaction % moves another member''s money', tx
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'postings_one_member';
            END IF;
            IF t.postings <> 2 OR t.debits <> 1 OR t.source || ' > ' || t.destination
                IS DISTINCT FROM (CASE t.kind
                    WHEN 'reward_earned' THEN 'rewards_expense > pending'
                    WHEN 'reward_released' THEN 'pending > available'
                    WHEN 'reward_reversed' THEN 'pending > rewards_expense'
                    WHEN 'payout_held' THEN 'available > payout_hold'
                    WHEN 'payout_settled' THEN 'payout_hold > payouts_clearing'
                    WHEN 'payout_failed' THEN 'payout_hold > available'
                    @REVERSED_FLOW@
                END) THEN
                RAISE EXCEPTION 'transaction % does not follow the % flow', tx, t.kind
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'postings_follow_flow';
            END IF;
            IF t.closes IS NOT NULL THEN
                SELECT c.kind, p.account_id, p.amount_minor INTO closed
                  FROM transactions AS c
                  JOIN postings AS p ON p.transaction_id = c.id AND p.amount_minor > 0
                 WHERE c.id = t.closes;
                IF NOT FOUND
                   OR closed.kind IS DISTINCT FROM (@CLOSES@)
                   OR closed.account_id IS DISTINCT FROM t.debited
                   OR closed.amount_minor IS DISTINCT FROM t.amount THEN
                    RAISE EXCEPTION 'transaction % does not move what % credited', tx, t.closes
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'closing_matches_closed';
                END IF;
            END IF;
            RETURN NULL;
        END $$;
        """
