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
from core.domain.member_stats import STATS_EVENTS
from core.use_cases.jobs import EventHandlers, PeriodicTasks
from core.use_cases.live import ROOM_CLOSE_REQUESTED
from entrypoints.container import Container
from entrypoints.settings import Settings


def build_event_handlers(container: Container) -> EventHandlers:
    """Analytics first (it never fails, so a failing later handler does not repeat it), then
    the member's notification, then the payout transfer (which waits for the provider), then
    member statistics and the badges they earn."""
    handlers = EventHandlers()
    capture = container.capture_analytics()
    for name in sorted(ANALYTICS_EVENTS):
        handlers.register(name, "analytics", capture)
    notify = container.notify_member()
    for name in sorted(NOTIFYING_EVENTS):
        handlers.register(name, "notifications", notify)
    handlers.register("payout.requested", "payouts", container.send_payout())
    record_activity = container.record_member_activity()
    for name in sorted(STATS_EVENTS):
        handlers.register(name, "member_stats", record_activity)
    # Streams ended by moderation: their video rooms are closed here, with retries.
    handlers.register(ROOM_CLOSE_REQUESTED, "live_rooms", container.close_live_room())
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
    tasks.register("rate_limits.prune", timedelta(hours=1), container.write_rate_limiter().prune)
    # Matured earnings move from pending to available; safe beside `chorus rewards release`.
    tasks.register("rewards.release", timedelta(minutes=5), container.release_earnings())
    # Pushed operations past their retention (≥ 30 days) and expired batch reservations.
    tasks.register("sync.prune", timedelta(hours=1), container.prune_sync_state())
    # Validators' error rates and the crowd model re-fitted over the settled history.
    tasks.register(
        "consensus.refit",
        timedelta(minutes=settings.consensus_refit_minutes),
        container.refit_consensus_model(),
    )
    # Payouts in flight for a while are looked up by reference and settled (docs/payouts.md).
    tasks.register(
        "payouts.reconcile",
        timedelta(seconds=settings.payouts.reconcile_interval_seconds),
        container.reconcile_payouts(),
    )
    # Accuracy badges follow the standing each refit publishes.
    tasks.register("badges.standings", timedelta(minutes=5), container.award_standing_badges())
    tasks.register("badges.prune_counted", timedelta(hours=1), container.prune_counted_events())
    # Bursts of uploads or votes put the member in the moderators' queue (docs/moderation.md).
    tasks.register(
        "moderation.scan_bursts",
        timedelta(minutes=settings.moderation.burst_scan_minutes),
        container.flag_activity_bursts(),
    )
    return tasks
