"""What the worker does: the event handlers per outbox event name and the periodic tasks.

Adding work for the worker (another feature area):

- an event handler: ``handlers.register("payout.requested", "payouts", container.x())`` in
  ``build_event_handlers``; the key ("payouts") must stay stable, it is stored on the job;
- a periodic task: ``tasks.register("rewards.release", timedelta(minutes=5), container.y())``
  in ``build_periodic_tasks``; one worker at a time runs it.
"""

from __future__ import annotations

from datetime import timedelta

from core.domain.analytics_facts import ANALYTICS_EVENTS
from core.domain.member_notifications import NOTIFYING_EVENTS
from core.use_cases.jobs import EventHandlers, PeriodicTasks
from entrypoints.container import Container
from entrypoints.settings import Settings


def build_event_handlers(container: Container) -> EventHandlers:
    """Analytics first (it never fails, so a failing later handler does not repeat it), then
    the member's notification."""
    handlers = EventHandlers()
    capture = container.capture_analytics()
    for name in sorted(ANALYTICS_EVENTS):
        handlers.register(name, "analytics", capture)
    notify = container.notify_member()
    for name in sorted(NOTIFYING_EVENTS):
        handlers.register(name, "notifications", notify)
    return handlers


def build_periodic_tasks(container: Container, settings: Settings) -> PeriodicTasks:
    worker = settings.worker
    # Dead workers' leases are noticed within a quarter of the lease (0.5 s .. 30 s).
    reaping = timedelta(seconds=min(max(worker.lease_seconds / 4, 0.5), 30.0))
    tasks = PeriodicTasks()
    tasks.register("outbox.recover_leases", reaping, container.recover_expired_leases())
    tasks.register("push.resolve_stalled", reaping, container.resolve_stalled_pushes())
    tasks.register(
        "push.check_receipts",
        timedelta(seconds=worker.receipt_interval_seconds),
        container.check_push_receipts(),
    )
    tasks.register("outbox.prune", timedelta(hours=1), container.prune_outbox())
    tasks.register("push.prune_deliveries", timedelta(hours=1), container.prune_push_deliveries())
    # Matured earnings move from pending to available; safe beside `chorus rewards release`.
    tasks.register("rewards.release", timedelta(minutes=5), container.release_earnings())
    return tasks
