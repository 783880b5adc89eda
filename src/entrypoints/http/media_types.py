"""Check every request at the boundary before the handler's arguments are made: query
parameters the endpoint does not declare and NUL characters anywhere (422, see
``boundary``), bodies of the wrong media type (415), JSON that does not parse, nests too
deeply or is not exactly of the declared type (422)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import HTTPException, ValidationException

from entrypoints.http.boundary import (
    refuse_nul_in_form,
    refuse_nul_in_json,
    refuse_nul_in_query_and_path,
    refuse_unknown_query_parameters,
)
from entrypoints.http.errors import InputProblem
from entrypoints.http.json_depth import MAX_JSON_DEPTH, nested_deeper_than

JSON_TYPES = ("application/json",)
MULTIPART_TYPES = ("multipart/form-data",)
BODY_MEDIA_TYPES_OPT = "body_media_types"


async def require_declared_media_type(request: Request[Any, Any, Any]) -> None:
    """Handlers that take ``data`` accept JSON unless their ``opt`` names other types; a JSON
    body must not nest deeper than ``MAX_JSON_DEPTH``."""
    refuse_unknown_query_parameters(request)
    refuse_nul_in_query_and_path(request)
    handler = request.route_handler
    if "data" not in handler.parsed_fn_signature.parameters:
        return
    accepted: tuple[str, ...] = handler.opt.get(BODY_MEDIA_TYPES_OPT, JSON_TYPES)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    is_json = media_type in JSON_TYPES or media_type.endswith("+json")
    if media_type in accepted or (is_json and "application/json" in accepted):
        if is_json:
            await _refuse_deep_nesting(request)
            await _require_exact_types(request, handler.parsed_fn_signature.parameters["data"])
        elif media_type in MULTIPART_TYPES:
            refuse_nul_in_form(await request.form())
        return
    raise HTTPException(
        status_code=415,
        detail=f"Send the body as {' or '.join(accepted)} (got {media_type or 'no content type'}).",
    )


async def _refuse_deep_nesting(request: Request[Any, Any, Any]) -> None:
    if nested_deeper_than(await request.body()):
        raise InputProblem(
            "json_too_deep",
            f"JSON nested deeper than {MAX_JSON_DEPTH} levels is refused.",
            title="JSON nested too deeply",
            status=400,
        )


_AT_PATH = re.compile(r" - at `\$\.?(?P<path>.*)`$")


def _integral_floats_as_ints(value: Any) -> Any:
    # JSON Schema's "integer" is any number without a fractional part: 5.0 is one.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    return value


async def _require_exact_types(request: Request[Any, Any, Any], data: Any) -> None:
    """Litestar converts the decoded body leniently (``0`` would pass as ``false``, ``"15"``
    as ``15``); the OpenAPI document promises JSON Schema's types, so the body is checked
    strictly first — msgspec, microseconds, on a body already known to nest at most
    ``MAX_JSON_DEPTH`` deep — and anything else is 422 ``validation_failed``, naming the
    field. A body that is not JSON is 400 ``malformed_body``; a NUL character in any string
    or key is 422 ``nul_character``."""
    try:
        document = msgspec.json.decode(await request.body())
    except msgspec.DecodeError as error:
        raise InputProblem(
            "malformed_body",
            f"The body is not valid JSON: {error}",
            title="Malformed request body",
            status=400,
        ) from None
    refuse_nul_in_json(document)
    if not isinstance(data.annotation, type) or not issubclass(data.annotation, msgspec.Struct):
        return
    try:
        decoded = _integral_floats_as_ints(document)
        msgspec.convert(decoded, data.annotation, strict=True)
    except msgspec.ValidationError as error:
        message = str(error)
        where = _AT_PATH.search(message)
        raise ValidationException(
            detail="Validation failed",
            extra=[
                {
                    "key": where.group("path") if where else "body",
                    "message": _AT_PATH.sub("", message),
                }
            ],
        ) from None
