"""OpenAPI: the bearer scheme and documented problem responses."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, Operation, Parameter, SecurityScheme
from litestar.static_files import create_static_files_router

from entrypoints.http.errors import HTTP_CODES
from entrypoints.http.schemas.problem import PROBLEM_MEDIA_TYPE, Problem

# Every operation can answer these: a request that cannot be read — a body that is not
# JSON or nests too deeply, a body that cannot be framed (400), no or bad token (401), not
# allowed (403), the server's deadlines and limits (408, 413, 431), a body of another media
# type (415), any wrong value — unknown query parameter, malformed path parameter, mistyped
# field, NUL character (422), the write limit (429), a fault (500), a dependency down (503).
COMMON_PROBLEMS = (400, 401, 403, 408, 413, 415, 422, 429, 431, 500, 503)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem+json responses for ``statuses`` (plus the ones every endpoint can give)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=HTTP_CODES[status][1],
        )
        for status in sorted(set(statuses) | set(COMMON_PROBLEMS))
    }


DOCS_PATH = "/docs"
# Swagger UI's own files, from the packaged distribution (swagger-ui-bundle-v2), served
# under /docs: the page works offline, with no CDN.
SWAGGER_ASSETS = f"{DOCS_PATH}/swagger-ui"


def swagger_ui_assets() -> Router:
    """The static files Swagger UI's page at ``/docs`` loads."""
    from swagger_ui_bundle import swagger_ui_path

    return create_static_files_router(
        path=SWAGGER_ASSETS,
        directories=[str(swagger_ui_path)],
        name="swagger-ui",
        cache_control=CacheControlHeader(max_age=86_400, public=True),
        include_in_schema=False,
    )


def _swagger_ui() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path="/",
        js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
    )


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Chorus API",
        version=version,
        description=(
            "Voice clips, validation consensus, earnings and payouts. Authenticate with a "
            "Supabase Auth JWT (`Authorization: Bearer …`). Errors are RFC 9457 "
            "problem+json documents with a stable `code`; any wrong value in the input "
            "(body, query, path, an undeclared query parameter, a cursor this server did not "
            "make, a NUL character in text) is 422 with `invalidParams` naming the fields; a "
            "request that cannot be read (a body that is not JSON or nests too deeply, a "
            "missing Idempotency-Key) is 400. "
            "Responses carry every field of their schema, `null` when it has no value. "
            "Lists are pages: `limit` and an opaque `cursor` (`nextCursor` of the previous "
            "page, null on the last)."
        ),
        path=DOCS_PATH,
        # Swagger UI (/docs) is served whole by Chorus; Scalar (/docs/scalar) loads its
        # script from a CDN, so it needs the network.
        render_plugins=[_swagger_ui(), ScalarRenderPlugin(path="/scalar")],
        components=Components(
            security_schemes={
                "BearerAuth": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="Supabase Auth access token",
                )
            }
        ),
    )


def requiring_headers(*names: str) -> type[Operation]:
    """An operation class marking the header parameters ``names`` as required in the
    document. For headers the use case checks itself, so that a missing one gets the use
    case's own problem ``code`` (Litestar would answer a generic validation failure)."""

    @dataclass
    class RequiringHeaders(Operation):
        def __post_init__(self) -> None:
            for parameter in self.parameters or []:
                if isinstance(parameter, Parameter) and parameter.name in names:
                    parameter.required = True

    return RequiringHeaders
