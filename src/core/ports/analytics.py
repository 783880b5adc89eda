"""Product analytics, as a port."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID

from core.domain.analytics_events import AnalyticsEvent


class Analytics(Protocol):
    """Records product events. Best effort: analytics never slows down or fails a request."""

    def capture(
        self,
        distinct_id: UUID | str,
        event: AnalyticsEvent,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        """Queue ``event`` for the profile ``distinct_id``. Returns at once and never raises;
        events not on the list are dropped and personal-data properties are stripped."""
        ...

    def flush(self) -> None:
        """Try to send what is queued, waiting a bounded time; never raises."""
        ...

    def shutdown(self) -> None:
        """Flush (bounded) and stop; later captures are dropped. Never raises."""
        ...
