"""Which committed domain events become which product-analytics event (SPEC §12), whose
profile is the ``distinct_id``, and which properties go along (ids, codes and numbers only;
personal data is scrubbed again by ``scrub_properties``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from core.domain.analytics_events import AnalyticsEvent, scrub_properties
from core.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class AnalyticsFact:
    """One analytics event derived from one domain event."""

    distinct_id: UUID
    event: AnalyticsEvent
    properties: Mapping[str, Any] = field(default_factory=dict)


# Domain event → (analytics event, payload keys naming the acting profile, in order).
_FACTS: dict[str, tuple[AnalyticsEvent, tuple[str, ...]]] = {
    "clip.submitted": (AnalyticsEvent.CLIP_SUBMITTED, ("profileId", "contributorId")),
    "validation.submitted": (AnalyticsEvent.VALIDATION_SUBMITTED, ("profileId", "validatorId")),
    "clip.decided": (AnalyticsEvent.CLIP_DECIDED, ("contributorId", "profileId")),
    "reward.earned": (AnalyticsEvent.REWARD_EARNED, ("profileId",)),
    "reward.released": (AnalyticsEvent.REWARD_RELEASED, ("profileId",)),
    "payout.requested": (AnalyticsEvent.PAYOUT_REQUESTED, ("profileId",)),
    "payout.paid": (AnalyticsEvent.PAYOUT_PAID, ("profileId",)),
    "payout.failed": (AnalyticsEvent.PAYOUT_FAILED, ("profileId",)),
    "badge.awarded": (AnalyticsEvent.BADGE_AWARDED, ("profileId",)),
    "stream.started": (AnalyticsEvent.STREAM_STARTED, ("hostId", "profileId")),
    "stream.ended": (AnalyticsEvent.STREAM_ENDED, ("hostId", "profileId")),
    "flag.created": (AnalyticsEvent.FLAG_CREATED, ("reporterId", "profileId")),
}

ANALYTICS_EVENTS: frozenset[str] = frozenset(_FACTS)
"""Domain event names that produce an analytics event."""

_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")
_MAX_PROPERTIES = 30
_MAX_TEXT = 200


def snake_case(key: str) -> str:
    """``clipId`` → ``clip_id`` (PostHog properties are snake_case)."""
    return _CAMEL_HUMP.sub(r"_\1", key).lower()


def _plain(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= _MAX_TEXT
    return value is None or isinstance(value, bool | int | float)


def analytics_fact(event: DomainEvent) -> AnalyticsFact | None:
    """The analytics event for ``event``, or ``None`` when it is not an analytics fact or
    names no profile. Properties: the payload's scalar values (nested structures and long
    texts are left out) with snake_case keys, without the profile id itself and without
    personal data, plus ``event_id`` (the outbox id, to spot duplicates)."""
    known = _FACTS.get(event.name)
    if known is None:
        return None
    analytics_event, keys = known
    distinct_id: UUID | None = None
    used_key = None
    for key in keys:
        value = event.payload.get(key)
        if isinstance(value, str):
            try:
                distinct_id, used_key = UUID(value), key
                break
            except ValueError:
                continue
    if distinct_id is None:
        return None
    properties: dict[str, Any] = {
        snake_case(key): value
        for key, value in event.payload.items()
        if key != used_key and _plain(value)
    }
    properties = dict(list(scrub_properties(properties).items())[:_MAX_PROPERTIES])
    properties["event_id"] = str(event.id)
    return AnalyticsFact(distinct_id, analytics_event, properties)
