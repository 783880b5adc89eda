"""The request id, carried in a context variable so logs and problem bodies can show it."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def accept_or_make_request_id(incoming: str | None) -> str:
    """Keep a caller's (or proxy's) request id when it is safe to log; otherwise make one."""
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex
