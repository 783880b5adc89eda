"""CHORUS_MODERATION_*, CHORUS_SCREENING_* and CHORUS_FRAUD_* settings, the screener built
from them, and the worker's share of moderation (handlers, task, fraud metric)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.screening.moderation_service import ModerationServiceScreener
from adapters.screening.rule_based import RuleBasedScreener
from core.domain.jobs import ClaimedJob, JobOutcome, JobStatus
from entrypoints.rules import fraud_rules
from entrypoints.screening import make_screener
from entrypoints.settings import Environment, SettingsError, load_settings
from entrypoints.worker.metrics import WorkerMetrics


def test_defaults() -> None:
    settings = load_settings({}, environment=Environment.TEST)
    moderation = settings.moderation
    assert (moderation.flag_threshold, moderation.screening_url) == (3, None)
    assert moderation.daily_earnings_caps["NGN"] == 2_000_000
    rules = fraud_rules(settings)
    assert (rules.uploads_per_hour, rules.votes_per_hour) == (120, 600)
    assert isinstance(make_screener(settings), RuleBasedScreener)


async def test_everything_can_be_set(tmp_path: Path) -> None:
    lists = tmp_path / "lists.json"
    lists.write_text(json.dumps({"en": ["bananas"]}), encoding="utf-8")
    settings = load_settings(
        {
            "CHORUS_MODERATION_FLAG_THRESHOLD": "5",
            "CHORUS_SCREENING_URL": "https://moderation.example.test/v1",
            "CHORUS_SCREENING_API_KEY": "sk-secret",
            "CHORUS_SCREENING_MODEL": "omni-moderation-latest",
            "CHORUS_SCREENING_TIMEOUT_SECONDS": "1.5",
            "CHORUS_SCREENING_BLOCKLIST_FILE": str(lists),
            "CHORUS_FRAUD_UPLOADS_PER_HOUR": "0",
            "CHORUS_FRAUD_VOTES_PER_HOUR": "900",
            "CHORUS_FRAUD_SCAN_MINUTES": "15",
            "CHORUS_DAILY_EARNINGS_CAP_MINOR": "off",
        },
        environment=Environment.TEST,
    )
    moderation = settings.moderation
    assert moderation.flag_threshold == 5
    assert "sk-secret" not in repr(moderation)
    assert (moderation.uploads_per_hour, moderation.votes_per_hour) == (0, 900)
    assert (moderation.burst_scan_minutes, moderation.daily_earnings_caps) == (15, {})
    screener = make_screener(settings)
    assert isinstance(screener, ModerationServiceScreener)
    await screener.aclose()


def test_bad_values_are_each_reported() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(
            {
                "CHORUS_MODERATION_FLAG_THRESHOLD": "0",
                "CHORUS_SCREENING_URL": "ftp://nope",
                "CHORUS_SCREENING_BLOCKLIST_FILE": "/no/such/file.json",
                "CHORUS_FRAUD_VOTES_PER_HOUR": "-1",
                "CHORUS_DAILY_EARNINGS_CAP_MINOR": "NGN:lots",
            },
            environment=Environment.TEST,
        )
    assert [p.split(":")[0] for p in error.value.problems] == [
        "CHORUS_MODERATION_FLAG_THRESHOLD",
        "CHORUS_SCREENING_URL",
        "CHORUS_SCREENING_BLOCKLIST_FILE",
        "CHORUS_DAILY_EARNINGS_CAP_MINOR",
        "CHORUS_FRAUD_VOTES_PER_HOUR",
    ]


def test_the_worker_counts_fraud_signals_by_kind_once_handled() -> None:
    metrics = WorkerMetrics()

    def outcome(name: str, status: JobStatus, **payload: object) -> JobOutcome:
        job = ClaimedJob(uuid.uuid4(), name, payload, datetime.now(UTC), 1)
        retry = datetime.now(UTC) if status is JobStatus.PENDING else None
        return JobOutcome(job, status, frozenset(), retry_at=retry)

    metrics.record_jobs(
        [
            outcome("fraud.signal", JobStatus.DONE, kind="earnings_cap"),
            outcome("fraud.signal", JobStatus.DONE, kind="earnings_cap"),
            outcome("fraud.signal", JobStatus.DONE, kind="vote_burst"),
            outcome("fraud.signal", JobStatus.PENDING, kind="vote_burst"),
            outcome("clip.decided", JobStatus.DONE),
        ]
    )

    def count(kind: str) -> float | None:
        return metrics.registry.get_sample_value("chorus_fraud_signals_total", {"kind": kind})

    assert (count("earnings_cap"), count("vote_burst")) == (2.0, 1.0)
