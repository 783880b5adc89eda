"""Signing test tokens shaped like Supabase Auth's."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from entrypoints.settings import DEV_JWT_ISSUER, DEV_JWT_SECRET


def claims_for(subject: uuid.UUID | str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": str(subject),
        "aud": "authenticated",
        "role": "authenticated",
        "iss": DEV_JWT_ISSUER,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def hs256(subject: uuid.UUID | str, secret: str = DEV_JWT_SECRET, **overrides: Any) -> str:
    return jwt.encode(claims_for(subject, **overrides), secret, algorithm="HS256")


def service_token(secret: str = DEV_JWT_SECRET) -> str:
    now = int(time.time())
    claims = {"role": "service_role", "iss": DEV_JWT_ISSUER, "iat": now, "exp": now + 3600}
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def member_headers(subject: uuid.UUID | str | None = None) -> dict[str, str]:
    return bearer(hs256(subject or uuid.uuid4()))
