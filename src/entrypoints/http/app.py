"""The Litestar application factory. Nothing is built at import time."""

from __future__ import annotations

import gc
from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.routes import HTTPRoute

from entrypoints.container import Container
from entrypoints.http.auth import provide_principal
from entrypoints.http.boundary import QUERY_NAMES_STATE, declared_query_names
from entrypoints.http.controllers.admin_validation import AdminValidationController
from entrypoints.http.controllers.badges import (
    AdminBadgesController,
    BadgesController,
    LeaderboardsController,
)
from entrypoints.http.controllers.clips import ClipsController
from entrypoints.http.controllers.health import HealthController
from entrypoints.http.controllers.live import LiveController, LiveWebhookController
from entrypoints.http.controllers.me import MeController
from entrypoints.http.controllers.moderation import ModerationController
from entrypoints.http.controllers.money import MoneyController, RewardRatesController
from entrypoints.http.controllers.notifications import NotificationsController
from entrypoints.http.controllers.payouts import (
    AdminPayoutsController,
    PayoutsController,
    PayoutWebhooksController,
)
from entrypoints.http.controllers.sync import SyncController
from entrypoints.http.controllers.validation import ValidationController
from entrypoints.http.errors import EXCEPTION_HANDLERS, PATH_TEMPLATES_STATE, path_template_pattern
from entrypoints.http.media_types import require_declared_media_type
from entrypoints.http.metrics import MetricsController, request_metrics
from entrypoints.http.middleware import (
    CompleteAllowHeader,
    OneConnectionPerRequest,
    RequestContextMiddleware,
)
from entrypoints.http.openapi import openapi_config, swagger_ui_assets
from entrypoints.http.schema_plugins import StrictStructSchemaPlugin
from entrypoints.logging import configure_logging
from entrypoints.screening import close_screener
from entrypoints.settings import Settings, load_settings


def chorus_version() -> str:
    try:
        return version("chorus")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


# A request allocates thousands of short-lived objects (SQLAlchemy rows and parameters,
# Litestar's request and response): at Python's default threshold (700) the youngest
# generation is collected several times per request. Collected less often, and with the
# objects made at start-up (modules, the app, the container) frozen out of every collection,
# the collector took ~9 % of a profiled request's CPU less. Memory grows by at most one
# generation's worth of garbage per process.
GC_THRESHOLDS = (50_000, 20, 20)


def tune_garbage_collector() -> None:
    """Freeze what start-up made and collect young objects less often (once per process,
    when the server has started)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    """Build the HTTP app. ``chorus serve`` calls this once per worker process."""
    settings = settings or load_settings()
    container = container or Container(settings=settings)
    configure_logging(settings.log_level)

    async def close_resources() -> None:
        await container.write_rate_limiter().close()
        live_video = container.live_video()
        if live_video is not None:
            await live_video.aclose()
        await container.payout_gateways().aclose()
        await close_screener(container.screener())
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
            PayoutsController,
            AdminPayoutsController,
            PayoutWebhooksController,
            BadgesController,
            AdminBadgesController,
            LeaderboardsController,
            SyncController,
            ModerationController,
            *([swagger_ui_assets()] if settings.docs_enabled else []),
        ],
        dependencies={"principal": Provide(provide_principal)},
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=require_declared_media_type,
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), allow_credentials=False)
        if settings.cors_origins
        else None,
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        openapi_config=openapi_config(chorus_version()) if settings.docs_enabled else None,
        request_max_body_size=settings.max_body_bytes,
        state=State({"container": container, "settings": settings}),
        on_startup=[tune_garbage_collector],
        on_shutdown=[close_resources],
        plugins=[StrictStructSchemaPlugin()],
        logging_config=None,
        debug=False,
    )
    # Outermost, around Litestar's own exception handling, so routing errors (404, 405) and
    # CORS answers carry a request id and an access-log line too.
    allowed = {
        route.path_format: ", ".join(sorted(route.methods))
        for route in app.routes
        if isinstance(route, HTTPRoute)
    }
    app.state[QUERY_NAMES_STATE] = declared_query_names(app)
    app.state[PATH_TEMPLATES_STATE] = [
        path_template_pattern(route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute) and route.path_parameters
    ]
    app.asgi_handler = RequestContextMiddleware(
        CompleteAllowHeader(OneConnectionPerRequest(app.asgi_handler, container.engine), allowed),
        request_metrics(),
    )
    return app
