"""the money ledger: accounts, journal transactions, postings, open earnings, reward rates

Revision ID: 0005_ledger
Revises: 0002_clips
Create Date: 2026-12-03

The seed backend calls the journal ``transactions`` and the rates ``rewardRates``.

What the database itself guarantees, whatever code writes to it (docs/money.md):

- postings of a transaction sum to zero per currency, a transaction has postings, every
  member account it touches belongs to its member, it follows its kind's flow (two postings,
  from the kind's source account kind to its destination), and a closing moves exactly what
  the closed transaction credited — checked at COMMIT by deferred constraint triggers;
- a reference is used once (unique); an earning or a payout hold is closed once (unique
  ``closes_transaction_id``);
- a member's ``pending``, ``available`` and ``payout_hold`` balances never go negative: the
  balance is updated by a trigger on ``postings`` in the same transaction, and a CHECK refuses
  a negative result; the trigger locks the member accounts it touches in id order, so
  concurrent transactions queue instead of deadlocking;
- balances change only through postings; the journal, the postings and the reward rates are
  never updated or deleted (TRUNCATE, for tests, is not affected).

Platform accounts may go negative and keep no running balance (``balance_minor`` is NULL):
every reward debits ``rewards_expense``, and a running balance there would make every decision
in the system wait for the previous one to commit. Their balance is the sum of their postings.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0005_ledger"
down_revision: str | None = "0002_clips"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)

MEMBER_KINDS = "('pending', 'available', 'payout_hold')"
PLATFORM_KINDS = "('rewards_expense', 'payouts_clearing', 'fees')"
TRANSACTION_KINDS = (
    "('reward_earned', 'reward_released', 'reward_reversed', "
    "'payout_held', 'payout_settled', 'payout_failed')"
)
REWARD_KINDS = "('clip_accepted', 'validation_agreed', 'first_clip_bonus', 'streak_bonus')"
CURRENCY = "~ '^[A-Z]{3}$'"


def upgrade() -> None:
    _tables()
    _functions()
    _triggers()


def _tables() -> None:
    op.create_table(
        "accounts",
        # uuid5 of the account's name (see adapters/postgres/ledger.py), so a posting needs
        # no lookup to find its account.
        sa.Column("id", UUID, primary_key=True),
        sa.Column("owner_id", UUID, sa.ForeignKey("profiles.id")),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("balance_minor", sa.BigInteger),
        sa.Column("lifetime_earned_minor", sa.BigInteger),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(f"kind IN {MEMBER_KINDS} OR kind IN {PLATFORM_KINDS}", "accounts_kind"),
        sa.CheckConstraint(f"currency {CURRENCY}", "accounts_currency"),
        sa.CheckConstraint(
            f"(owner_id IS NOT NULL) = (kind IN {MEMBER_KINDS})", "accounts_owner_matches_kind"
        ),
        sa.CheckConstraint(
            "(owner_id IS NOT NULL) = (balance_minor IS NOT NULL "
            "AND lifetime_earned_minor IS NOT NULL)",
            "accounts_member_balance_kept",
        ),
        # The rule that makes "never negative, even under concurrency" hold.
        sa.CheckConstraint("balance_minor >= 0", "accounts_member_non_negative"),
        sa.UniqueConstraint("id", "currency", name="accounts_id_currency"),
    )
    op.execute(
        "ALTER TABLE accounts ADD CONSTRAINT accounts_one_per_owner_kind_currency "
        "UNIQUE NULLS NOT DISTINCT (owner_id, kind, currency)"
    )

    op.create_table(
        "transactions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("member_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column(
            "closes_transaction_id",
            UUID,
            sa.ForeignKey("transactions.id", name="transactions_closes_fkey"),
        ),
        sa.Column("clip_id", UUID, sa.ForeignKey("voice_clips.id")),
        sa.Column("reward_kind", sa.Text),
        sa.Column("memo", sa.Text, nullable=False, server_default=""),
        sa.Column("metadata", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("recorded_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("reference", name="transactions_reference_unique"),
        # An earning is released or reversed, a payout hold settled or failed: once.
        sa.UniqueConstraint("closes_transaction_id", name="transactions_closes_once"),
        sa.CheckConstraint(f"kind IN {TRANSACTION_KINDS}", "transactions_kind"),
        sa.CheckConstraint(
            "char_length(reference) BETWEEN 1 AND 200", "transactions_reference_length"
        ),
        sa.CheckConstraint(
            "(closes_transaction_id IS NULL) = (kind IN ('reward_earned', 'payout_held'))",
            "transactions_closing_kinds",
        ),
        sa.CheckConstraint(
            f"kind <> 'reward_earned' OR (clip_id IS NOT NULL AND reward_kind IN {REWARD_KINDS})",
            "transactions_earning_says_what_for",
        ),
    )
    op.create_index(
        "transactions_by_member",
        "transactions",
        ["member_id", sa.text("occurred_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "transactions_by_clip",
        "transactions",
        ["clip_id"],
        postgresql_where=sa.text("clip_id IS NOT NULL"),
    )

    op.create_table(
        "postings",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("transaction_id", UUID, sa.ForeignKey("transactions.id"), nullable=False),
        sa.Column("account_id", UUID, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount_minor <> 0", "postings_not_zero"),
        # A posting's currency is its account's currency.
        sa.ForeignKeyConstraint(
            ["account_id", "currency"],
            ["accounts.id", "accounts.currency"],
            name="postings_account_fkey",
        ),
    )
    op.create_index("postings_by_transaction", "postings", ["transaction_id"])
    op.create_index("postings_by_account", "postings", ["account_id"])

    # Earnings neither released nor reversed: the release job's queue. Maintained by a
    # trigger on `transactions` only, so it cannot drift from the journal.
    op.create_table(
        "open_earnings",
        sa.Column("earning_id", UUID, sa.ForeignKey("transactions.id"), primary_key=True),
        sa.Column("member_id", UUID, nullable=False),
        sa.Column("clip_id", UUID),
        sa.Column("earned_at", TIMESTAMP, nullable=False),
    )
    op.create_index("open_earnings_due", "open_earnings", ["earned_at", "earning_id"])
    op.create_index("open_earnings_by_clip", "open_earnings", ["clip_id"])

    op.create_table(
        "reward_rates",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("language", sa.Text),
        sa.Column("valid_from", TIMESTAMP, nullable=False),
        sa.Column("valid_to", TIMESTAMP),
        sa.Column("created_by", UUID, sa.ForeignKey("profiles.id")),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(f"kind IN {REWARD_KINDS}", "reward_rates_kind"),
        sa.CheckConstraint("amount_minor > 0", "reward_rates_positive"),
        sa.CheckConstraint(f"currency {CURRENCY}", "reward_rates_currency"),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", "reward_rates_valid_period"
        ),
    )
    op.execute(
        "ALTER TABLE reward_rates ADD CONSTRAINT reward_rates_one_start "
        "UNIQUE NULLS NOT DISTINCT (kind, currency, language, valid_from)"
    )
    op.create_index("reward_rates_lookup", "reward_rates", ["currency", "valid_from"])


def _functions() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_apply_postings() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            -- Lock the member accounts this statement touches in one order (by id), so
            -- concurrent transactions wait for each other instead of deadlocking.
            PERFORM 1 FROM accounts
             WHERE id IN (SELECT account_id FROM new_postings) AND owner_id IS NOT NULL
             ORDER BY id
               FOR NO KEY UPDATE;
            -- The CHECK accounts_member_non_negative refuses an overdraft right here.
            UPDATE accounts AS a
               SET balance_minor = a.balance_minor + d.delta,
                   lifetime_earned_minor = a.lifetime_earned_minor + d.earned
              FROM (SELECT p.account_id,
                           sum(p.amount_minor) AS delta,
                           coalesce(sum(p.amount_minor) FILTER (
                               WHERE t.kind IN ('reward_earned', 'reward_reversed')), 0) AS earned
                      FROM new_postings AS p
                      JOIN transactions AS t ON t.id = p.transaction_id
                     GROUP BY p.account_id) AS d
             WHERE a.id = d.account_id AND a.owner_id IS NOT NULL;
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_check_transaction() RETURNS trigger
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
            -- Each kind moves one amount from one account kind to another (docs/money.md).
            IF t.postings <> 2 OR t.debits <> 1 OR t.source || ' > ' || t.destination
                IS DISTINCT FROM (CASE t.kind
                    WHEN 'reward_earned' THEN 'rewards_expense > pending'
                    WHEN 'reward_released' THEN 'pending > available'
                    WHEN 'reward_reversed' THEN 'pending > rewards_expense'
                    WHEN 'payout_held' THEN 'available > payout_hold'
                    WHEN 'payout_settled' THEN 'payout_hold > payouts_clearing'
                    WHEN 'payout_failed' THEN 'payout_hold > available'
                END) THEN
                RAISE EXCEPTION 'transaction % does not follow the % flow', tx, t.kind
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'postings_follow_flow';
            END IF;
            -- A closing moves exactly what the closed transaction credited, from where it
            -- credited it, and closes the kind it may close.
            IF t.closes IS NOT NULL THEN
                SELECT c.kind, p.account_id, p.amount_minor INTO closed
                  FROM transactions AS c
                  JOIN postings AS p ON p.transaction_id = c.id AND p.amount_minor > 0
                 WHERE c.id = t.closes;
                IF NOT FOUND
                   OR closed.kind IS DISTINCT FROM (CASE WHEN t.kind LIKE 'reward%'
                                                 THEN 'reward_earned' ELSE 'payout_held' END)
                   OR closed.account_id IS DISTINCT FROM t.debited
                   OR closed.amount_minor IS DISTINCT FROM t.amount THEN
                    RAISE EXCEPTION 'transaction % does not move what % credited', tx, t.closes
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'closing_matches_closed';
                END IF;
            END IF;
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_track_open_earnings() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.kind = 'reward_earned' THEN
                INSERT INTO open_earnings (earning_id, member_id, clip_id, earned_at)
                VALUES (NEW.id, NEW.member_id, NEW.clip_id, NEW.occurred_at);
            ELSIF NEW.kind IN ('reward_released', 'reward_reversed') THEN
                DELETE FROM open_earnings WHERE earning_id = NEW.closes_transaction_id;
            END IF;
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% rows are never updated or deleted', TG_TABLE_NAME
                USING ERRCODE = 'restrict_violation', HINT = TG_ARGV[0];
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_guard_accounts() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.balance_minor <> 0 OR NEW.lifetime_earned_minor <> 0 THEN
                    RAISE EXCEPTION 'a new account starts at zero'
                        USING ERRCODE = 'restrict_violation', HINT = 'post a transaction';
                END IF;
                RETURN NEW;
            END IF;
            IF TG_OP = 'DELETE' OR pg_trigger_depth() < 2 THEN
                RAISE EXCEPTION 'accounts change only through postings'
                    USING ERRCODE = 'restrict_violation', HINT = 'post a transaction';
            END IF;
            RETURN NEW;
        END $$;
        """
    )
    op.execute(
        """
        CREATE FUNCTION ledger_only_from_triggers() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF pg_trigger_depth() < 2 THEN
                RAISE EXCEPTION '% % is done by the ledger''s triggers only', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'restrict_violation', HINT = TG_ARGV[0];
            END IF;
            RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        END $$;
        """
    )


def _triggers() -> None:
    for statement in (
        """
        CREATE TRIGGER postings_apply_to_balances
        AFTER INSERT ON postings REFERENCING NEW TABLE AS new_postings
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_postings()
        """,
        """
        CREATE CONSTRAINT TRIGGER postings_balanced
        AFTER INSERT ON postings DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction()
        """,
        """
        CREATE CONSTRAINT TRIGGER transactions_have_postings
        AFTER INSERT ON transactions DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION ledger_check_transaction()
        """,
        """
        CREATE TRIGGER transactions_track_open_earnings
        AFTER INSERT ON transactions
        FOR EACH ROW EXECUTE FUNCTION ledger_track_open_earnings()
        """,
        """
        CREATE TRIGGER transactions_immutable
        BEFORE UPDATE OR DELETE ON transactions
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('correct with a new transaction')
        """,
        """
        CREATE TRIGGER postings_immutable
        BEFORE UPDATE OR DELETE ON postings
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('correct with a new transaction')
        """,
        """
        CREATE TRIGGER reward_rates_immutable
        BEFORE UPDATE OR DELETE ON reward_rates
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('add a rate with a later valid_from')
        """,
        """
        CREATE TRIGGER accounts_balances_from_postings
        BEFORE INSERT OR UPDATE OR DELETE ON accounts
        FOR EACH ROW EXECUTE FUNCTION ledger_guard_accounts()
        """,
        """
        CREATE TRIGGER open_earnings_from_journal
        BEFORE INSERT OR UPDATE OR DELETE ON open_earnings
        FOR EACH ROW EXECUTE FUNCTION ledger_only_from_triggers('post a transaction')
        """,
    ):
        op.execute(statement)


def downgrade() -> None:
    for table in ("reward_rates", "open_earnings", "postings", "transactions", "accounts"):
        op.drop_table(table)
    for function in (
        "ledger_apply_postings",
        "ledger_check_transaction",
        "ledger_track_open_earnings",
        "ledger_refuse_change",
        "ledger_guard_accounts",
        "ledger_only_from_triggers",
    ):
        op.execute(f"DROP FUNCTION {function}()")
