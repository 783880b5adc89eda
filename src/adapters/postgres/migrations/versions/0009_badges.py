"""badges: catalogue, awards, member statistics, weekly goals and leaderboards

Revision ID: 0009_badges
Revises: 0006_consensus_v2
Create Date: 2026-12-08

- ``profiles``: ``time_zone`` (IANA name; streaks and goals count days in it) and
  ``show_on_leaderboards`` (opt-in display name).
- ``validator_stats.published_gold_answers``: the gold answers behind the accuracy the last
  refit published (the sample accuracy badges need, as delayed as the accuracy itself).
  NULL until the next refit.
- ``badges`` (the seed's ``badges``) with a default catalogue; ``user_badges`` (the seed's
  ``userBadges``), one row per member, badge and period (the ISO week of a weekly-goal badge,
  else '') — the unique key is what makes awarding idempotent under concurrency.
- ``member_stats`` (streams, payouts, streak runs, this week's activity, weekly goal),
  ``member_language_stats``, ``member_earnings``: counters kept by the worker;
  ``member_stat_events``: which events were counted for whom (each fact counts once).
- ``leaderboard_entries``: weekly counts per language.

Backfill: statistics of existing members are computed from the history as it stands
(clips, heard votes, streams, lifetime earnings; streak days in UTC), and the facts of
outbox jobs not yet done are marked as counted (``member_stat_events``) so that the worker
does not count them a second time. Run it with the workers stopped. Not backfilled: this
week's goal activity and leaderboards (they start empty) and the published gold answers
(set by the next refit).
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision: str = "0009_badges"
down_revision: str | None = "0006_consensus_v2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = pg.UUID(as_uuid=True)
TIMESTAMP = sa.DateTime(timezone=True)
METRICS = (
    "clips_submitted",
    "clips_accepted",
    "validations",
    "validations_agreed",
    "accuracy",
    "streak_days",
    "streams_hosted",
    "lifetime_earnings",
    "payouts_paid",
    "languages_contributed",
    "weekly_goal",
    "manual",
)
STATS_EVENTS = (
    "clip.submitted",
    "clip.decided",
    "validation.submitted",
    "reward.earned",
    "reward.reversed",
    "stream.started",
    "payout.paid",
)
SEED_NAMESPACE = uuid.UUID("6f1c7a52-3c41-4f7e-9a57-00000000ba0e")
MAX_KEPT_RUNS = 32

# code, name, description, metric, threshold, min_sample
DEFAULT_BADGES: tuple[tuple[str, str, str, str, str, int | None], ...] = (
    ("clips-accepted-5", "First five", "5 of your clips accepted.", "clips_accepted", "5", None),
    ("clips-accepted-20", "Clear voice", "20 clips accepted.", "clips_accepted", "20", None),
    ("clips-accepted-50", "Storyteller", "50 clips accepted.", "clips_accepted", "50", None),
    ("clips-accepted-100", "Century", "100 clips accepted.", "clips_accepted", "100", None),
    ("clips-accepted-500", "Chorus voice", "500 clips accepted.", "clips_accepted", "500", None),
    ("validations-50", "Careful ear", "50 clips validated.", "validations", "50", None),
    ("validations-500", "Trusted ear", "500 clips validated.", "validations", "500", None),
    ("validations-5000", "Guardian", "5,000 clips validated.", "validations", "5000", None),
    (
        "accuracy-95",
        "Sharp ear",
        "Validation accuracy of at least 95 % over 200 or more gold answers.",
        "accuracy",
        "0.95",
        200,
    ),
    ("streak-3", "Three in a row", "Contributed 3 days in a row.", "streak_days", "3", None),
    ("streak-7", "A full week", "Contributed 7 days in a row.", "streak_days", "7", None),
    ("streak-30", "Habit", "Contributed 30 days in a row.", "streak_days", "30", None),
    ("first-stream", "On air", "Hosted your first live stream.", "streams_hosted", "1", None),
    ("first-payout", "Paid", "Received your first payout.", "payouts_paid", "1", None),
    (
        "languages-3",
        "Polyglot",
        "Contributed in 3 languages.",
        "languages_contributed",
        "3",
        None,
    ),
    ("weekly-goal", "Goal reached", "Reached your weekly goal.", "weekly_goal", "1", None),
)


def upgrade() -> None:
    op.add_column("profiles", sa.Column("time_zone", sa.Text))
    op.add_column(
        "profiles",
        sa.Column("show_on_leaderboards", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("validator_stats", sa.Column("published_gold_answers", sa.Integer))
    op.create_check_constraint(
        "validator_stats_published_gold_answers",
        "validator_stats",
        "published_gold_answers IS NULL OR published_gold_answers >= 0",
    )
    _create_catalogue()
    _create_statistics()
    _seed_catalogue()
    _backfill()


def _create_catalogue() -> None:
    metrics = ", ".join(f"'{metric}'" for metric in METRICS)
    op.create_table(
        "badges",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("metric", sa.Text, nullable=False),
        sa.Column("threshold", sa.Numeric, nullable=False),
        sa.Column("language", sa.Text),
        sa.Column("currency", sa.Text),
        sa.Column("min_sample", sa.Integer),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("retired_at", TIMESTAMP),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9_-]{1,63}$'", "badges_code"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 80", "badges_name"),
        sa.CheckConstraint(f"metric IN ({metrics})", "badges_metric"),
        sa.CheckConstraint("threshold > 0", "badges_threshold"),
        sa.CheckConstraint(
            "(metric = 'lifetime_earnings') = (currency IS NOT NULL)", "badges_currency"
        ),
        sa.CheckConstraint("(metric = 'accuracy') = (min_sample IS NOT NULL)", "badges_sample"),
        sa.CheckConstraint(
            "language IS NULL OR metric IN ('clips_submitted', 'clips_accepted', 'validations')",
            "badges_language",
        ),
    )
    op.create_index(
        "badges_active_metric", "badges", ["metric"], postgresql_where=sa.text("retired_at IS NULL")
    )
    op.create_table(
        "user_badges",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "profile_id", UUID, sa.ForeignKey("profiles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("badge_id", UUID, sa.ForeignKey("badges.id"), nullable=False),
        sa.Column("period", sa.Text, nullable=False, server_default=""),
        sa.Column("awarded_at", TIMESTAMP, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("awarded_by", UUID, sa.ForeignKey("profiles.id", ondelete="SET NULL")),
        sa.UniqueConstraint("profile_id", "badge_id", "period", name="user_badges_once"),
        sa.CheckConstraint("source IN ('automatic', 'manual')", "user_badges_source"),
        sa.CheckConstraint(
            "(source = 'manual') = (reason IS NOT NULL)", "user_badges_manual_reason"
        ),
    )


def _profile() -> sa.ForeignKey:
    return sa.ForeignKey("profiles.id", ondelete="CASCADE")


def _create_statistics() -> None:
    op.create_table(
        "member_stats",
        sa.Column("profile_id", UUID, _profile(), primary_key=True),
        sa.Column("streams_hosted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("payouts_paid", sa.Integer, nullable=False, server_default="0"),
        # Runs of consecutive active days, flattened: first₁, last₁, first₂, last₂, … oldest
        # first, at most 32 runs.
        sa.Column("streak_runs", pg.ARRAY(sa.Date), nullable=False, server_default="{}"),
        sa.Column("longest_streak", sa.Integer, nullable=False, server_default="0"),
        sa.Column("week_start", sa.Date),
        sa.Column("week_clips", sa.Integer, nullable=False, server_default="0"),
        sa.Column("week_validations", sa.Integer, nullable=False, server_default="0"),
        sa.Column("goal_clips", sa.Integer),
        sa.Column("goal_validations", sa.Integer),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            f"cardinality(streak_runs) % 2 = 0 AND cardinality(streak_runs) <= {2 * MAX_KEPT_RUNS}",
            "member_stats_streak_runs",
        ),
        sa.CheckConstraint(
            "longest_streak >= 0 AND streams_hosted >= 0 AND payouts_paid >= 0 "
            "AND week_clips >= 0 AND week_validations >= 0",
            "member_stats_counts",
        ),
        sa.CheckConstraint(
            "(goal_clips IS NULL OR goal_clips BETWEEN 1 AND 10000) "
            "AND (goal_validations IS NULL OR goal_validations BETWEEN 1 AND 10000)",
            "member_stats_goal",
        ),
    )
    # Per-language and per-currency counters. They may dip below zero for a moment when a
    # moderation reversal is counted before the fact it reverses (the worker retries jobs).
    op.create_table(
        "member_language_stats",
        sa.Column("profile_id", UUID, _profile(), primary_key=True),
        sa.Column("language", sa.Text, primary_key=True),
        sa.Column("clips_submitted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("clips_accepted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("validations", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "member_earnings",
        sa.Column("profile_id", UUID, _profile(), primary_key=True),
        sa.Column("currency", sa.Text, primary_key=True),
        sa.Column("lifetime_minor", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "member_stat_events",
        sa.Column("event_id", UUID, primary_key=True),
        sa.Column("profile_id", UUID, primary_key=True),
        sa.Column("counted_at", TIMESTAMP, nullable=False),
    )
    op.create_index("member_stat_events_counted_at", "member_stat_events", ["counted_at"])
    op.create_table(
        "leaderboard_entries",
        sa.Column("language", sa.Text, primary_key=True),
        sa.Column("week_start", sa.Date, primary_key=True),
        sa.Column("profile_id", UUID, _profile(), primary_key=True),
        sa.Column("clips", sa.Integer, nullable=False, server_default="0"),
        sa.Column("validations", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("clips >= 0 AND validations >= 0", "leaderboard_entries_counts"),
    )
    for board in ("clips", "validations"):
        op.execute(
            f"CREATE INDEX leaderboard_{board} ON leaderboard_entries "
            f"(language, week_start, {board} DESC, profile_id) WHERE {board} > 0"
        )


def _seed_catalogue() -> None:
    rows = [
        {
            "id": uuid.uuid5(SEED_NAMESPACE, code),
            "code": code,
            "name": name,
            "description": description,
            "metric": metric,
            "threshold": threshold,
            "min_sample": min_sample,
            "position": position,
        }
        for position, (code, name, description, metric, threshold, min_sample) in enumerate(
            DEFAULT_BADGES, start=1
        )
    ]
    op.get_bind().execute(
        sa.text(
            "INSERT INTO badges (id, code, name, description, metric, threshold, min_sample, "
            "position) VALUES (:id, :code, :name, :description, :metric, "
            "CAST(:threshold AS numeric), :min_sample, :position)"
        ),
        rows,
    )


def _backfill() -> None:
    op.execute(
        """
        INSERT INTO member_language_stats (profile_id, language, clips_submitted,
                                           clips_accepted, validations)
        SELECT profile_id, language, sum(submitted), sum(accepted), sum(heard)
          FROM (SELECT contributor_id AS profile_id, language, 1 AS submitted,
                       (status = 'accepted' AND visibility <> 'removed')::int AS accepted,
                       0 AS heard
                  FROM voice_clips
                UNION ALL
                SELECT v.validator_id, c.language, 0, 0, 1
                  FROM validations v JOIN voice_clips c ON c.id = v.clip_id
                 WHERE v.outcome NOT IN ('unsolicited', 'too_fast')) AS facts
         GROUP BY profile_id, language
        """
    )
    op.execute(
        """
        INSERT INTO member_earnings (profile_id, currency, lifetime_minor)
        SELECT owner_id, currency, sum(lifetime_earned_minor)
          FROM accounts
         WHERE owner_id IS NOT NULL
         GROUP BY owner_id, currency
        HAVING sum(lifetime_earned_minor) <> 0
        """
    )
    # Streak runs from active days (UTC: nobody had a time zone yet), gaps and islands; the
    # latest 32 runs are kept (MAX_KEPT_RUNS).
    op.execute(
        """
        WITH days AS (
            SELECT contributor_id AS profile_id, (created_at AT TIME ZONE 'UTC')::date AS day
              FROM voice_clips
            UNION
            SELECT validator_id, (created_at AT TIME ZONE 'UTC')::date
              FROM validations WHERE outcome NOT IN ('unsolicited', 'too_fast')
        ), islands AS (
            SELECT profile_id, day,
                   day - (row_number() OVER (PARTITION BY profile_id ORDER BY day))::int AS grp
              FROM days
        ), runs AS (
            SELECT profile_id, min(day) AS first, max(day) AS last,
                   row_number() OVER (PARTITION BY profile_id ORDER BY min(day) DESC) AS recency
              FROM islands GROUP BY profile_id, grp
        )
        INSERT INTO member_stats (profile_id, streak_runs, longest_streak)
        SELECT r.profile_id,
               coalesce(array_agg(b.day ORDER BY r.first, b.edge)
                        FILTER (WHERE r.recency <= 32), '{}'),
               max(r.last - r.first + 1)
          FROM runs r CROSS JOIN LATERAL (VALUES (1, r.first), (2, r.last)) AS b(edge, day)
         GROUP BY r.profile_id
        """
    )
    # Live streams are another branch of migrations (0003_live): on a fresh database it may
    # not be there yet, and then there is nothing to count.
    if op.get_bind().execute(sa.text("SELECT to_regclass('live_streams')")).scalar():
        op.execute(
            """
            INSERT INTO member_stats (profile_id, streams_hosted)
            SELECT host_id, count(*) FROM live_streams GROUP BY host_id
            ON CONFLICT (profile_id) DO UPDATE SET streams_hosted = excluded.streams_hosted
            """
        )
    # Counters are read beside their member's row: every counted member has one.
    op.execute(
        """
        INSERT INTO member_stats (profile_id)
        SELECT profile_id FROM member_language_stats
        UNION SELECT profile_id FROM member_earnings
        ON CONFLICT DO NOTHING
        """
    )
    # Jobs not done yet carry facts the backfill just counted: mark them counted (forever:
    # a dead job may be retried much later), so that the worker does not count them again.
    op.get_bind().execute(
        sa.text(
            """
            INSERT INTO member_stat_events (event_id, profile_id, counted_at)
            SELECT id, CAST(member AS uuid), 'infinity'
              FROM (SELECT id, CASE name
                        WHEN 'clip.decided' THEN payload->>'contributorId'
                        WHEN 'stream.started' THEN coalesce(payload->>'hostId',
                                                            payload->>'profileId')
                        WHEN 'clip.submitted' THEN coalesce(payload->>'profileId',
                                                            payload->>'contributorId')
                        WHEN 'validation.submitted' THEN coalesce(payload->>'profileId',
                                                                  payload->>'validatorId')
                        ELSE payload->>'profileId' END AS member
                      FROM outbox WHERE status <> 'done' AND name = ANY(:names)) AS jobs
             WHERE member ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
            ON CONFLICT DO NOTHING
            """
        ),
        {"names": list(STATS_EVENTS)},
    )


def downgrade() -> None:
    op.drop_table("leaderboard_entries")
    op.drop_table("member_stat_events")
    op.drop_table("member_earnings")
    op.drop_table("member_language_stats")
    op.drop_table("member_stats")
    op.drop_table("user_badges")
    op.drop_table("badges")
    op.drop_constraint("validator_stats_published_gold_answers", "validator_stats", type_="check")
    op.drop_column("validator_stats", "published_gold_answers")
    op.drop_column("profiles", "show_on_leaderboards")
    op.drop_column("profiles", "time_zone")
