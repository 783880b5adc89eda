"""Server-side product analytics sent to PostHog from a bounded in-memory queue.

Drop policy (analytics must never slow down or fail a request): ``capture`` only puts the
event on a queue of at most ``max_queue_size`` events, which a background thread uploads in
batches. While PostHog is slow or down, events wait in that queue; once it is full, new
events are dropped (counted in ``dropped_events``), so at most ``max_queue_size + flush_at``
events are held in memory. A batch that still fails after ``max_retries`` retries is dropped
too (counted in ``failed_events``). ``flush`` and ``shutdown`` wait at most
``flush_timeout_seconds``; whatever is left then is lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from posthog import Posthog

from core.domain.analytics_events import AnalyticsEvent, allowed_event, scrub_properties

log = logging.getLogger(__name__)


class PostHogAnalytics:
    """Implements ``core.ports.analytics.Analytics`` with the ``posthog`` client."""

    def __init__(
        self,
        *,
        api_key: str,
        host: str | None = None,
        max_queue_size: int = 1000,
        flush_at: int = 50,
        flush_interval_seconds: float = 1.0,
        timeout_seconds: float = 3.0,
        max_retries: int = 2,
        flush_timeout_seconds: float = 2.0,
        gzip: bool = True,
    ) -> None:
        if not api_key:
            raise ValueError("PostHog needs an API key; use NoopAnalytics without one.")
        self._flush_timeout_seconds = flush_timeout_seconds
        self._lock = threading.Lock()
        self._dropped = 0
        self._failed = 0
        self._client = Posthog(
            api_key,
            host=host,
            max_queue_size=max_queue_size,
            flush_at=flush_at,
            flush_interval=flush_interval_seconds,
            timeout=timeout_seconds,
            max_retries=max_retries,
            gzip=gzip,
            sync_mode=False,
            capture_mode="v0",
            on_error=self._count_failed_batch,
        )

    @property
    def dropped_events(self) -> int:
        """Events refused because the queue was full (or the client shut down)."""
        return self._dropped

    @property
    def failed_events(self) -> int:
        """Events whose upload failed after every retry."""
        return self._failed

    def capture(
        self,
        distinct_id: UUID | str,
        event: AnalyticsEvent,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            known = allowed_event(str(event))
            if known is None:
                log.warning("analytics event %r is not on the list; dropped", event)
                return
            queued = self._client.capture(
                known.value,
                distinct_id=str(distinct_id),
                properties=scrub_properties(properties or {}),
            )
            if queued is None:
                self._count(dropped=1)
        except Exception:
            log.warning("analytics capture failed; event dropped", exc_info=True)
            self._count(dropped=1)

    def flush(self) -> None:
        try:
            self._client.flush(timeout_seconds=self._flush_timeout_seconds)
        except Exception:
            log.warning("analytics flush failed", exc_info=True)

    def shutdown(self) -> None:
        """Let the client send what it can and stop, waiting at most the flush budget: it runs
        in a daemon thread, so a dead server cannot hold up process exit."""
        stopper = threading.Thread(target=self._stop_client, name="posthog-shutdown", daemon=True)
        stopper.start()
        stopper.join(self._flush_timeout_seconds)

    def _stop_client(self) -> None:
        try:
            self._client.shutdown()
        except Exception:
            log.warning("analytics shutdown failed", exc_info=True)

    def _count_failed_batch(self, error: Exception, batch: list[Any]) -> None:
        log.warning("analytics upload failed, %d events dropped: %s", len(batch), error)
        self._count(failed=len(batch))

    def _count(self, *, dropped: int = 0, failed: int = 0) -> None:
        with self._lock:
            self._dropped += dropped
            self._failed += failed


class NoopAnalytics:
    """Implements ``core.ports.analytics.Analytics`` by doing nothing (no ``POSTHOG_API_KEY``)."""

    def capture(
        self,
        distinct_id: UUID | str,
        event: AnalyticsEvent,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        return None

    def flush(self) -> None:
        return None

    def shutdown(self) -> None:
        return None


def build_analytics(
    api_key: str | None, host: str | None = None
) -> PostHogAnalytics | NoopAnalytics:
    """PostHog when ``api_key`` (``POSTHOG_API_KEY``) is set, otherwise analytics switched off."""
    return PostHogAnalytics(api_key=api_key, host=host) if api_key else NoopAnalytics()
