"""The storage keys every blob store accepts: ``clips/<id>.wav`` and the like."""

from __future__ import annotations

import re

from core.errors import InvalidInput

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


def checked_key(key: str) -> str:
    """``key`` if it is a relative path of safe segments (no ``..``, no absolute paths, no
    empty segments); otherwise ``InvalidInput`` (``invalid_blob_key``)."""
    if not _SAFE_KEY.match(key) or ".." in key.split("/"):
        raise InvalidInput("Invalid storage key.", code="invalid_blob_key")
    return key
