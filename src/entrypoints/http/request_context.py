"""The request id, carried in a context variable so logs and problem bodies can show it."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "x-request-id"
# Set in the ASGI scope by the server when it gave up waiting for a request's body, so that
# the access log can tell a timeout (408) from a client that went away (499).
BODY_TIMED_OUT = "chorus.body_timed_out"
CLIENT_CLOSED_REQUEST = 499  # nginx's status for "the client went away before the answer"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def accept_or_make_request_id(incoming: str | None) -> str:
    """Keep a caller's (or proxy's) request id when it is safe to log; otherwise make one."""
    if incoming and _SAFE_REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex
