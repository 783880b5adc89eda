"""Minting HS256 tokens shaped like Supabase's, for local development only."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import jwt


def mint_token(
    *,
    secret: str,
    subject: UUID | None,
    now: datetime,
    ttl: timedelta,
    issuer: str | None,
    audience: str = "authenticated",
    service: bool = False,
) -> str:
    """A signed token for ``subject`` (or the service identity when ``service``)."""
    claims: dict[str, object] = {
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "role": "service_role" if service else "authenticated",
    }
    if not service:
        claims["sub"] = str(subject)
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
