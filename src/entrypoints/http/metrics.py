"""Request metrics, and ``/metrics`` for Prometheus, never public in production: it answers
only with ``Authorization: Bearer <CHORUS_METRICS_TOKEN>``, and not at all (404) in
production when no token is configured."""

from __future__ import annotations

import hmac
from functools import cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram

from entrypoints.settings import Settings


async def require_metrics_token(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    settings: Settings = connection.app.state.settings
    token = settings.metrics_token
    if token is None:
        if settings.is_development:
            return
        raise NotFoundException()
    scheme, _space, offered = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        offered.strip().encode(), token.reveal().encode()
    ):
        raise NotAuthorizedException(
            detail="Metrics need the operators' bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="chorus-metrics"'},
        )


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    guards = [require_metrics_token]


class RequestMetrics:
    """Per-route request counts, durations and requests in flight (``chorus_*``), recorded by
    the outermost middleware. Litestar's Prometheus middleware built a ``Request`` and label
    dictionaries on every request; here each route's labelled series are looked up once and
    reused. ``/metrics`` and ``/health`` are not recorded (scrapers and probes)."""

    EXCLUDED = frozenset({"/metrics", "/health"})

    def __init__(self, app_name: str = "chorus") -> None:
        self.app_name = app_name
        self.requests = Counter(
            "chorus_requests_total",
            "Total requests",
            labelnames=("method", "path", "status_code", "app_name"),
        )
        self.duration = Histogram(
            "chorus_request_duration_seconds",
            "Request duration, in seconds",
            labelnames=("method", "path", "status_code", "app_name"),
        )
        self.in_progress = Gauge(
            "chorus_requests_in_progress",
            "Requests being answered now",
            labelnames=("method", "app_name"),
            multiprocess_mode="livesum",
        )
        self._finished: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._started: dict[str, Any] = {}

    def started(self, method: str) -> Any:
        """The in-flight gauge of ``method``, incremented; decrement it when done."""
        gauge = self._started.get(method)
        if gauge is None:
            gauge = self._started[method] = self.in_progress.labels(method, self.app_name)
        gauge.inc()
        return gauge

    def finished(self, method: str, path: str, status: int, seconds: float) -> None:
        key = (method, path, status)
        series = self._finished.get(key)
        if series is None:
            labels = (method, path, str(status), self.app_name)
            series = (self.requests.labels(*labels), self.duration.labels(*labels))
            self._finished[key] = series
        series[0].inc()
        series[1].observe(seconds)


@cache
def request_metrics() -> RequestMetrics:
    """The process's request metrics (Prometheus registers each metric once per process,
    however many apps the process builds)."""
    return RequestMetrics()
