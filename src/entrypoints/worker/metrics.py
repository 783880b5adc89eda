"""Prometheus metrics of one worker process, in their own registry (served by
``chorus worker --metrics-port``; the API's ``/metrics`` is a different process)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from core.domain.jobs import JobOutcome, JobStatus, LeaseRecovery, TaskRun
from core.use_cases.fraud_signals import FRAUD_SIGNAL
from core.use_cases.notifications import PushSendReport, ReceiptReport

_OUTCOME = {JobStatus.DONE: "done", JobStatus.PENDING: "retry", JobStatus.DEAD: "dead"}
_DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.jobs = Counter(
            "chorus_worker_jobs", "Outbox job attempts by event and outcome (done, retry, dead)",
            ["event", "outcome"], registry=r,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "chorus_worker_job_duration_seconds", "Time to run one outbox job's handlers",
            ["event"], buckets=_DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.batches = Counter("chorus_worker_batches", "Outbox batches claimed", registry=r)
        self.loop_errors = Counter(
            "chorus_worker_loop_errors", "Unexpected errors in a worker loop", ["loop"], registry=r
        )
        self.leases_recovered = Counter(
            "chorus_worker_leases_recovered",
            "Jobs found running after their lease: requeued or buried (dead)",
            ["result"],
            registry=r,
        )
        self.push_messages = Counter(
            "chorus_push_messages",
            "Push messages by outcome (sent, failed, retried); see also chorus_push_uncertain",
            ["outcome"],
            registry=r,
        )
        self.push_requests = Counter(
            "chorus_push_requests", "Send requests to Expo by result (ok, error)", ["result"],
            registry=r,
        )  # fmt: skip
        self.push_tokens_deactivated = Counter(
            "chorus_push_tokens_deactivated", "Tokens switched off (DeviceNotRegistered)",
            registry=r,
        )  # fmt: skip
        self.push_receipts = Counter(
            "chorus_push_receipts", "Push receipts by status (ok, failed, expired)", ["status"],
            registry=r,
        )  # fmt: skip
        self.push_uncertain = Counter(
            "chorus_push_uncertain",
            "Deliveries whose outcome is unknown (worker died or Expo did not answer mid-send): "
            "never resent",
            registry=r,
        )
        self.task_runs = Counter(
            "chorus_worker_task_runs", "Periodic task runs by task and result (ok, error)",
            ["task", "result"], registry=r,
        )  # fmt: skip
        self.task_seconds = Histogram(
            "chorus_worker_task_duration_seconds", "Periodic task run time", ["task"],
            buckets=_DURATION_BUCKETS, registry=r,
        )  # fmt: skip
        self.outbox_jobs = Gauge(
            "chorus_outbox_jobs", "Outbox rows by status (pending, running, dead)", ["status"],
            registry=r,
        )  # fmt: skip
        self.outbox_lag = Gauge(
            "chorus_outbox_lag_seconds", "Age of the oldest due pending job (0 when none)",
            registry=r,
        )  # fmt: skip
        self.fraud_signals = Counter(
            "chorus_fraud_signals",
            "Fraud signals by kind (earnings_cap, repeated_audio, upload_burst, vote_burst), "
            "counted as their outbox rows are handled",
            ["kind"],
            registry=r,
        )
        self.analytics_dropped = Gauge(
            "chorus_analytics_dropped_events",
            "Analytics events dropped (queue full, upload failed) by this process",
            registry=r,
        )

    def record_jobs(self, outcomes: Iterable[JobOutcome]) -> None:
        self.batches.inc()
        for outcome in outcomes:
            self.jobs.labels(outcome.job.name, _OUTCOME[outcome.status]).inc()
            self.job_seconds.labels(outcome.job.name).observe(outcome.duration_seconds)
            if outcome.job.name == FRAUD_SIGNAL and outcome.status is JobStatus.DONE:
                kind = str(outcome.job.payload.get("kind", "unknown"))[:40]
                self.fraud_signals.labels(kind).inc()

    def record_push(self, report: PushSendReport) -> None:
        if report.claimed == 0:
            return
        self.push_requests.labels("error" if report.error else "ok").inc()
        self.push_messages.labels("sent").inc(report.sent)
        self.push_messages.labels("failed").inc(report.failed)
        self.push_messages.labels("retried").inc(report.retried)
        self.push_uncertain.inc(report.uncertain)
        self.push_tokens_deactivated.inc(report.deactivated)

    def record_task(self, run: TaskRun) -> None:
        self.task_runs.labels(run.name, "ok" if run.ok else "error").inc()
        self.task_seconds.labels(run.name).observe(run.duration_seconds)
        result = run.result
        if isinstance(result, LeaseRecovery):
            self.leases_recovered.labels("requeued").inc(result.requeued)
            self.leases_recovered.labels("buried").inc(result.buried)
        elif isinstance(result, ReceiptReport):
            self.push_receipts.labels("ok").inc(result.ok)
            self.push_receipts.labels("failed").inc(result.failed)
            self.push_receipts.labels("expired").inc(result.expired)
            self.push_tokens_deactivated.inc(result.deactivated)
        elif run.name == "push.resolve_stalled" and isinstance(result, int):
            self.push_uncertain.inc(result)

    def record_queue(
        self, counts: Mapping[JobStatus, int], oldest_due: datetime | None, now: datetime
    ) -> None:
        for status, count in counts.items():
            self.outbox_jobs.labels(status.value).set(count)
        lag = (now - oldest_due).total_seconds() if oldest_due else 0.0
        self.outbox_lag.set(max(lag, 0.0))
