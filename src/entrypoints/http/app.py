"""The Litestar application factory. Nothing is built at import time."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from entrypoints.container import Container
from entrypoints.http.auth import provide_principal
from entrypoints.http.controllers.admin_validation import AdminValidationController
from entrypoints.http.controllers.clips import ClipsController
from entrypoints.http.controllers.health import HealthController
from entrypoints.http.controllers.live import LiveController, LiveWebhookController
from entrypoints.http.controllers.me import MeController
from entrypoints.http.controllers.money import MoneyController, RewardRatesController
from entrypoints.http.controllers.notifications import NotificationsController
from entrypoints.http.controllers.validation import ValidationController
from entrypoints.http.errors import EXCEPTION_HANDLERS
from entrypoints.http.media_types import require_declared_media_type
from entrypoints.http.middleware import OneConnectionPerRequest, RequestContextMiddleware
from entrypoints.http.openapi import openapi_config
from entrypoints.logging import configure_logging
from entrypoints.settings import Settings, load_settings


def chorus_version() -> str:
    try:
        return version("chorus")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    """Build the HTTP app. ``chorus serve`` calls this once per worker process."""
    settings = settings or load_settings()
    container = container or Container(settings=settings)
    configure_logging(settings.log_level)
    prometheus = PrometheusConfig(
        app_name="chorus", prefix="chorus", group_path=True, exclude=["/metrics", "/health"]
    )

    async def close_resources() -> None:
        await container.write_rate_limiter().close()
        live_video = container.live_video()
        if live_video is not None:
            await live_video.aclose()
        await container.engine().dispose()

    app = Litestar(
        route_handlers=[
            HealthController,
            MeController,
            MetricsController,
            LiveController,
            LiveWebhookController,
            ClipsController,
            ValidationController,
            AdminValidationController,
            MoneyController,
            RewardRatesController,
            NotificationsController,
        ],
        dependencies={"principal": Provide(provide_principal)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[prometheus.middleware],
        before_request=require_declared_media_type,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=False)
        if settings.cors_origins
        else None,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        openapi_config=openapi_config(chorus_version()),
        request_max_body_size=settings.max_body_bytes,
        state=State({"container": container, "settings": settings}),
        on_shutdown=[close_resources],
        logging_config=None,
        debug=False,
    )
    # Outermost, around Litestar's own exception handling, so routing errors (404, 405) and
    # CORS answers carry a request id and an access-log line too.
    app.asgi_handler = RequestContextMiddleware(
        OneConnectionPerRequest(app.asgi_handler, container.engine)
    )
    return app
