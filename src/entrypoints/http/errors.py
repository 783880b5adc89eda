"""The only place that knows HTTP status codes: every error becomes RFC 9457 problem+json."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from adapters.postgres.errors import is_unavailable, unavailable
from core.errors import (
    Conflict,
    DomainError,
    FeatureUnavailable,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    RateLimited,
    StorageUnavailable,
)
from entrypoints.http.request_context import current_request_id
from entrypoints.http.schemas.problem import PROBLEM_MEDIA_TYPE, InvalidParam, Problem

log = structlog.get_logger("chorus.http")

DOMAIN_STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    RateLimited: 429,
    FeatureUnavailable: 503,
    StorageUnavailable: 503,
}

HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("malformed_request", "Malformed request"),
    401: ("not_authenticated", "Not authenticated"),
    403: ("permission_denied", "Permission denied"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    408: ("request_timeout", "Request timeout"),
    409: ("conflict", "Conflict"),
    413: ("body_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    416: ("range_not_satisfiable", "Range not satisfiable"),
    422: ("invalid_input", "Invalid input"),
    429: ("rate_limited", "Too many requests"),
    431: ("headers_too_large", "Request header fields too large"),
    500: ("internal_error", "Internal server error"),
    503: ("service_unavailable", "Service unavailable"),
}


class ProblemException(HTTPException):
    """An HTTP error raised at the edge (before a use case runs) with its own stable code."""

    def __init__(
        self,
        status_code: int,
        code: str,
        detail: str,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.problem_code = code
        self.problem_title = title


class TooManyRequests(HTTPException):
    status_code = 429

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            detail="Too many write requests; slow down.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in DOMAIN_STATUS:
            return DOMAIN_STATUS[cls]
    return 400


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    code: str,
    detail: str | None,
    title: str | None = None,
    invalid_params: list[InvalidParam] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body = Problem(
        type=f"urn:problem:chorus:{code}",
        title=title or HTTP_CODES.get(status, ("error", "Error"))[1],
        status=status,
        code=code,
        detail=detail,
        instance=request.url.path,
        request_id=current_request_id.get(),
        invalid_params=invalid_params,
        extra=extra or None,
    )
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def on_domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[bytes]:
    status = status_of(error)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="chorus"'
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.extra.get("retry_after_seconds", 1))
    if isinstance(error, StorageUnavailable):
        headers["Retry-After"] = "5"
        log.warning("storage_unavailable", error=repr(error.__cause__))
    extra = {k: v for k, v in error.extra.items() if _json_safe(v)}
    return problem_response(
        request, status=status, code=error.code, detail=error.message, extra=extra, headers=headers
    )


def _json_safe(value: object) -> bool:
    try:
        msgspec.json.encode(value)
    except (TypeError, msgspec.EncodeError):
        return False
    return True


def on_validation_error(
    request: Request[Any, Any, Any], error: ValidationException
) -> Response[bytes]:
    params = [
        InvalidParam(
            name=str(item.get("key") or item.get("source") or "body"),
            reason=str(item.get("message")),
        )
        for item in (error.extra if isinstance(error.extra, list) else [])
        if isinstance(item, dict)
    ]
    malformed = (
        "malformed" in (error.detail or "").lower() or "decode" in (error.detail or "").lower()
    )
    return problem_response(
        request,
        status=400,
        code="malformed_body" if malformed else "validation_failed",
        title="Malformed request body" if malformed else "Request validation failed",
        detail=_clean_detail(error.detail),
        invalid_params=params or None,
    )


def _clean_detail(detail: str | None) -> str:
    if not detail:
        return "The request is not valid."
    # Litestar prefixes details with the handler's path; keep the human part.
    return detail.split(" for ", 1)[0] if detail.startswith("Validation failed") else detail


def on_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    status = error.status_code
    code, title = HTTP_CODES.get(status, ("http_error", "Error"))
    if isinstance(error, ProblemException):
        code, title = error.problem_code, error.problem_title or title
    headers = dict(error.headers or {})
    detail = error.detail if error.detail and error.detail != title else None
    return problem_response(
        request, status=status, code=code, title=title, detail=detail, headers=headers
    )


def on_unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    if is_unavailable(error):
        # A database outage that reached the edge untranslated is still an outage.
        storage_failure = unavailable()
        storage_failure.__cause__ = error
        return on_domain_error(request, storage_failure)
    log.exception("unhandled_error", error_type=type(error).__name__)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        detail="Something went wrong on our side; it has been logged.",
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    Exception: on_unexpected_error,
}
