"""Supabase Auth JWT verification with PyJWT.

HS256 tokens are checked with the project's JWT secret; ES256/RS256 tokens with the public
keys of the project's JWKS (cached; PyJWT refetches when it meets an unknown ``kid``). The
algorithm decides the key source, so a token can never pick its own verification key
(no ``alg: none``, no HS256 signed with a public key).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

import jwt

from core.errors import FeatureUnavailable, NotAuthenticated
from core.ports.token_verifier import VerifiedToken

ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "RS256"})
SERVICE_ROLE = "service_role"
SUPABASE_LEGACY_ISSUER = "supabase"
#: How many verified tokens are remembered (least recently used ones are forgotten first).
VERIFIED_CACHE_SIZE = 4096


class SupabaseJwtVerifier:
    """Implements ``core.ports.token_verifier.TokenVerifier``.

    The app sends one access token with every request until it refreshes it, so a token that
    passed every check is remembered (by its exact text, signature included) until it
    expires: later requests skip decoding and signature checking, which is most of the cost
    of authenticating a request. Nothing a later check could change is skipped: expiry is
    checked again each time, and bans live in the profile, which is read on every request.
    """

    def __init__(
        self,
        *,
        hs256_secret: str | None,
        jwks_url: str | None,
        audience: str = "authenticated",
        issuer: str | None = None,
        leeway_seconds: int = 10,
        jwks_cache_seconds: int = 600,
        jwks_refresh_cooldown_seconds: float = 30,
        cache_size: int = VERIFIED_CACHE_SIZE,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._verified: OrderedDict[str, tuple[VerifiedToken, float]] = OrderedDict()
        self._cache_size = cache_size
        self._now = now
        self._secret = hs256_secret
        self._audience = audience
        self._issuer = issuer
        self._leeway = leeway_seconds
        self._jwks = (
            jwt.PyJWKClient(
                jwks_url,
                cache_keys=True,
                lifespan=jwks_cache_seconds,
                timeout=5,
                # An unknown kid forces a refetch at most this often, so forged kids cannot
                # make us hammer the identity provider.
                cooldown_duration=jwks_refresh_cooldown_seconds,
            )
            if jwks_url
            else None
        )

    async def verify(self, token: str) -> VerifiedToken:
        remembered = self._verified.get(token)
        if remembered is not None:
            verified, expires_at = remembered
            if self._now() < expires_at + self._leeway:  # PyJWT's own expiry rule
                self._verified.move_to_end(token)
                return verified
            del self._verified[token]
            raise _refused("The bearer token has expired.", "token_expired")
        verified, expires_at = await self._verify(token)
        self._verified[token] = (verified, expires_at)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return verified

    async def _verify(self, token: str) -> tuple[VerifiedToken, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise _refused("The bearer token is malformed.") from error
        algorithm = str(header.get("alg"))
        key = await self._key_for(algorithm, token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                leeway=self._leeway,
                options={"require": ["exp"], "verify_aud": False, "verify_iss": False},
            )
        except jwt.ExpiredSignatureError as error:
            raise _refused("The bearer token has expired.", "token_expired") from error
        except jwt.ImmatureSignatureError as error:
            raise _refused("The bearer token is not valid yet.", "token_not_yet_valid") from error
        except jwt.PyJWTError as error:
            raise _refused("The bearer token could not be verified.") from error
        return self._identity(claims), float(claims["exp"])

    async def _key_for(self, algorithm: str, token: str) -> Any:
        if algorithm == "HS256":
            if not self._secret:
                raise _refused("HS256 tokens are not accepted here.")
            return self._secret
        if algorithm in ASYMMETRIC_ALGORITHMS:
            if self._jwks is None:
                raise _refused(f"{algorithm} tokens are not accepted here.")
            try:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWKClientConnectionError as error:
                raise FeatureUnavailable(
                    "The identity provider's keys cannot be fetched right now.",
                    code="jwks_unavailable",
                ) from error
            except jwt.PyJWTError as error:
                raise _refused("The bearer token's signing key is unknown.") from error
            if signing_key.algorithm_name != algorithm:
                raise _refused("The bearer token's algorithm does not match its key.")
            return signing_key.key
        raise _refused("The bearer token's algorithm is not accepted.")

    def _identity(self, claims: dict[str, Any]) -> VerifiedToken:
        issuer = claims.get("iss")
        if claims.get("role") == SERVICE_ROLE:
            if self._issuer and issuer not in {self._issuer, SUPABASE_LEGACY_ISSUER}:
                raise _refused("The bearer token's issuer is not trusted.", "token_wrong_issuer")
            return VerifiedToken(subject=None, is_service=True)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self._audience not in audiences:
            raise _refused("The bearer token is for another audience.", "token_wrong_audience")
        if self._issuer and issuer != self._issuer:
            raise _refused("The bearer token's issuer is not trusted.", "token_wrong_issuer")
        try:
            subject = UUID(str(claims.get("sub")))
        except ValueError as error:
            raise _refused("The bearer token has no valid subject.") from error
        return VerifiedToken(subject=subject, is_service=False)


def _refused(message: str, code: str = "invalid_token") -> NotAuthenticated:
    return NotAuthenticated(message, code=code)
