"""SPEC §3: every bad token gets 401 problem+json; banned members 403; first sight is race-safe."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar.testing import AsyncTestClient

from adapters.auth.supabase_jwt import SupabaseJwtVerifier
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Secret
from tests.contracts.jwks_server import JwksServer
from tests.tokens import bearer, claims_for, hs256, member_headers, service_token

PROBLEM = "application/problem+json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assert_problem(response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"]
    if code:
        assert body["code"] == code
    assert body["requestId"]


async def test_no_token_is_401(client):
    response = await client.get("/me")
    assert_problem(response, 401, "missing_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_valid_token_returns_my_profile(client):
    subject = uuid.uuid4()
    response = await client.get("/me", headers=member_headers(subject))
    assert response.status_code == 200
    assert response.json()["id"] == str(subject)
    assert response.json()["role"] == "member"


@pytest.mark.parametrize(
    ("label", "overrides", "code"),
    [
        ("expired", {"exp": int(time.time()) - 120}, "token_expired"),
        ("not yet valid", {"nbf": int(time.time()) + 600}, "token_not_yet_valid"),
        ("wrong audience", {"aud": "anon"}, "token_wrong_audience"),
        ("no audience", {"aud": None}, "token_wrong_audience"),
        ("wrong issuer", {"iss": "https://evil.example/auth/v1"}, "token_wrong_issuer"),
        ("no expiry", {"exp": None}, "invalid_token"),
        ("subject not a uuid", {"sub": "admin"}, "invalid_token"),
    ],
)
async def test_bad_claims_are_401(client, label, overrides, code):
    response = await client.get("/me", headers=bearer(hs256(uuid.uuid4(), **overrides)))
    assert_problem(response, 401, code)


async def test_wrong_signature_is_401(client):
    forged = hs256(uuid.uuid4(), secret="another-secret-that-is-long-enough-0000")
    assert_problem(await client.get("/me", headers=bearer(forged)), 401, "invalid_token")


async def test_alg_none_is_401(client):
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_for(uuid.uuid4())).encode())
    assert_problem(await client.get("/me", headers=bearer(f"{header}.{payload}.")), 401)


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "", "Bearer"])
async def test_garbage_tokens_are_401(client, garbage):
    assert_problem(await client.get("/me", headers={"Authorization": f"Bearer {garbage}"}), 401)


async def test_other_schemes_are_401(client):
    assert_problem(await client.get("/me", headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def jwks(rsa_key, ec_key) -> Iterator[JwksServer]:
    server = JwksServer()
    rsa_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
    ec_jwk = jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
    server.keys = [
        {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
        {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
    ]
    with server.running():
        yield server


@pytest.fixture
async def jwks_client(settings, jwks):
    issuer = f"{jwks.base_url}/auth/v1"
    chosen = replace(settings, supabase_url=jwks.base_url, jwt_issuer=issuer)
    container = Container(settings=chosen)
    container.token_verifier.override(
        SupabaseJwtVerifier(
            hs256_secret=None,
            jwks_url=chosen.jwks_url,
            issuer=issuer,
            jwks_refresh_cooldown_seconds=0,
        )
    )
    app = create_app(chosen, container)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client, issuer


async def test_rs256_and_es256_tokens_from_the_jwks_are_accepted(jwks_client, rsa_key, ec_key):
    client, issuer = jwks_client
    for key, alg, kid in ((rsa_key, "RS256", "rsa-1"), (ec_key, "ES256", "ec-1")):
        subject = uuid.uuid4()
        token = jwt.encode(
            claims_for(subject, iss=issuer), key, algorithm=alg, headers={"kid": kid}
        )
        response = await client.get("/me", headers=bearer(token))
        assert response.status_code == 200, response.text
        assert response.json()["id"] == str(subject)


async def test_unknown_kid_refetches_the_jwks(jwks_client, jwks):
    client, issuer = jwks_client
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    first = jwt.encode(
        claims_for(uuid.uuid4(), iss=issuer), rotated, algorithm="RS256", headers={"kid": "rsa-2"}
    )
    assert_problem(await client.get("/me", headers=bearer(first)), 401)
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rotated.public_key(), as_dict=True)
    jwks.keys.append({**jwk, "kid": "rsa-2", "alg": "RS256", "use": "sig"})
    response = await client.get("/me", headers=bearer(first))
    assert response.status_code == 200, response.text


async def test_hs256_signed_with_the_public_key_is_401(jwks_client, rsa_key):
    """Algorithm confusion: the RSA public key used as an HMAC secret must not verify."""
    client, issuer = jwks_client
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = _b64(json.dumps(claims_for(uuid.uuid4(), iss=issuer)).encode())
    import hashlib
    import hmac

    signature = _b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert_problem(await client.get("/me", headers=bearer(f"{header}.{payload}.{signature}")), 401)


async def test_rs256_token_signed_by_an_unknown_key_is_401(jwks_client):
    client, issuer = jwks_client
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(
        claims_for(uuid.uuid4(), iss=issuer), stranger, algorithm="RS256", headers={"kid": "rsa-1"}
    )
    assert_problem(await client.get("/me", headers=bearer(token)), 401)


async def test_rs256_is_refused_without_a_jwks(client, rsa_key):
    token = jwt.encode(claims_for(uuid.uuid4()), rsa_key, algorithm="RS256", headers={"kid": "x"})
    assert_problem(await client.get("/me", headers=bearer(token)), 401)


async def test_banned_member_is_403_and_suspended_member_reads(client, engine):
    subject = uuid.uuid4()
    assert (await client.get("/me", headers=member_headers(subject))).status_code == 200
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE profiles SET status = 'suspended' WHERE id = :id"), {"id": subject}
        )
    assert (await client.get("/me", headers=member_headers(subject))).status_code == 200
    patch = await client.patch("/me", json={"displayName": "x"}, headers=member_headers(subject))
    assert_problem(patch, 403, "account_suspended")
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE profiles SET status = 'banned' WHERE id = :id"), {"id": subject}
        )
    assert_problem(await client.get("/me", headers=member_headers(subject)), 403, "account_banned")


async def test_service_identity_is_not_a_member(client):
    response = await client.get("/me", headers=bearer(service_token()))
    assert_problem(response, 403, "member_required")


async def test_fifty_concurrent_first_requests_create_one_profile(client, engine):
    subject = uuid.uuid4()
    headers = member_headers(subject)
    responses = await asyncio.gather(*(client.get("/me", headers=headers) for _ in range(50)))
    assert [r.status_code for r in responses] == [200] * 50
    assert {r.json()["id"] for r in responses} == {str(subject)}
    async with engine.connect() as connection:
        profiles = await connection.scalar(
            sa.text("SELECT count(*) FROM profiles WHERE id = :id"), {"id": subject}
        )
        created = await connection.scalar(
            sa.text(
                "SELECT count(*) FROM outbox WHERE name = 'profile.created' "
                "AND payload->>'profileId' = :id"
            ),
            {"id": str(subject)},
        )
    assert (profiles, created) == (1, 1)


async def test_secrets_never_show_in_settings_repr(settings):
    assert "chorus-dev-only" not in repr(settings)
    assert isinstance(settings.supabase_jwt_secret, Secret)
