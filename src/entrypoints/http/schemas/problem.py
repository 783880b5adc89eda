"""RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

import msgspec

PROBLEM_MEDIA_TYPE = "application/problem+json"


class InvalidParam(msgspec.Struct, rename="camel"):
    name: str
    reason: str


class Problem(msgspec.Struct, rename="camel", omit_defaults=True):
    """``type`` is a stable URI per ``code``; ``code`` is the machine-readable error."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    invalid_params: list[InvalidParam] | None = None
    extra: dict[str, Any] | None = None
