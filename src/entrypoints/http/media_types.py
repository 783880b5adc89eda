"""Refuse bodies of the wrong media type with 415 before they are parsed."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

JSON_TYPES = ("application/json",)
MULTIPART_TYPES = ("multipart/form-data",)
BODY_MEDIA_TYPES_OPT = "body_media_types"


async def require_declared_media_type(request: Request[Any, Any, Any]) -> None:
    """Handlers that take ``data`` accept JSON unless their ``opt`` names other types."""
    handler = request.route_handler
    if "data" not in handler.parsed_fn_signature.parameters:
        return
    accepted: tuple[str, ...] = handler.opt.get(BODY_MEDIA_TYPES_OPT, JSON_TYPES)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in accepted or (media_type.endswith("+json") and "application/json" in accepted):
        return
    raise HTTPException(
        status_code=415,
        detail=f"Send the body as {' or '.join(accepted)} (got {media_type or 'no content type'}).",
    )
