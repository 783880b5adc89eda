"""moderation: flags, cases, the append-only audit log, fraud signals, the daily earnings
cap, visibility of messages, streams and profiles, the content hash of clips

Revision ID: 0011_moderation
Revises: 0003_live, 0006_consensus_v2, 0008_payouts
Create Date: 2026-12-10

What the database guarantees on its own (docs/moderation.md):

- one open flag per reporter and target, and one open automatic flag per target and reason
  (partial unique indexes), so concurrent flags cannot double up;
- a flag that counts has a reporter; an open flag has no resolution time and a settled one
  has; nobody flags their own content;
- the audit log (``moderation_decisions``) is append-only: a trigger refuses UPDATE and
  DELETE;
- a member's earnings per UTC day never go negative; one row per member, currency and day
  (the row the daily cap locks).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0011_moderation"
# Also merges the live branch (0003_live): chat messages and streams gain a visibility. A
# ``depends_on`` would leave 0003_live listed as a head of the code while the database no
# longer lists it, and ``/ready`` would report migrations pending for ever.
down_revision: str | tuple[str, ...] | None = ("0003_live", "0006_consensus_v2", "0008_payouts")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)
VISIBILITIES = "visibility IN ('visible', 'hidden', 'removed')"
TARGET_TYPES = "target_type IN ('clip', 'live_message', 'live_stream', 'profile')"
MEMBER_REASONS = (
    "'offensive', 'wrong_language', 'does_not_match_prompt', 'personal_information', "
    "'noise_or_silence', 'harassment', 'spam', 'impersonation', 'other'"
)
AUTOMATIC_REASONS = "'repeated_audio', 'upload_burst', 'vote_burst'"
ACTIONS = "'dismiss', 'hide', 'restore', 'remove', 'suspend_user', 'ban_user'"
VISIBLE_TABLES = ("live_messages", "live_streams", "profiles")


def upgrade() -> None:
    _visibility_and_hashes()
    _flags()
    _cases_and_decisions()
    _fraud()


def downgrade() -> None:
    op.execute("DROP TRIGGER moderation_decisions_append_only ON moderation_decisions")
    for table in (
        "daily_earnings",
        "fraud_signals",
        "moderation_decisions",
        "moderation_cases",
        "flags",
    ):
        op.drop_table(table)
    op.drop_index("validations_created_brin", table_name="validations")
    op.drop_index("voice_clips_created_brin", table_name="voice_clips")
    op.drop_index("voice_clips_by_audio", table_name="voice_clips")
    op.drop_constraint("voice_clips_audio_sha256", "voice_clips", type_="check")
    op.drop_column("voice_clips", "audio_sha256")
    for table in VISIBLE_TABLES:
        op.drop_constraint(f"{table}_visibility", table, type_="check")
        op.drop_column(table, "visibility")


def _visibility_and_hashes() -> None:
    for table in VISIBLE_TABLES:
        op.add_column(
            table, sa.Column("visibility", sa.Text, nullable=False, server_default="visible")
        )
        op.create_check_constraint(f"{table}_visibility", table, VISIBILITIES)
    op.add_column("voice_clips", sa.Column("audio_sha256", sa.Text))
    op.create_check_constraint(
        "voice_clips_audio_sha256", "voice_clips", "audio_sha256 ~ '^[0-9a-f]{64}$'"
    )
    op.create_index(
        "voice_clips_by_audio",
        "voice_clips",
        ["audio_sha256", "created_at"],
        postgresql_where=sa.text("audio_sha256 IS NOT NULL"),
    )
    # Bursts are found by time: BRIN indexes stay tiny on these append-mostly tables.
    op.create_index(
        "voice_clips_created_brin", "voice_clips", ["created_at"], postgresql_using="brin"
    )
    op.create_index(
        "validations_created_brin", "validations", ["created_at"], postgresql_using="brin"
    )


def _flags() -> None:
    op.create_table(
        "flags",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("target_type", sa.Text, nullable=False),
        sa.Column("target_id", UUID, nullable=False),
        sa.Column("owner_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("reporter_id", UUID, sa.ForeignKey("profiles.id")),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("counts", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP),
        sa.CheckConstraint(TARGET_TYPES, name="flags_target_type"),
        sa.CheckConstraint("status IN ('open', 'dismissed', 'upheld')", name="flags_status"),
        sa.CheckConstraint(
            f"(reporter_id IS NOT NULL AND reason IN ({MEMBER_REASONS})) OR "
            f"(reporter_id IS NULL AND reason IN ({AUTOMATIC_REASONS}))",
            name="flags_reason",
        ),
        sa.CheckConstraint("reporter_id IS NOT NULL OR NOT counts", name="flags_counts"),
        sa.CheckConstraint("reporter_id IS DISTINCT FROM owner_id", name="flags_not_own"),
        sa.CheckConstraint(
            "(status = 'open') = (resolved_at IS NULL)", name="flags_resolved_iff_settled"
        ),
        sa.CheckConstraint("char_length(note) <= 500", name="flags_note_length"),
    )
    op.create_index(
        "flags_one_open_per_reporter",
        "flags",
        ["target_type", "target_id", "reporter_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open' AND reporter_id IS NOT NULL"),
    )
    op.create_index(
        "flags_one_open_automatic",
        "flags",
        ["target_type", "target_id", "reason"],
        unique=True,
        postgresql_where=sa.text("status = 'open' AND reporter_id IS NULL"),
    )
    op.create_index("flags_by_target", "flags", ["target_type", "target_id", "status"])
    op.create_index("flags_by_owner", "flags", ["owner_id"])
    op.create_index("flags_by_reporter", "flags", ["reporter_id"])


def _cases_and_decisions() -> None:
    op.create_table(
        "moderation_cases",
        sa.Column("target_type", sa.Text, primary_key=True),
        sa.Column("target_id", UUID, primary_key=True),
        sa.Column("id", UUID, nullable=False, unique=True),
        sa.Column("owner_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("auto_hidden", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP),
        sa.CheckConstraint(TARGET_TYPES, name="moderation_cases_target_type"),
        sa.CheckConstraint(
            "is_open = (closed_at IS NULL)", name="moderation_cases_closed_iff_closed_at"
        ),
    )
    op.create_index(
        "moderation_cases_queue",
        "moderation_cases",
        ["opened_at", "id"],
        postgresql_where=sa.text("is_open"),
    )
    op.create_table(
        "moderation_decisions",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("target_type", sa.Text, nullable=False),
        sa.Column("target_id", UUID, nullable=False),
        sa.Column("owner_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("actor_id", UUID, sa.ForeignKey("profiles.id")),
        sa.Column("actor_kind", sa.Text, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("summary", pg.JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint(TARGET_TYPES, name="moderation_decisions_target_type"),
        sa.CheckConstraint(f"action IN ({ACTIONS})", name="moderation_decisions_action"),
        sa.CheckConstraint(
            "actor_kind IN ('moderator', 'admin', 'service', 'system')",
            name="moderation_decisions_actor_kind",
        ),
        sa.CheckConstraint(
            "(actor_id IS NULL) = (actor_kind IN ('service', 'system'))",
            name="moderation_decisions_actor",
        ),
        sa.CheckConstraint("char_length(note) <= 500", name="moderation_decisions_note_length"),
    )
    op.create_index(
        "moderation_decisions_newest",
        "moderation_decisions",
        [sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "moderation_decisions_by_target",
        "moderation_decisions",
        ["target_type", "target_id", sa.text("created_at DESC")],
    )
    op.create_index(
        "moderation_decisions_by_owner",
        "moderation_decisions",
        ["owner_id", sa.text("created_at DESC")],
    )
    op.execute(
        """
        CREATE TRIGGER moderation_decisions_append_only
        BEFORE UPDATE OR DELETE ON moderation_decisions
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change('the audit log is append-only')
        """
    )


def _fraud() -> None:
    op.create_table(
        "fraud_signals",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("profile_id", UUID, sa.ForeignKey("profiles.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("detail", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "kind IN ('earnings_cap', 'repeated_audio', 'upload_burst', 'vote_burst')",
            name="fraud_signals_kind",
        ),
    )
    op.create_index(
        "fraud_signals_by_member", "fraud_signals", ["profile_id", sa.text("created_at DESC")]
    )
    op.create_table(
        "daily_earnings",
        sa.Column("profile_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column("currency", sa.Text, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("earned_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("withheld_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint(
            "earned_minor >= 0 AND withheld_minor >= 0", name="daily_earnings_non_negative"
        ),
    )
