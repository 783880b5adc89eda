"""Issue 11 §2: JSON nested a thousand levels deep is a 422 problem on every JSON endpoint,
before authentication, with nothing logged as an error."""

from __future__ import annotations

import pytest

from tests.integration.http.test_auth import assert_problem
from tests.integration.security.routes import endpoints
from tests.tokens import member_headers

ATTACK = b"[" * 1000 + b"]" * 1000
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def json_endpoints(client):
    found = [endpoint for endpoint in endpoints(client.app) if endpoint.takes_json]
    assert len(found) >= 10
    return found


@pytest.mark.parametrize("authenticated", [False, True])
async def test_every_json_endpoint_refuses_deep_nesting(
    client, json_endpoints, capsys, authenticated
):
    headers = {**JSON, **(member_headers() if authenticated else {})}
    for endpoint in json_endpoints:
        response = await client.request(
            endpoint.method, endpoint.url(), content=ATTACK, headers=headers
        )
        assert_problem(response, 400, "json_too_deep")
    logged = capsys.readouterr().err
    assert "RecursionError" not in logged
    assert "unhandled_error" not in logged


async def test_deep_nesting_inside_an_object_is_refused_too(client):
    body = b'{"displayName": ' + b'{"a":' * 500 + b"1" + b"}" * 500 + b"}"
    response = await client.patch("/me", content=body, headers={**JSON, **member_headers()})
    assert_problem(response, 400, "json_too_deep")


async def test_brackets_in_text_are_not_nesting(client):
    name = "[" * 60
    response = await client.patch("/me", json={"displayName": name}, headers=member_headers())
    assert response.status_code == 200, response.text
    assert response.json()["displayName"] == name


async def test_a_signed_webhook_body_is_not_parsed_before_its_signature(client):
    response = await client.post("/live/webhook", content=ATTACK, headers=JSON)
    assert_problem(response, 401)
