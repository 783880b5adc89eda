"""Issue 11 §4: security headers on every answer; /metrics never public in production;
/docs can be switched off."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import AsyncTestClient

from entrypoints.settings import Environment, Secret
from tests.integration.http.test_auth import assert_problem
from tests.tokens import bearer, member_headers

METRICS_TOKEN = "m" * 24


async def test_private_answers_are_never_stored(client):
    headers = member_headers()
    for path in (
        "/me",
        "/monetization/balance",
        "/monetization/transactions",
        "/notifications",
        "/notifications/tokens",
        "/notifications/preferences",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-content-type-options"] == "nosniff", path


async def test_errors_and_routing_answers_carry_the_headers_too(client):
    for response in (
        await client.get("/me"),  # 401
        await client.get("/nowhere"),  # 404 from routing
        await client.put("/me", headers=member_headers()),  # 405
        await client.get("/health"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "litestar" not in response.headers.get("server", "").lower()


async def test_metrics_are_open_in_development_without_a_token(client):
    assert (await client.get("/metrics")).status_code == 200


async def test_metrics_are_absent_in_production_without_a_token(make_app, settings):
    production = replace(settings, environment=Environment.PRODUCTION)
    async with AsyncTestClient(app=make_app(production)) as prod:
        assert_problem(await prod.get("/metrics"), 404)


async def test_metrics_need_the_token_when_one_is_set(make_app, settings):
    for environment in (Environment.PRODUCTION, Environment.TEST):
        guarded = replace(settings, environment=environment, metrics_token=Secret(METRICS_TOKEN))
        async with AsyncTestClient(app=make_app(guarded)) as app:
            missing = await app.get("/metrics")
            assert_problem(missing, 401)
            assert missing.headers["www-authenticate"].startswith("Bearer")
            assert_problem(await app.get("/metrics", headers=bearer("m" * 23 + "x")), 401)
            # A member's valid JWT is not the metrics token.
            assert_problem(await app.get("/metrics", headers=member_headers()), 401)
            scraped = await app.get("/metrics", headers=bearer(METRICS_TOKEN))
            assert scraped.status_code == 200
            assert "chorus_" in scraped.text or "python_" in scraped.text


async def test_docs_can_be_switched_off(make_app, settings):
    async with AsyncTestClient(app=make_app(replace(settings, docs_enabled=False))) as app:
        for path in ("/docs", "/docs/openapi.json", "/docs/scalar"):
            assert_problem(await app.get(path), 404)
        assert (await app.get("/health")).status_code == 200
