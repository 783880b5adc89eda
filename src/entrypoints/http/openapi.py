"""OpenAPI: the bearer scheme and documented problem responses."""

from __future__ import annotations

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from entrypoints.http.errors import HTTP_CODES
from entrypoints.http.schemas.problem import PROBLEM_MEDIA_TYPE, Problem

COMMON_PROBLEMS = (400, 401, 403, 413, 415, 429, 500, 503)


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


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Chorus API",
        version=version,
        description=(
            "Voice clips, validation consensus, earnings and payouts. Authenticate with a "
            "Supabase Auth JWT (`Authorization: Bearer …`). Errors are RFC 9457 "
            "problem+json documents with a stable `code`."
        ),
        path="/docs",
        render_plugins=[SwaggerRenderPlugin(path="/"), ScalarRenderPlugin(path="/scalar")],
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
