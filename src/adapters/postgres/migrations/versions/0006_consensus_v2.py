"""consensus v2: servings, Dawid–Skene counts, vote evidence, gold shadow tallies, crowd model

Revision ID: 0006_consensus_v2
Revises: 0005_ledger
Create Date: 2026-12-06

- ``clip_servings``: which clip was handed to which validator and when (a vote counts only on
  a clip served to its voter; too soon after serving it is ``too_fast``).
- ``validations``: ``evidence`` (what the vote added to its clip's log-odds) and
  ``established``; outcomes ``unsolicited``, ``too_fast`` and ``gold_late``. Existing counted
  votes get the evidence the ``weighted`` policy gave them, ±log(a/(1−a)) with ``a`` clamped
  to [0.5, 0.99], so existing tallies stay reproducible.
- ``voice_clips``: ``prior_log_odds`` (0 for existing clips: the old prior was ½),
  ``established_votes`` (existing counted votes count as established, so pending clips keep
  the decisions they were heading for), and the gold shadow's settlement.
- ``validator_stats``: the four soft counts, rushed votes, and what the last refit decided
  (probation) and published. The counts are rebuilt from the vote history: a gold answer
  counts 1 in the cell of its known truth, a solicited vote on a clip decided by consensus
  counts 1 in the cell of the decision (the refit soon replaces these by soft counts); late
  votes teach nothing.
- ``consensus_model``: one row, the crowd model (defaults until the first refit).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0006_consensus_v2"
down_revision: str | None = "0005_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)
COUNTS = ("n11", "n01", "n00", "n10")
OLD_OUTCOMES = "'counted', 'late', 'ignored_probation', 'ignored_weightless', 'gold'"
NEW_OUTCOMES = OLD_OUTCOMES + ", 'unsolicited', 'too_fast', 'gold_late'"


def upgrade() -> None:
    op.create_table(
        "clip_servings",
        sa.Column("validator_id", UUID, sa.ForeignKey("profiles.id"), primary_key=True),
        sa.Column(
            "clip_id", UUID, sa.ForeignKey("voice_clips.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("served_at", TIMESTAMP, nullable=False),
    )

    op.add_column(
        "validations", sa.Column("evidence", sa.Float, nullable=False, server_default="0")
    )
    op.add_column(
        "validations",
        sa.Column("established", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    op.drop_constraint("validations_outcome", "validations", type_="check")
    op.create_check_constraint("validations_outcome", "validations", f"outcome IN ({NEW_OUTCOMES})")
    op.create_check_constraint(
        "validations_evidence_direction",
        "validations",
        "(verdict = 'valid' AND evidence >= 0) OR (verdict = 'invalid' AND evidence <= 0)",
    )
    op.execute(
        "UPDATE validations SET evidence = CASE verdict WHEN 'valid' THEN 1 ELSE -1 END "
        "* ln(least(0.99, greatest(0.5, accuracy)) / (1 - least(0.99, greatest(0.5, accuracy)))) "
        "WHERE outcome = 'counted'"
    )

    op.add_column(
        "voice_clips", sa.Column("prior_log_odds", sa.Float, nullable=False, server_default="0")
    )
    op.add_column(
        "voice_clips",
        sa.Column("established_votes", sa.SmallInteger, nullable=False, server_default="0"),
    )
    op.add_column("voice_clips", sa.Column("shadow_status", sa.Text))
    op.add_column("voice_clips", sa.Column("shadow_settled_at", TIMESTAMP))
    op.create_check_constraint(
        "voice_clips_shadow",
        "voice_clips",
        "(shadow_status IS NULL) = (shadow_settled_at IS NULL) "
        "AND (shadow_status IS NULL OR (is_gold AND shadow_status IN ('accepted', 'rejected')))",
    )
    op.create_check_constraint(
        "voice_clips_established_votes",
        "voice_clips",
        "established_votes BETWEEN 0 AND valid_votes + invalid_votes",
    )
    op.execute("UPDATE voice_clips SET established_votes = valid_votes + invalid_votes")
    # A gold clip's counters become its shadow tally, which starts empty.
    op.execute(
        "UPDATE voice_clips SET valid_votes = 0, invalid_votes = 0, log_odds_sum = 0, "
        "established_votes = 0 WHERE is_gold"
    )

    for name in COUNTS:
        op.add_column(
            "validator_stats",
            sa.Column(name, sa.Float, nullable=False, server_default="0"),
        )
    op.add_column(
        "validator_stats",
        sa.Column("rushed_votes", sa.Integer, nullable=False, server_default="0"),
    )
    op.add_column(
        "validator_stats",
        sa.Column("on_probation", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("validator_stats", sa.Column("published_accuracy", sa.Float))
    op.add_column("validator_stats", sa.Column("published_at", TIMESTAMP))
    op.create_check_constraint(
        "validator_stats_counts_non_negative",
        "validator_stats",
        " AND ".join(f"{name} >= 0" for name in COUNTS) + " AND rushed_votes >= 0",
    )
    op.execute(
        """
        INSERT INTO validator_stats (validator_id, n11, n01, n00, n10, updated_at)
        SELECT v.validator_id,
               count(*) FILTER (WHERE v.verdict = 'valid' AND c.status = 'accepted'),
               count(*) FILTER (WHERE v.verdict = 'invalid' AND c.status = 'accepted'),
               count(*) FILTER (WHERE v.verdict = 'invalid' AND c.status = 'rejected'),
               count(*) FILTER (WHERE v.verdict = 'valid' AND c.status = 'rejected'),
               now()
        FROM validations v JOIN voice_clips c ON c.id = v.clip_id
        WHERE c.status IN ('accepted', 'rejected')
          AND v.outcome IN ('gold', 'counted', 'ignored_probation', 'ignored_weightless')
        GROUP BY v.validator_id
        ON CONFLICT (validator_id) DO UPDATE SET
          n11 = excluded.n11, n01 = excluded.n01, n00 = excluded.n00, n10 = excluded.n10
        """
    )

    op.create_table(
        "consensus_model",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("sensitivity", sa.Float, nullable=False),
        sa.Column("specificity", sa.Float, nullable=False),
        sa.Column("valid_share", sa.Float, nullable=False),
        sa.Column("prior_strength", sa.Float, nullable=False),
        sa.Column("refit_at", TIMESTAMP),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("id = 1", name="consensus_model_one_row"),
        sa.CheckConstraint(
            "sensitivity BETWEEN 0.55 AND 0.97 AND specificity BETWEEN 0.55 AND 0.97 "
            "AND valid_share BETWEEN 0.05 AND 0.95 AND prior_strength > 0",
            name="consensus_model_bounds",
        ),
    )
    op.execute(
        "INSERT INTO consensus_model (id, sensitivity, specificity, valid_share, prior_strength) "
        "VALUES (1, 0.8, 0.8, 0.5, 4)"
    )


def downgrade() -> None:
    op.drop_table("consensus_model")
    op.drop_constraint("validator_stats_counts_non_negative", "validator_stats", type_="check")
    for name in (*COUNTS, "rushed_votes", "on_probation", "published_accuracy", "published_at"):
        op.drop_column("validator_stats", name)
    op.drop_constraint("voice_clips_established_votes", "voice_clips", type_="check")
    op.drop_constraint("voice_clips_shadow", "voice_clips", type_="check")
    for name in ("shadow_settled_at", "shadow_status", "established_votes", "prior_log_odds"):
        op.drop_column("voice_clips", name)
    op.drop_constraint("validations_evidence_direction", "validations", type_="check")
    op.drop_constraint("validations_outcome", "validations", type_="check")
    op.execute(
        "UPDATE validations SET outcome = 'late' WHERE outcome IN ('unsolicited', 'too_fast')"
    )
    op.execute("UPDATE validations SET outcome = 'gold' WHERE outcome = 'gold_late'")
    op.create_check_constraint("validations_outcome", "validations", f"outcome IN ({OLD_OUTCOMES})")
    op.drop_column("validations", "established")
    op.drop_column("validations", "evidence")
    op.drop_table("clip_servings")
