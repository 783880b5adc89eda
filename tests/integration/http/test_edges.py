"""SPEC §14: every error path is problem+json with a stable code; probes; OpenAPI."""

from __future__ import annotations

import uuid

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.http.test_auth import assert_problem
from tests.tokens import member_headers


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_ready_is_503_when_the_database_is_unreachable(make_app, settings):
    from dataclasses import replace

    from entrypoints.settings import Secret

    gone = replace(settings, database_url=Secret("postgresql://nobody@127.0.0.1:1/none"))
    async with AsyncTestClient(app=make_app(gone)) as offline:
        assert_problem(await offline.get("/ready"), 503, "storage_unavailable")
        assert (await offline.get("/health")).status_code == 200


async def test_ready_is_503_when_migrations_are_behind(client, engine):
    import sqlalchemy as sa

    async with engine.begin() as connection:
        await connection.execute(sa.text("DELETE FROM alembic_version"))
        await connection.execute(sa.text("INSERT INTO alembic_version VALUES ('0000')"))
    try:
        assert_problem(await client.get("/ready"), 503, "migrations_pending")
    finally:
        from adapters.postgres import migrate

        async with engine.begin() as connection:
            await connection.execute(sa.text("DELETE FROM alembic_version"))
            for head in migrate.head_revisions():
                await connection.execute(
                    sa.text("INSERT INTO alembic_version VALUES (:head)"), {"head": head}
                )


async def test_malformed_json_is_400(client):
    response = await client.patch(
        "/me",
        content=b'{"displayName": ',
        headers={**member_headers(), "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed_body")


async def test_unknown_and_mistyped_fields_are_422_with_the_field_named(client):
    headers = member_headers()
    response = await client.patch("/me", json={"languages": "yo"}, headers=headers)
    assert_problem(response, 422, "validation_failed")
    assert response.json()["invalidParams"] == [
        {"name": "languages", "reason": "Expected `array | null`, got `str`"}
    ]
    assert_problem(await client.patch("/me", json={"nope": 1}, headers=headers), 422)


async def test_domain_rule_violation_is_422(client):
    response = await client.patch("/me", json={"displayName": "   "}, headers=member_headers())
    assert_problem(response, 422, "invalid_display_name")


async def test_oversized_body_is_413_and_nothing_is_written(client):
    subject = uuid.uuid4()
    headers = {**member_headers(subject), "Content-Type": "application/json"}
    huge = b'{"displayName": "' + b"a" * 2_000_000 + b'"}'
    refused = await client.patch("/me", content=huge, headers=headers)
    assert_problem(refused, 413, "body_too_large")
    assert refused.json()["detail"] == (
        "The request body is larger than this endpoint's limit of 1048576 bytes (1 MiB)."
    )
    assert (await client.get("/me", headers=member_headers(subject))).json()["displayName"] is None


async def test_wrong_content_type_is_415(client):
    response = await client.patch(
        "/me",
        content=b'{"displayName": "x"}',
        headers={**member_headers(), "Content-Type": "text/plain"},
    )
    assert_problem(response, 415, "unsupported_media_type")


async def test_unknown_route_is_404_and_wrong_method_is_405(client):
    assert_problem(await client.get("/no/such/thing"), 404, "not_found")
    assert_problem(await client.delete("/health"), 405, "method_not_allowed")


async def test_request_id_is_kept_or_made(client):
    kept = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    unsafe = await client.get("/health", headers={"X-Request-ID": "evil id;" * 20})
    assert len(unsafe.headers["x-request-id"]) == 32
    missing = await client.get("/missing", headers={"X-Request-ID": "trace-9"})
    assert missing.json()["requestId"] == "trace-9"


async def test_writes_are_rate_limited_per_member(make_app):
    async with AsyncTestClient(app=make_app(write_rate_limit_per_minute=3)) as limited:
        mine, theirs = member_headers(), member_headers()
        statuses = [
            (await limited.patch("/me", json={"displayName": f"n{i}"}, headers=mine)).status_code
            for i in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        blocked = await limited.patch("/me", json={"displayName": "x"}, headers=mine)
        assert_problem(blocked, 429, "rate_limited")
        assert int(blocked.headers["retry-after"]) >= 1
        assert (
            await limited.patch("/me", json={"displayName": "y"}, headers=theirs)
        ).status_code == 200
        assert (await limited.get("/me", headers=mine)).status_code == 200


async def test_openapi_documents_bearer_auth_and_problems(client):
    schema = (await client.get("/docs/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    me = schema["paths"]["/me"]
    assert me["get"]["security"] == [{"BearerAuth": []}]
    for status in ("401", "403", "429", "500"):
        assert "application/problem+json" in me["patch"]["responses"][status]["content"]
    assert (await client.get("/docs")).status_code == 200


async def test_metrics_are_exposed(client):
    await client.get("/health")
    await client.get("/me")
    body = (await client.get("/metrics")).text
    assert "chorus_requests_total" in body
    in_flight = [
        line for line in body.splitlines() if line.startswith("chorus_requests_in_progress{")
    ]
    # Requests in flight have no status yet: the gauge is labelled by method only, so
    # each series goes back to 0 instead of leaving one stale series per status.
    assert in_flight
    assert all("status_code" not in line and "method=" in line for line in in_flight)


async def test_gzip_for_large_responses(client):
    response = await client.get("/docs/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert response.headers.get("content-encoding") == "gzip"


async def test_cors_allows_only_configured_origins(make_app):
    app = make_app(cors_origins=("https://app.chorus.example",))
    async with AsyncTestClient(app=app) as cors:
        allowed = await cors.options(
            "/me",
            headers={
                "Origin": "https://app.chorus.example",
                "Access-Control-Request-Method": "GET",
            },
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.chorus.example"
        denied = await cors.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in denied.headers


@pytest.mark.parametrize("path", ["/me"])
async def test_patch_me_round_trip(client, path):
    headers = member_headers()
    body = {"displayName": " Ngozi  A. ", "languages": ["ig", "en-ng"], "payoutCurrency": "ngn"}
    response = await client.patch(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == "Ngozi A."
    assert response.json()["languages"] == ["ig", "en-NG"]
    assert response.json()["payoutCurrency"] == "NGN"
    assert (await client.get(path, headers=headers)).json() == response.json()


async def test_writes_go_through_when_the_rate_limit_store_is_down(make_app, capsys):
    from entrypoints.settings import Secret

    unreachable = Secret("redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=make_app(redis_url=unreachable)) as app:
        response = await app.patch("/me", json={"displayName": "ok"}, headers=member_headers())
        assert response.status_code == 200, response.text
    assert "rate_limiter_unavailable" in capsys.readouterr().err
