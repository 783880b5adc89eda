"""Verification of the bearer tokens callers present."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """What a verified token says about its bearer."""

    subject: UUID | None
    is_service: bool


class TokenVerifier(Protocol):
    """Checks signature, audience, expiry, not-before and issuer of a token."""

    async def verify(self, token: str) -> VerifiedToken:
        """The token's verified claims; raises ``NotAuthenticated`` on any failure."""
        ...
