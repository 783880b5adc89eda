"""worker leases and scheduled tasks; push tokens, notifications, preferences, push deliveries

Revision ID: 0004_worker_notifications
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0004_worker_notifications"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    _outbox_leases()
    _scheduled_tasks()
    _push_tokens()
    _notifications()
    _push_deliveries()


def _outbox_leases() -> None:
    # A claimed row is 'running' until `locked_until`; a worker that dies leaves it there and
    # the lease reaper hands it back. `handled_by` lists the handlers that already succeeded,
    # so a retry does not run them again.
    op.add_column("outbox", sa.Column("locked_until", _TIMESTAMP))
    op.add_column("outbox", sa.Column("locked_by", sa.Text))
    op.add_column(
        "outbox",
        sa.Column("handled_by", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    )
    op.add_column("outbox", sa.Column("finished_at", _TIMESTAMP))
    op.drop_constraint("outbox_status", "outbox", type_="check")
    op.create_check_constraint(
        "outbox_status", "outbox", "status IN ('pending', 'running', 'done', 'dead')"
    )
    op.create_index(
        "outbox_running",
        "outbox",
        ["locked_until"],
        postgresql_where=sa.text("status = 'running'"),
    )
    op.create_index(
        "outbox_finished",
        "outbox",
        ["finished_at"],
        postgresql_where=sa.text("status = 'done'"),
    )
    op.create_index(
        "outbox_dead", "outbox", ["created_at"], postgresql_where=sa.text("status = 'dead'")
    )


def _scheduled_tasks() -> None:
    op.create_table(
        "scheduled_tasks",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("interval_seconds", sa.Float, nullable=False),
        sa.Column("next_run_at", _TIMESTAMP, nullable=False),
        sa.Column("locked_until", _TIMESTAMP),
        sa.Column("locked_by", sa.Text),
        sa.Column("last_started_at", _TIMESTAMP),
        sa.Column("last_finished_at", _TIMESTAMP),
        sa.Column("last_error", sa.Text),
        sa.Column("run_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("failure_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", _TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("interval_seconds > 0", name="scheduled_tasks_interval"),
    )


def _push_tokens() -> None:
    op.create_table(
        "push_tokens",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column(
            "profile_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("profiles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("platform", sa.Text),
        sa.Column("device_name", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("deactivated_at", _TIMESTAMP),
        sa.Column("deactivated_reason", sa.Text),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "platform IS NULL OR platform IN ('ios', 'android', 'web')", name="push_tokens_platform"
        ),
    )
    op.create_index(
        "push_tokens_active_profile",
        "push_tokens",
        ["profile_id"],
        postgresql_where=sa.text("active"),
    )
    op.create_index("push_tokens_profile", "push_tokens", ["profile_id", "updated_at"])


_CATEGORIES = "('clip_decided', 'reward_released', 'payout', 'badge', 'moderation')"


def _notifications() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "profile_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("profiles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("data", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("source_event_id", pg.UUID(as_uuid=True)),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("read_at", _TIMESTAMP),
        sa.CheckConstraint(f"category IN {_CATEGORIES}", name="notifications_category"),
        # One notification per member per event, however often the event is handled.
        sa.UniqueConstraint("profile_id", "source_event_id", name="notifications_source_event"),
    )
    op.create_index(
        "notifications_feed",
        "notifications",
        ["profile_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "notifications_unread",
        "notifications",
        ["profile_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_table(
        "notification_preferences",
        sa.Column(
            "profile_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("profiles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("category", sa.Text, primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint(f"category IN {_CATEGORIES}", name="notification_preferences_category"),
    )


def _push_deliveries() -> None:
    op.create_table(
        "push_deliveries",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column(
            "notification_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("notifications.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("profile_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("available_at", _TIMESTAMP, nullable=False),
        sa.Column("locked_by", sa.Text),
        sa.Column("sending_since", _TIMESTAMP),
        sa.Column("ticket_id", sa.Text),
        sa.Column("sent_at", _TIMESTAMP),
        sa.Column("receipt_status", sa.Text),
        sa.Column("receipt_checked_at", _TIMESTAMP),
        sa.Column("error", sa.Text),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "state IN ('queued', 'sending', 'sent', 'failed', 'skipped', 'uncertain')",
            name="push_deliveries_state",
        ),
        # The guarantee that a device never gets one notification twice: at most one row per
        # (notification, device), and a row leaves 'queued' for 'sending' exactly once.
        sa.UniqueConstraint("notification_id", "token", name="push_deliveries_once"),
    )
    op.create_index(
        "push_deliveries_queued",
        "push_deliveries",
        ["available_at"],
        postgresql_where=sa.text("state = 'queued'"),
    )
    op.create_index(
        "push_deliveries_sending",
        "push_deliveries",
        ["sending_since"],
        postgresql_where=sa.text("state = 'sending'"),
    )
    op.create_index(
        "push_deliveries_awaiting_receipt",
        "push_deliveries",
        ["id"],
        postgresql_where=sa.text(
            "state = 'sent' AND ticket_id IS NOT NULL AND receipt_status IS NULL"
        ),
    )
    op.create_index("push_deliveries_finished", "push_deliveries", ["updated_at"])


def downgrade() -> None:
    op.drop_table("push_deliveries")
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_table("push_tokens")
    op.drop_table("scheduled_tasks")
    op.drop_index("outbox_dead", table_name="outbox")
    op.drop_index("outbox_finished", table_name="outbox")
    op.drop_index("outbox_running", table_name="outbox")
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'running'")
    op.drop_constraint("outbox_status", "outbox", type_="check")
    op.create_check_constraint("outbox_status", "outbox", "status IN ('pending', 'done', 'dead')")
    for column in ("finished_at", "handled_by", "locked_by", "locked_until"):
        op.drop_column("outbox", column)
