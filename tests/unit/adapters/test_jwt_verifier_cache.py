"""Remembered tokens: verified once, still refused once expired or when altered."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from adapters.auth.dev_tokens import mint_token
from adapters.auth.supabase_jwt import SupabaseJwtVerifier
from core.errors import NotAuthenticated

SECRET = "a-test-secret-that-is-long-enough-for-hs256"


class SteppingClock:
    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _verifier(clock: SteppingClock, cache_size: int = 8) -> SupabaseJwtVerifier:
    return SupabaseJwtVerifier(
        hs256_secret=SECRET, jwks_url=None, leeway_seconds=5, cache_size=cache_size, now=clock
    )


def _token(subject: uuid.UUID, ttl: timedelta = timedelta(minutes=1)) -> str:
    return mint_token(secret=SECRET, subject=subject, now=datetime.now(UTC), ttl=ttl, issuer=None)


async def test_a_remembered_token_is_refused_once_it_expires() -> None:
    clock = SteppingClock()
    verifier = _verifier(clock)
    member = uuid.uuid4()
    token = _token(member)
    assert (await verifier.verify(token)).subject == member
    assert (await verifier.verify(token)).subject == member

    clock.offset = 60 + 4  # inside the leeway
    assert (await verifier.verify(token)).subject == member
    clock.offset = 60 + 6
    with pytest.raises(NotAuthenticated) as refused:
        await verifier.verify(token)
    assert refused.value.code == "token_expired"


async def test_an_altered_remembered_token_is_verified_again_and_refused() -> None:
    verifier = _verifier(SteppingClock())
    token = _token(uuid.uuid4())
    await verifier.verify(token)
    header, payload, signature = token.split(".")
    forged = ".".join(
        [header, payload, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")]
    )
    with pytest.raises(NotAuthenticated):
        await verifier.verify(forged)


async def test_refused_tokens_are_not_remembered() -> None:
    verifier = _verifier(SteppingClock())
    expired = _token(uuid.uuid4(), ttl=timedelta(minutes=-5))
    for _ in range(2):
        with pytest.raises(NotAuthenticated) as refused:
            await verifier.verify(expired)
        assert refused.value.code == "token_expired"


async def test_the_cache_stays_bounded_and_forgets_the_least_recently_used() -> None:
    verifier = _verifier(SteppingClock(), cache_size=3)
    members = [uuid.uuid4() for _ in range(5)]
    tokens = [_token(member) for member in members]
    for token in tokens:
        await verifier.verify(token)
    await verifier.verify(tokens[2])  # most recently used now
    await verifier.verify(tokens[0])  # verified again, pushes out the oldest (tokens[3])
    remembered = list(verifier._verified)
    assert len(remembered) == 3
    assert remembered == [tokens[4], tokens[2], tokens[0]]
