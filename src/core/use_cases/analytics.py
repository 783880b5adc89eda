"""Product analytics captured from committed facts (SPEC §12)."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.analytics_facts import analytics_fact
from core.domain.events import DomainEvent
from core.ports.analytics import Analytics


@dataclass(frozen=True, slots=True)
class CaptureAnalyticsEvent:
    """Event handler: the analytics event for a committed domain event (clip submitted,
    validation submitted, clip decided, reward earned/released, payout requested/paid/failed,
    badge awarded, stream started/ended, flag created).

    Rules: ``distinct_id`` is the profile the fact is about; properties carry ids, codes and
    numbers only (no names, emails or bank details). Capturing only queues the event in
    memory and never fails, so a PostHog outage never blocks or retries the job; what is
    queued is sent when PostHog answers again, within the adapter's bounded drop policy."""

    analytics: Analytics

    async def __call__(self, event: DomainEvent) -> None:
        fact = analytics_fact(event)
        if fact is not None:
            self.analytics.capture(fact.distinct_id, fact.event, fact.properties)
