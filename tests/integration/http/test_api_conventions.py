"""Issue 16 §1, §2: one input-error convention on every endpoint of the served OpenAPI
document (docs/api.md). For each operation and each kind of malformed input that applies to
it — a malformed UUID in the path, a bad integer in the query, a cursor this server did not
make, a query parameter the endpoint does not declare, a body that is not JSON, a
wrong-typed body field, a NUL character in a text field or query value — the answer is 422
``application/problem+json`` of the same shape, with the kind's ``code`` and the offending
field in ``invalidParams`` (a body that cannot be read at all — not JSON — is 400 of the
same shape). New endpoints are covered without touching this file."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.clips.helpers import execute, scalar, upload
from tests.tokens import member_headers

PROBLEM = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "code", "detail", "instance", "requestId"}
METHODS = ("get", "put", "post", "delete", "patch")
NOT_OURS = "bm90LW91cnM"  # URL-safe base64 of "not-ours": the cursor pattern, not a position


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    def url(self, **overrides: str) -> str:
        url = self.path
        for parameter in self.parameters("path"):
            name = parameter["name"]
            value = overrides.get(name) or _valid_path_value(parameter)
            url = url.replace("{" + name + "}", value)
        return url

    def query(self, **values: str) -> dict[str, str]:
        """``values`` and a valid value for every other required query parameter (so that
        only the malformed one is at fault)."""
        chosen = dict(values)
        for parameter in self.parameters("query"):
            if parameter.get("required") and parameter["name"] not in chosen:
                chosen[parameter["name"]] = _valid_query_value(parameter)
        return chosen

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _valid_path_value(parameter: dict[str, Any]) -> str:
    if parameter["schema"].get("format") == "uuid":
        return str(uuid.uuid4())
    return "yo" if parameter["name"] == "language" else "ExponentPushToken[abc]"


def _valid_query_value(parameter: dict[str, Any]) -> str:
    schema = parameter["schema"]
    options = schema.get("oneOf") or [schema]
    for option in options:
        if "enum" in option:
            return str(option["enum"][0])
    if parameter["name"] == "language":
        return "yo"
    kinds = {option.get("type") for option in options}
    if "integer" in kinds:
        return str(schema.get("minimum", 1))
    return "true" if "boolean" in kinds else "x"


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield Operation(method.upper(), path, item[method])


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def json_body_schema(document: dict[str, Any], operation: Operation) -> dict[str, Any] | None:
    content = operation.spec.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return resolve(document, content["application/json"]["schema"])


def types_of(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    schema = resolve(document, schema)
    options = schema.get("oneOf") or schema.get("anyOf") or [schema]
    found: set[str] = set()
    for option in options:
        option = resolve(document, option)
        kind = option.get("type")
        found |= set(kind) if isinstance(kind, list) else {kind} if kind else set()
        if "enum" in option or "const" in option:
            found.add("string")
    return found


def wrong_value(kinds: set[str]) -> Any:
    """A JSON value of none of ``kinds``."""
    for candidate in ([1, 2], {"a": 1}, 12345, "text", True):
        if _json_type(candidate) not in kinds and not (
            isinstance(candidate, int) and not isinstance(candidate, bool) and "number" in kinds
        ):
            return candidate
    raise AssertionError(kinds)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def assert_input_problem(
    response, code: str, field: str | None = None, *, where: str, status: int = 422
) -> None:
    assert response.status_code == status, (where, response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), where
    body = response.json()
    assert body.keys() >= PROBLEM_MEMBERS, (where, body)
    assert (body["status"], body["code"]) == (status, code), (where, body)
    assert body["type"] == f"urn:problem:chorus:{code}", where
    assert body["requestId"], where
    assert body["instance"], where
    if field is not None:
        names = [param["name"] for param in body.get("invalidParams") or []]
        assert field in names, (where, body)


@pytest.fixture
async def api(make_app, engine):
    app = make_app(write_rate_limit_per_minute=100_000)
    async with AsyncTestClient(app=app) as client:
        subject = uuid.uuid4()
        await client.get("/me", headers=member_headers(subject))
        await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=subject)
        document = (await client.get("/docs/openapi.json")).json()
        yield client, member_headers(subject), document


async def test_every_operation_is_covered(api):
    _client, _headers, document = api
    found = list(operations(document))
    assert len(found) > 60
    assert any(op.parameters("path") for op in found)
    assert any(json_body_schema(document, op) for op in found)


async def test_a_malformed_uuid_in_any_path_is_422(api):
    client, headers, document = api
    checked = 0
    for op in operations(document):
        for parameter in op.parameters("path"):
            if parameter["schema"].get("format") != "uuid":
                continue
            url = op.url(**{parameter["name"]: "not-a-uuid"})
            response = await client.request(op.method, url, headers=headers)
            assert_input_problem(
                response, "invalid_path_parameter", parameter["name"], where=str(op)
            )
            checked += 1
    assert checked >= 15


async def test_an_undeclared_query_parameter_is_422_everywhere(api):
    client, headers, document = api
    for op in operations(document):
        response = await client.request(
            op.method, op.url() + "?surely_not_a_parameter=1", headers=headers
        )
        assert_input_problem(response, "unknown_parameter", "surely_not_a_parameter", where=str(op))


async def test_a_bad_integer_query_value_is_422_naming_it(api):
    client, headers, document = api
    checked = 0
    for op in operations(document):
        for parameter in op.parameters("query"):
            if "integer" not in types_of(document, parameter["schema"]):
                continue
            for bad in ("abc", "1.5", "-999999999999999999999"):
                response = await client.request(
                    op.method,
                    op.url(),
                    params=op.query(**{parameter["name"]: bad}),
                    headers=headers,
                )
                assert_input_problem(
                    response, "validation_failed", parameter["name"], where=f"{op} {bad}"
                )
            checked += 1
    assert checked >= 10


async def test_a_cursor_we_did_not_make_is_422_invalid_cursor(api):
    client, headers, document = api
    checked = 0
    for op in operations(document):
        if not any(p["name"] == "cursor" for p in op.parameters("query")):
            continue
        cursors = ["not a cursor!", "x" * 500]
        if not op.parameters("path"):  # no object to look up first: the cursor is read
            cursors.append(NOT_OURS)
        for cursor in cursors:
            response = await client.request(
                op.method, op.url(), params=op.query(cursor=cursor), headers=headers
            )
            assert_input_problem(response, "invalid_cursor", "cursor", where=f"{op} {cursor}")
        checked += 1
    assert checked >= 8


async def test_a_body_that_is_not_json_is_400_malformed_body(api):
    client, headers, document = api
    for op in operations(document):
        if json_body_schema(document, op) is None:
            continue
        for body in (b'{"a": ', b"not json", b""):
            response = await client.request(
                op.method,
                op.url(),
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            assert_input_problem(response, "malformed_body", where=f"{op} {body!r}", status=400)


def body_fields(document: dict[str, Any], op: Operation) -> dict[str, dict[str, Any]]:
    schema = json_body_schema(document, op)
    return dict((schema or {}).get("properties", {}))


async def test_a_wrong_typed_body_field_is_422_naming_the_field(api):
    client, headers, document = api
    checked = 0
    for op in operations(document):
        for name, field in body_fields(document, op).items():
            kinds = types_of(document, field)
            if not kinds:
                continue
            response = await client.request(
                op.method, op.url(), json={name: wrong_value(kinds)}, headers=headers
            )
            assert_input_problem(response, "validation_failed", name, where=f"{op} {name}")
            checked += 1
    assert checked >= 30


async def test_a_nul_character_in_any_text_field_is_422(api):
    client, headers, document = api
    checked = 0
    for op in operations(document):
        for name, field in body_fields(document, op).items():
            if "string" not in types_of(document, field):
                continue
            response = await client.request(
                op.method, op.url(), json={name: "a\u0000b"}, headers=headers
            )
            assert_input_problem(response, "nul_character", name, where=f"{op} {name}")
            checked += 1
        for parameter in op.parameters("query"):
            response = await client.request(
                op.method,
                op.url(),
                params=op.query(**{parameter["name"]: "\u0000"}),
                headers=headers,
            )
            assert_input_problem(
                response, "nul_character", parameter["name"], where=f"{op} ?{parameter['name']}"
            )
    assert checked >= 20


async def test_nul_is_refused_where_it_used_to_reach_the_database(api, engine):
    """The three fields issue 16 found answering 500, and a multipart one: nothing is
    written."""
    client, _headers, _document = api
    member = member_headers()
    name = await client.patch("/me", json={"displayName": "Ada\u0000"}, headers=member)
    assert_input_problem(name, "nul_character", "displayName", where="PATCH /me")
    device = await client.post(
        "/notifications/tokens",
        json={"token": "ExponentPushToken[abc]", "deviceName": "Pixel\u0000"},
        headers=member,
    )
    assert_input_problem(device, "nul_character", "deviceName", where="POST tokens")
    nested = await client.post(
        "/sync/push",
        json={
            "deviceId": "d1",
            "ops": [{"opId": str(uuid.uuid4()), "type": "vote", "payload": {"note": "x\u0000"}}],
        },
        headers=member,
    )
    assert_input_problem(nested, "nul_character", "ops[0].payload.note", where="POST /sync/push")
    clip = await upload(client, member, prompt="Bawo\u0000ni")
    assert_input_problem(clip, "nul_character", "prompt", where="POST /clips")
    assert await scalar(engine, "SELECT count(*) FROM voice_clips") == 0
    assert await scalar(engine, "SELECT count(*) FROM push_tokens") == 0
    assert (await client.get("/me", headers=member)).json()["displayName"] is None
