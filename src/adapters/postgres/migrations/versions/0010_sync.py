"""offline sync: remembered operations, batch reservations, listening clocks, change xids

Revision ID: 0010_sync
Revises: 0006_consensus_v2, 0004_worker_notifications
Create Date: 2026-12-08

It also revises 0004_worker_notifications (the notifications table lives on that branch):
a merge point rather than ``depends_on``, because with ``depends_on`` Alembic would keep
listing 0004 as a head of the code while the database no longer records it, and ``/ready``
and the worker compare the two.

- ``sync_ops``: each pushed operation by (member, op id), claimed before it is applied and
  finished with its outcome in the same transaction; pruned after 30 days at the earliest.
- ``clip_reservations``: clips handed out in offline batches, each holding one vote slot of
  its clip until used or expired; ``voice_clips.reserved_until`` is the latest expiry of any
  reservation of the clip (written under the clip's lock, so a vote that locks the clip
  sees it and reads reservations only when one may still hold).
- ``listening_clocks``: per validator, until when the reserved clips voted on could have
  been heard one after the other (docs/sync.md, "Served time").
- ``validations``: outcomes ``late_reserved`` and ``crowded_out``.
- ``sync_xid xid8``: the transaction that last changed a row a pull returns
  (``voice_clips`` status/visibility/decision, ``notifications``, the journal
  ``transactions`` for balances, ``reward_rates``). Existing rows get xid 1 without a
  rewrite (a constant default): visible in every snapshot but the first pull's origin; new
  rows and updates get ``pg_current_xact_id()``. Indexed with the member's id for pulls.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0010_sync"
down_revision: str | Sequence[str] | None = ("0006_consensus_v2", "0004_worker_notifications")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)
OUTCOMES = (
    "'counted', 'late', 'ignored_probation', 'ignored_weightless', 'gold', "
    "'unsolicited', 'too_fast', 'gold_late'"
)
NEW_OUTCOMES = OUTCOMES + ", 'late_reserved', 'crowded_out'"

# table -> (member column for the pull's index or None, WHEN condition of the update trigger)
XID_TABLES: dict[str, tuple[str | None, str | None]] = {
    "voice_clips": (
        "contributor_id",
        "OLD.status IS DISTINCT FROM NEW.status OR OLD.visibility IS DISTINCT FROM "
        "NEW.visibility OR OLD.decided_at IS DISTINCT FROM NEW.decided_at",
    ),
    "notifications": (
        "profile_id",
        "OLD.read_at IS DISTINCT FROM NEW.read_at OR OLD.title IS DISTINCT FROM NEW.title "
        "OR OLD.body IS DISTINCT FROM NEW.body OR OLD.data IS DISTINCT FROM NEW.data",
    ),
    "transactions": ("member_id", None),  # the journal is never updated
    "reward_rates": (None, None),  # rates are never updated
}


def upgrade() -> None:
    op.create_table(
        "sync_ops",
        sa.Column("member_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("op_id", UUID, primary_key=True),
        sa.Column("device_id", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("body", pg.JSONB),
        sa.Column("occurred_at", TIMESTAMP),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('claimed', 'applied', 'rejected')", name="sync_ops_status"),
        sa.CheckConstraint("(status = 'claimed') = (body IS NULL)", name="sync_ops_body"),
        sa.CheckConstraint("occurred_at <= received_at", name="sync_ops_occurred_not_later"),
    )
    op.create_index("sync_ops_received", "sync_ops", ["received_at"])

    op.create_table(
        "clip_reservations",
        sa.Column("validator_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column(
            "clip_id", UUID, sa.ForeignKey("voice_clips.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("batch_id", UUID, nullable=False),
        sa.Column("reserved_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP),
        sa.CheckConstraint("expires_at > reserved_at", name="clip_reservations_period"),
    )
    op.create_index(
        "clip_reservations_holding",
        "clip_reservations",
        ["clip_id", "expires_at"],
        postgresql_where=sa.text("used_at IS NULL"),
    )
    op.create_index("clip_reservations_expiry", "clip_reservations", ["expires_at"])
    op.create_table(
        "listening_clocks",
        sa.Column("validator_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("listened_until", TIMESTAMP),  # NULL until the first reserved vote
    )
    op.add_column("voice_clips", sa.Column("reserved_until", TIMESTAMP))

    op.drop_constraint("validations_outcome", "validations", type_="check")
    op.create_check_constraint("validations_outcome", "validations", f"outcome IN ({NEW_OUTCOMES})")

    op.execute(
        "CREATE FUNCTION sync_touch() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN NEW.sync_xid := pg_current_xact_id(); RETURN NEW; END $$"
    )
    for table, (member_column, changed) in XID_TABLES.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN sync_xid xid8 NOT NULL DEFAULT '1'")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN sync_xid SET DEFAULT pg_current_xact_id()")
        columns = f"{member_column}, sync_xid, id" if member_column else "sync_xid"
        op.execute(f"CREATE INDEX {table}_sync ON {table} ({columns})")
        if changed:
            op.execute(
                f"CREATE TRIGGER {table}_sync_touch BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({changed}) EXECUTE FUNCTION sync_touch()"
            )


def downgrade() -> None:
    for table, (_, changed) in XID_TABLES.items():
        if changed:
            op.execute(f"DROP TRIGGER {table}_sync_touch ON {table}")
        op.execute(f"DROP INDEX {table}_sync")
        op.execute(f"ALTER TABLE {table} DROP COLUMN sync_xid")
    op.execute("DROP FUNCTION sync_touch()")
    op.drop_constraint("validations_outcome", "validations", type_="check")
    op.execute(
        "UPDATE validations SET outcome = 'late' WHERE outcome IN ('late_reserved', 'crowded_out')"
    )
    op.create_check_constraint("validations_outcome", "validations", f"outcome IN ({OUTCOMES})")
    op.drop_column("voice_clips", "reserved_until")
    op.drop_table("listening_clocks")
    op.drop_table("clip_reservations")
    op.drop_table("sync_ops")
