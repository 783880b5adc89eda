"""The only place that knows HTTP status codes: every error becomes RFC 9457 problem+json.

The convention (docs/api.md): anything wrong with what the client sent — a body that is not
JSON or not of the declared shape, a bad query, path or header value, a query parameter the
endpoint does not declare, a cursor this server did not make, a NUL character, a domain rule
about the values — is **422** with a stable ``code`` and, where one field is at fault,
``invalidParams`` naming it. 400 is not used for input."""

from __future__ import annotations

import math
import re
from typing import Any
from uuid import UUID

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

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


class InputProblem(ProblemException):
    """422: what the client sent is refused at the edge; ``invalid_params`` names the fields.
    400 (``status``) when the request cannot be read at all (docs/api.md)."""

    def __init__(
        self,
        code: str,
        detail: str,
        invalid_params: list[InvalidParam] | None = None,
        title: str | None = None,
        status: int = 422,
    ) -> None:
        super().__init__(status, code, detail, title=title)
        self.invalid_params = invalid_params


class TooManyRequests(HTTPException):
    status_code = 429

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            detail="Too many write requests; slow down.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


def status_of(error: DomainError) -> int:
    """The status of ``error``'s class; 400 only for the few errors no class maps, such as
    ``transfer_not_approved`` (Paystack's approval URL refuses a transfer with 400)."""
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
    field = extra.pop("field", None)
    invalid = (
        [InvalidParam(name=str(field), reason=error.message)] if isinstance(field, str) else None
    )
    return problem_response(
        request,
        status=status,
        code=error.code,
        detail=error.message,
        invalid_params=invalid,
        extra=extra,
        headers=headers,
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
    code = "malformed_body" if malformed else "validation_failed"
    if not malformed and params and all(param.name == "cursor" for param in params):
        code = "invalid_cursor"  # the same code whether the pattern or the decoding refused it
    return problem_response(
        request,
        status=400 if malformed else 422,
        code=code,
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
    cause = error.__cause__
    if (
        isinstance(error, NotFoundException)
        and isinstance(cause, ValueError)
        and not isinstance(cause, HTTPException)
    ):
        # The router matched a path but could not parse one of its parameters (a malformed
        # UUID): the client's input is wrong, not the resource missing.
        bad_parameter = on_bad_path_parameter(request)
        if bad_parameter is not None:
            return bad_parameter
    status = error.status_code
    code, title = HTTP_CODES.get(status, ("http_error", "Error"))
    invalid_params = None
    if isinstance(error, ProblemException):
        code, title = error.problem_code, error.problem_title or title
    if isinstance(error, InputProblem):
        invalid_params = error.invalid_params
    headers = dict(error.headers or {})
    detail = error.detail if error.detail and error.detail != title else None
    if status == 413:
        detail = _body_limit_detail(request)
    elif status == 400 and not isinstance(error, ProblemException):
        # Litestar's own refusals of unreadable input (a bad Content-Length, a multipart
        # body without its boundary …): 400, as every request that cannot be read.
        code, title = "malformed_request", "Malformed request"
    return problem_response(
        request,
        status=status,
        code=code,
        title=title,
        detail=detail,
        headers=headers,
        invalid_params=invalid_params,
    )


def _body_limit_detail(request: Request[Any, Any, Any]) -> str:
    limit: int | None = None
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except (KeyError, AttributeError):  # pragma: no cover - refused before routing
        limit = None
    if not limit or limit == math.inf:
        return "The request body is too large."
    return (
        f"The request body is larger than this endpoint's limit of {limit} bytes ({_size(limit)})."
    )


def _size(limit: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if limit >= scale:
            value = limit / scale
            return f"{value:.0f} {unit}" if value.is_integer() else f"{value:.1f} {unit}"
    return f"{limit} B"


_PATH_PARAMETER = re.compile(r"\{(?P<name>[A-Za-z_][A-Za-z0-9_]*):(?P<kind>[a-z]+)\}")
PATH_TEMPLATES_STATE = "path_templates"


def path_template_pattern(template: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """A regex matching concrete paths of ``template`` (``/clips/{clip_id:uuid}``) and the
    kind of each of its parameters."""
    kinds = {m.group("name"): m.group("kind") for m in _PATH_PARAMETER.finditer(template)}
    pieces, last = [], 0
    for match in _PATH_PARAMETER.finditer(template):
        pieces.append(re.escape(template[last : match.start()]))
        pieces.append(f"(?P<{match.group('name')}>[^/]+)")
        last = match.end()
    pieces.append(re.escape(template[last:]))
    return re.compile("".join(pieces) + "/?"), kinds


_PARSERS: dict[str, Any] = {"uuid": UUID, "int": int, "float": float}


def on_bad_path_parameter(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """422 ``invalid_path_parameter`` naming the parameters of the matching route that do
    not parse; ``None`` when no route's parameters explain the failure (a plain 404)."""
    path = request.scope.get("path", "")
    templates: list[tuple[re.Pattern[str], dict[str, str]]] = request.app.state.get(
        PATH_TEMPLATES_STATE, []
    )
    params: list[InvalidParam] = []
    for pattern, kinds in templates:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        for name, kind in kinds.items():
            parser = _PARSERS.get(kind)
            if parser is None:
                continue
            try:
                parser(match.group(name))
            except ValueError:
                params.append(InvalidParam(name=name, reason=f"not a valid {kind}"))
        if params:
            break
    if not params:
        return None
    return problem_response(
        request,
        status=422,
        code="invalid_path_parameter",
        title="Invalid path parameter",
        detail=f"Malformed path parameter: {', '.join(p.name for p in params)}.",
        invalid_params=params,
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
