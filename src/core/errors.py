"""Domain errors. Each carries a stable machine ``code``; only the HTTP edge maps them to
status codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class DomainError(Exception):
    """Base of every error a use case may raise on purpose. ``extra`` carries facts for the
    client; ``field="<wire name>"`` names the one input at fault (shown as the problem's
    ``invalidParams``)."""

    code: str = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra: Mapping[str, Any] = extra


class InvalidInput(DomainError):
    """The request is well-formed but breaks a domain rule about its values."""

    code = "invalid_input"


class NotAuthenticated(DomainError):
    """No identity, or the credentials could not be verified."""

    code = "not_authenticated"


class PermissionDenied(DomainError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    code = "not_found"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    code = "conflict"


class RateLimited(DomainError):
    """The caller does this too often; ``extra["retry_after_seconds"]`` says when to retry."""

    code = "rate_limited"


class FeatureUnavailable(DomainError):
    """An optional integration is not configured, or is down."""

    code = "feature_unavailable"


class StorageUnavailable(DomainError):
    """The database (or another store) could not be reached; retrying later may work."""

    code = "storage_unavailable"
