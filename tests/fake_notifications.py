"""In-memory fakes of the notification, job-queue, push and analytics ports (behavioural,
not mocks). The repositories live in ``NotificationState``, staged and published by
``tests.fakes.FakeUnitOfWork`` like the other areas; the queues work on the store directly,
one "transaction" per call, like their Postgres adapters."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from core.domain.analytics_events import AnalyticsEvent
from core.domain.jobs import (
    ClaimedJob,
    JobOutcome,
    JobRecord,
    JobStatus,
    LeaseRecovery,
    ScheduledTaskRecord,
)
from core.domain.member_notifications import (
    ClaimedDelivery,
    DeliveryOutcome,
    DeliveryState,
    FeedCursor,
    Notification,
    PushToken,
    ReceiptUpdate,
    SentDelivery,
    TokenDeactivation,
)
from core.domain.notifications import (
    MAX_MESSAGES_PER_CHUNK,
    NotificationCategory,
    PushAccepted,
    PushMessage,
    PushReceipt,
    PushTicket,
    ReceiptOk,
)

# -- repositories (inside the fake unit of work) -------------------------------------------------


@dataclass
class FakeDelivery:
    id: int
    notification_id: uuid.UUID
    token: str
    profile_id: uuid.UUID
    state: DeliveryState
    available_at: datetime
    attempts: int = 0
    locked_by: str | None = None
    sending_since: datetime | None = None
    ticket_id: str | None = None
    sent_at: datetime | None = None
    receipt_status: str | None = None
    error: str | None = None
    updated_at: datetime | None = None


@dataclass
class NotificationState:
    tokens: dict[str, PushToken] = field(default_factory=dict)
    notifications: dict[uuid.UUID, Notification] = field(default_factory=dict)
    preferences: dict[tuple[uuid.UUID, NotificationCategory], bool] = field(default_factory=dict)
    deliveries: dict[int, FakeDelivery] = field(default_factory=dict)

    def copy(self) -> NotificationState:
        return NotificationState(
            dict(self.tokens),
            dict(self.notifications),
            dict(self.preferences),
            {key: copy.copy(value) for key, value in self.deliveries.items()},
        )


class FakePushTokenRepository:
    def __init__(self, state: NotificationState) -> None:
        self._state = state

    async def get(self, token: str, *, lock: bool = False) -> PushToken | None:
        return self._state.tokens.get(token)

    async def add_if_absent(self, token: PushToken) -> PushToken | None:
        if token.token in self._state.tokens:
            return None
        self._state.tokens[token.token] = token
        return token

    async def register(self, token: PushToken) -> PushToken:
        existing = self._state.tokens.get(token.token)
        stored = replace(token, created_at=existing.created_at) if existing else token
        device_id = token.device_id or (existing.device_id if existing else None)
        stored = replace(stored, active=True, deactivated_reason=None, device_id=device_id)
        self._state.tokens[token.token] = stored
        return stored

    async def list_for(
        self, profile_id: uuid.UUID, *, active_only: bool = False
    ) -> list[PushToken]:
        tokens = [
            t
            for t in self._state.tokens.values()
            if t.profile_id == profile_id and (t.active or not active_only)
        ]
        return sorted(tokens, key=lambda t: (t.updated_at, t.token), reverse=True)

    async def page_for(self, profile_id: uuid.UUID, *, before, limit: int) -> list[PushToken]:
        tokens = await self.list_for(profile_id, active_only=True)
        if before is not None:
            tokens = [t for t in tokens if (t.updated_at, t.token) < before]
        return tokens[:limit]

    async def delete(self, token: str, *, profile_id: uuid.UUID) -> bool:
        existing = self._state.tokens.get(token)
        if existing is None or existing.profile_id != profile_id:
            return False
        del self._state.tokens[token]
        return True

    async def deactivate(self, tokens: Sequence[str], *, reason: str, now: datetime) -> None:
        for token in tokens:
            existing = self._state.tokens.get(token)
            if existing is not None and existing.active:
                self._state.tokens[token] = replace(
                    existing, active=False, deactivated_reason=reason
                )


class FakeNotificationRepository:
    def __init__(self, state: NotificationState) -> None:
        self._state = state

    async def add_if_absent(self, notification: Notification) -> bool:
        if notification.source_event_id is not None and any(
            n.profile_id == notification.profile_id
            and n.source_event_id == notification.source_event_id
            for n in self._state.notifications.values()
        ):
            return False
        self._state.notifications[notification.id] = notification
        return True

    async def get(self, notification_id: uuid.UUID) -> Notification | None:
        return self._state.notifications.get(notification_id)

    async def page(
        self,
        profile_id: uuid.UUID,
        *,
        after: FeedCursor | None,
        limit: int,
        unread_only: bool,
    ) -> list[Notification]:
        mine = [
            n
            for n in self._state.notifications.values()
            if n.profile_id == profile_id and not (unread_only and n.is_read)
        ]
        if after is not None:
            mine = [n for n in mine if (n.created_at, n.id) < (after.created_at, after.id)]
        return sorted(mine, key=lambda n: (n.created_at, n.id), reverse=True)[:limit]

    async def unread_count(self, profile_id: uuid.UUID) -> int:
        return sum(
            1
            for n in self._state.notifications.values()
            if n.profile_id == profile_id and not n.is_read
        )

    async def mark_read(
        self, profile_id: uuid.UUID, ids: Sequence[uuid.UUID] | None, now: datetime
    ) -> int:
        changed = 0
        for key, n in list(self._state.notifications.items()):
            if n.profile_id == profile_id and not n.is_read and (ids is None or key in ids):
                self._state.notifications[key] = replace(n, read_at=now)
                changed += 1
        return changed

    async def preferences(self, profile_id: uuid.UUID) -> dict[NotificationCategory, bool]:
        return {
            category: enabled
            for (owner, category), enabled in self._state.preferences.items()
            if owner == profile_id
        }

    async def set_preferences(
        self,
        profile_id: uuid.UUID,
        changes: Mapping[NotificationCategory, bool],
        now: datetime,
    ) -> None:
        for category, enabled in changes.items():
            self._state.preferences[(profile_id, category)] = enabled

    async def queue_pushes(
        self, notification: Notification, tokens: Sequence[str], now: datetime
    ) -> int:
        queued = 0
        for token in dict.fromkeys(tokens):
            if any(
                d.notification_id == notification.id and d.token == token
                for d in self._state.deliveries.values()
            ):
                continue
            delivery_id = max(self._state.deliveries, default=0) + 1
            self._state.deliveries[delivery_id] = FakeDelivery(
                delivery_id,
                notification.id,
                token,
                notification.profile_id,
                DeliveryState.QUEUED,
                available_at=now,
                updated_at=now,
            )
            queued += 1
        return queued


# -- queues (each call its own "transaction") --------------------------------------------------


class HasNotificationState(Protocol):
    notifications: NotificationState


class FakePushDeliveryQueue:
    """Keeps ``PostgresPushDeliveryQueue``'s promises on the store's committed state."""

    def __init__(self, store: HasNotificationState) -> None:
        self._store = store

    @property
    def state(self) -> NotificationState:
        return self._store.notifications

    async def claim(self, *, now: datetime, limit: int, worker: str) -> list[ClaimedDelivery]:
        due = sorted(
            (
                d
                for d in self.state.deliveries.values()
                if d.state is DeliveryState.QUEUED and d.available_at <= now
            ),
            key=lambda d: (d.available_at, d.id),
        )[:limit]
        claimed = []
        for delivery in due:
            token = self.state.tokens.get(delivery.token)
            if token is None or not token.active or token.profile_id != delivery.profile_id:
                delivery.state, delivery.error = DeliveryState.SKIPPED, "device_unavailable"
                continue
            delivery.state, delivery.attempts = DeliveryState.SENDING, delivery.attempts + 1
            delivery.locked_by, delivery.sending_since, delivery.updated_at = worker, now, now
            notification = self.state.notifications[delivery.notification_id]
            message = PushMessage(
                delivery.token,
                notification.title,
                notification.body,
                notification.category,
                {**notification.data, "notificationId": str(notification.id)},
            )
            claimed.append(
                ClaimedDelivery(delivery.id, delivery.notification_id, delivery.attempts, message)
            )
        return claimed

    async def record(self, outcomes: Sequence[DeliveryOutcome], *, now: datetime) -> int:
        recorded = 0
        for outcome in outcomes:
            delivery = self.state.deliveries.get(outcome.delivery.id)
            if (
                delivery is None
                or delivery.attempts != outcome.delivery.attempts
                or delivery.state not in {DeliveryState.SENDING, DeliveryState.UNCERTAIN}
            ):
                continue
            delivery.state = outcome.state
            delivery.ticket_id = outcome.ticket_id
            delivery.sent_at = now if outcome.state is DeliveryState.SENT else None
            delivery.available_at = outcome.retry_at or delivery.available_at
            delivery.error = outcome.error
            delivery.locked_by = delivery.sending_since = None
            delivery.updated_at = now
            recorded += 1
            if outcome.deactivate:
                self._deactivate(outcome.deactivate)
        return recorded

    def _deactivate(self, token: str) -> None:
        existing = self.state.tokens.get(token)
        if existing is not None and existing.active:
            self.state.tokens[token] = replace(
                existing,
                active=False,
                deactivated_reason=TokenDeactivation.DEVICE_NOT_REGISTERED.value,
            )

    async def resolve_stalled(self, *, sending_before: datetime, now: datetime) -> int:
        stalled = [
            d
            for d in self.state.deliveries.values()
            if d.state is DeliveryState.SENDING
            and d.sending_since is not None
            and d.sending_since < sending_before
        ]
        for delivery in stalled:
            delivery.state, delivery.updated_at = DeliveryState.UNCERTAIN, now
        return len(stalled)

    async def awaiting_receipts(
        self, *, sent_before: datetime, after_id: int, limit: int
    ) -> list[SentDelivery]:
        waiting = sorted(
            (
                d
                for d in self.state.deliveries.values()
                if d.state is DeliveryState.SENT
                and d.ticket_id
                and d.receipt_status is None
                and d.sent_at is not None
                and d.sent_at <= sent_before
                and d.id > after_id
            ),
            key=lambda d: d.id,
        )[:limit]
        return [SentDelivery(d.id, d.token, d.ticket_id or "", d.sent_at) for d in waiting]  # type: ignore[arg-type]

    async def record_receipts(self, updates: Sequence[ReceiptUpdate], *, now: datetime) -> None:
        for update in updates:
            self.state.deliveries[update.delivery_id].receipt_status = update.receipt_status
            token = self.state.tokens.get(update.deactivate or "")
            if (
                token is not None
                and update.sent_at is not None
                and token.updated_at <= update.sent_at
            ):
                self._deactivate(token.token)

    async def prune(self, *, finished_before: datetime, limit: int) -> int:
        final = {
            DeliveryState.SENT,
            DeliveryState.FAILED,
            DeliveryState.SKIPPED,
            DeliveryState.UNCERTAIN,
        }
        victims = [
            d.id
            for d in self.state.deliveries.values()
            if d.state in final and d.updated_at is not None and d.updated_at < finished_before
        ][:limit]
        for victim in victims:
            del self.state.deliveries[victim]
        return len(victims)


@dataclass
class FakeJob:
    id: uuid.UUID
    name: str
    payload: dict[str, Any]
    occurred_at: datetime
    available_at: datetime
    status: JobStatus = JobStatus.PENDING
    attempts: int = 0
    handled_by: frozenset[str] = frozenset()
    last_error: str | None = None
    locked_by: str | None = None
    locked_until: datetime | None = None
    finished_at: datetime | None = None

    def record(self) -> JobRecord:
        return JobRecord(
            self.id,
            self.name,
            self.status,
            self.attempts,
            self.occurred_at,
            self.available_at,
            self.occurred_at,
            self.last_error,
            self.locked_by,
            self.locked_until,
            self.finished_at,
            tuple(sorted(self.handled_by)),
            dict(self.payload),
        )


class FakeOutboxQueue:
    """Keeps ``PostgresOutboxQueue``'s promises (claim order, lease, attempt fencing)."""

    def __init__(self) -> None:
        self.jobs: dict[uuid.UUID, FakeJob] = {}

    def add(self, name: str, payload: dict[str, Any], at: datetime) -> uuid.UUID:
        job_id = uuid.uuid4()
        self.jobs[job_id] = FakeJob(job_id, name, payload, at, at)
        return job_id

    async def claim(
        self, *, now: datetime, limit: int, lease_until: datetime, worker: str
    ) -> list[ClaimedJob]:
        due = sorted(
            (
                j
                for j in self.jobs.values()
                if j.status is JobStatus.PENDING and j.available_at <= now
            ),
            key=lambda j: (j.available_at, str(j.id)),
        )[:limit]
        claimed = []
        for job in due:
            job.status, job.attempts = JobStatus.RUNNING, job.attempts + 1
            job.locked_by, job.locked_until = worker, lease_until
            claimed.append(
                ClaimedJob(
                    job.id, job.name, job.payload, job.occurred_at, job.attempts, job.handled_by
                )
            )
        return claimed

    def _current(self, job: ClaimedJob) -> FakeJob | None:
        stored = self.jobs.get(job.id)
        if (
            stored is None
            or stored.status is not JobStatus.RUNNING
            or stored.attempts != job.attempts
        ):
            return None
        return stored

    async def settle(self, outcomes: Sequence[JobOutcome], *, now: datetime) -> int:
        settled = 0
        for outcome in outcomes:
            stored = self._current(outcome.job)
            if stored is None:
                continue
            stored.status, stored.handled_by = outcome.status, outcome.handled_by
            stored.locked_by = stored.locked_until = None
            if outcome.status is JobStatus.PENDING:
                assert outcome.retry_at is not None
                stored.available_at, stored.last_error = outcome.retry_at, outcome.error
            elif outcome.status is JobStatus.DEAD:
                stored.last_error, stored.finished_at = outcome.error, now
            else:
                stored.finished_at = now
            settled += 1
        return settled

    async def release(self, jobs: Sequence[ClaimedJob], *, now: datetime) -> None:
        for job in jobs:
            stored = self._current(job)
            if stored is not None:
                stored.status, stored.attempts, stored.available_at = (
                    JobStatus.PENDING,
                    stored.attempts - 1,
                    now,
                )
                stored.locked_by = stored.locked_until = None

    async def recover_expired(self, *, now: datetime, max_attempts: int) -> LeaseRecovery:
        requeued = buried = 0
        for job in self.jobs.values():
            if job.status is JobStatus.RUNNING and job.locked_until and job.locked_until <= now:
                job.last_error = f"lease expired: worker {job.locked_by} stopped"
                job.locked_by = job.locked_until = None
                if job.attempts >= max_attempts:
                    job.status, job.finished_at = JobStatus.DEAD, now
                    buried += 1
                else:
                    job.status, job.available_at = JobStatus.PENDING, now
                    requeued += 1
        return LeaseRecovery(requeued, buried)

    async def prune(self, *, finished_before: datetime, limit: int) -> int:
        victims = [
            j.id
            for j in self.jobs.values()
            if j.status is JobStatus.DONE and j.finished_at and j.finished_at < finished_before
        ][:limit]
        for victim in victims:
            del self.jobs[victim]
        return len(victims)

    # operators
    async def list_jobs(
        self,
        *,
        statuses: Collection[JobStatus],
        failing_only: bool,
        name: str | None,
        limit: int,
    ) -> list[JobRecord]:
        chosen = [
            j.record()
            for j in self.jobs.values()
            if (not statuses or j.status in statuses)
            and (not failing_only or j.last_error is not None)
            and (name is None or j.name == name)
        ]
        return sorted(chosen, key=lambda r: (r.created_at, str(r.id)), reverse=True)[:limit]

    async def get_job(self, job_id: uuid.UUID) -> JobRecord | None:
        job = self.jobs.get(job_id)
        return job.record() if job else None

    async def requeue(self, job_id: uuid.UUID, *, now: datetime) -> JobRecord | None:
        job = self.jobs.get(job_id)
        if job is None or job.status not in {JobStatus.DEAD, JobStatus.PENDING}:
            return None
        job.status, job.attempts, job.available_at, job.finished_at = (
            JobStatus.PENDING,
            0,
            now,
            None,
        )
        return job.record()

    async def count_by_status(self) -> Mapping[JobStatus, int]:
        return {
            status: sum(1 for j in self.jobs.values() if j.status is status)
            for status in (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.DEAD)
        }

    async def oldest_pending(self, *, now: datetime) -> datetime | None:
        due = [
            j.available_at
            for j in self.jobs.values()
            if j.status is JobStatus.PENDING and j.available_at <= now
        ]
        return min(due, default=None)


class FakeTaskSchedule:
    def __init__(self) -> None:
        self.rows: dict[str, ScheduledTaskRecord] = {}

    async def register(self, intervals: Mapping[str, timedelta], *, now: datetime) -> None:
        for name, every in intervals.items():
            existing = self.rows.get(name)
            if existing is None:
                self.rows[name] = ScheduledTaskRecord(
                    name, every, now, None, None, None, None, None, 0, 0
                )
            else:
                self.rows[name] = replace(
                    existing, interval=every, next_run_at=min(existing.next_run_at, now + every)
                )

    async def claim_due(
        self, names: Collection[str], *, now: datetime, lease_until: datetime, worker: str
    ) -> list[str]:
        claimed = []
        for name in sorted(names):
            row = self.rows.get(name)
            if row is None or row.next_run_at > now:
                continue
            if row.locked_until is not None and row.locked_until > now:
                continue
            self.rows[name] = replace(
                row, locked_until=lease_until, locked_by=worker, last_started_at=now
            )
            claimed.append(name)
        return claimed

    async def finish(
        self,
        name: str,
        *,
        worker: str,
        now: datetime,
        next_run_at: datetime,
        error: str | None,
    ) -> None:
        row = self.rows[name]
        if row.locked_by != worker:
            return
        self.rows[name] = replace(
            row,
            locked_until=None,
            locked_by=None,
            last_finished_at=now,
            next_run_at=next_run_at,
            last_error=error,
            run_count=row.run_count + 1,
            failure_count=row.failure_count + (error is not None),
        )

    async def list_tasks(self) -> list[ScheduledTaskRecord]:
        return [self.rows[name] for name in sorted(self.rows)]


# -- services ----------------------------------------------------------------------------------


class FakePushSender:
    """Accepts everything unless told otherwise. ``script`` holds, per coming send request,
    an exception to raise or a function from the messages to their tickets."""

    def __init__(self) -> None:
        self.sent: list[list[PushMessage]] = []
        self.script: list[Any] = []
        self.receipts: dict[str, PushReceipt] = {}
        self.receipt_requests: list[list[str]] = []
        self._tickets = 0

    def deliveries_to(self, token: str) -> int:
        return sum(1 for batch in self.sent for m in batch if m.token == token)

    async def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        assert len(messages) <= MAX_MESSAGES_PER_CHUNK
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            tickets: list[PushTicket] = step(messages)
        else:
            tickets = [self._accept(m) for m in messages]
        self.sent.append(
            [m for m, t in zip(messages, tickets, strict=True) if isinstance(t, PushAccepted)]
        )
        return tickets

    def _accept(self, message: PushMessage) -> PushAccepted:
        self._tickets += 1
        ticket_id = f"ticket-{self._tickets}"
        self.receipts.setdefault(ticket_id, ReceiptOk(ticket_id))
        return PushAccepted(message.token, ticket_id)

    async def get_receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushReceipt]:
        self.receipt_requests.append(list(ticket_ids))
        return {t: self.receipts[t] for t in ticket_ids if t in self.receipts}


@dataclass
class FakeAnalytics:
    captured: list[tuple[str, AnalyticsEvent, dict[str, Any]]] = field(default_factory=list)
    flushed: int = 0

    def capture(
        self,
        distinct_id: uuid.UUID | str,
        event: AnalyticsEvent,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        self.captured.append((str(distinct_id), event, dict(properties or {})))

    def flush(self) -> None:
        self.flushed += 1

    def shutdown(self) -> None:
        self.flush()
