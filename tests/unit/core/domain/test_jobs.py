"""The retry rule of background jobs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.jobs import (
    MAX_ERROR_LENGTH,
    ClaimedJob,
    JobOutcome,
    JobStatus,
    PermanentFailure,
    after_failure,
    check_task_name,
    describe_error,
    retry_after_hint,
)
from core.domain.notifications import BackoffPolicy, PushServiceUnavailable

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def job(attempts: int) -> ClaimedJob:
    return ClaimedJob(uuid.uuid4(), "clip.decided", {}, NOW, attempts)


@given(
    attempts=st.integers(1, 30),
    draw=st.floats(0, 1, exclude_max=True),
    max_attempts=st.integers(1, 30),
)
def test_a_failure_is_retried_within_the_backoff_ceiling_until_attempts_run_out(
    attempts: int, draw: float, max_attempts: int
) -> None:
    policy = BackoffPolicy(base_seconds=1, cap_seconds=300, max_attempts=max_attempts)
    outcome = after_failure(
        job(attempts), RuntimeError("boom"), handled_by=frozenset(), now=NOW, policy=policy,
        random=lambda: draw,
    )  # fmt: skip
    if attempts >= max_attempts:
        assert outcome.status is JobStatus.DEAD
        assert outcome.retry_at is None
    else:
        assert outcome.status is JobStatus.PENDING
        assert outcome.retry_at is not None
        assert NOW <= outcome.retry_at <= NOW + timedelta(seconds=policy.ceiling(attempts))
    assert outcome.error == "RuntimeError: boom"


def test_retry_after_from_the_service_is_a_floor() -> None:
    policy = BackoffPolicy(base_seconds=1, cap_seconds=300, max_attempts=5)
    error = PushServiceUnavailable("429", retry_after_seconds=42)
    assert retry_after_hint(error) == 42.0
    outcome = after_failure(
        job(1), error, handled_by=frozenset(), now=NOW, policy=policy, random=lambda: 0.0
    )
    assert outcome.retry_at == NOW + timedelta(seconds=42)


def test_a_permanent_failure_is_dead_at_once_and_keeps_what_was_handled() -> None:
    outcome = after_failure(
        job(1),
        PermanentFailure("no recipient", code="malformed_event"),
        handled_by=frozenset({"analytics"}),
        now=NOW,
        policy=BackoffPolicy(max_attempts=10),
        random=lambda: 0.5,
    )
    assert outcome.status is JobStatus.DEAD
    assert outcome.handled_by == {"analytics"}


def test_outcomes_are_consistent() -> None:
    with pytest.raises(ValueError, match="retry_at"):
        JobOutcome(job(1), JobStatus.PENDING, frozenset())
    with pytest.raises(ValueError, match="settles"):
        JobOutcome(job(1), JobStatus.RUNNING, frozenset())


def test_errors_are_described_briefly() -> None:
    assert describe_error(ValueError()) == "ValueError"
    assert len(describe_error(ValueError("x" * 10_000))) == MAX_ERROR_LENGTH
    assert retry_after_hint(ValueError("no hint")) is None
    driver = RuntimeError("duplicate key\n[SQL: INSERT …]\n[parameters: ('secret',)]")
    assert describe_error(driver) == "RuntimeError: duplicate key"


@pytest.mark.parametrize("name", ["", "Push.Receipts", "a b", "x" * 101])
def test_task_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="task name"):
        check_task_name(name)
    assert check_task_name("push.check_receipts") == "push.check_receipts"
