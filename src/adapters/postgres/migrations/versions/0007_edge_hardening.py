"""edge hardening: shared sliding-window write limits; push tokens' device ids

Revision ID: 0007_edge_hardening
Revises: 0004_worker_notifications
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_edge_hardening"
down_revision: str | None = "0004_worker_notifications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One row per member who wrote lately: the times of their last accepted writes (at most
    # the limit), newest last. UNLOGGED: no WAL per write; a crash empties it, which only
    # forgets recent writes (everyone starts with a full budget again).
    op.execute(
        "CREATE UNLOGGED TABLE write_rate_limits ("
        " key text PRIMARY KEY,"
        " hits timestamptz[] NOT NULL,"
        " allowed boolean NOT NULL DEFAULT true)"
    )
    # The app's own id for the installation that registered the token (docs/notifications.md):
    # another account may take the token over only from the same installation.
    op.add_column("push_tokens", sa.Column("device_id", sa.Text))


def downgrade() -> None:
    op.drop_column("push_tokens", "device_id")
    op.drop_table("write_rate_limits")
