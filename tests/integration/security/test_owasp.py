"""Issue 11 §8: the OWASP API Security Top 10 probes, kept as tests.

- API1 broken object-level authorization: every operation that takes an id (in its path or
  body) has a probe here — a new one fails ``test_every_id_taking_operation_has_a_probe``
  until it gets one — and another member can neither read nor change the object.
- API2 broken authentication: every operation but the probes and the providers' signed
  webhooks (LiveKit, Paystack, Stripe) wants a bearer token.
- API3 broken object-property authorization: no body takes fields it does not declare
  (``role``, ``profileId`` … are refused, nothing changes).
- API4 unrestricted resource consumption: bodies, pages, nesting and writes are bounded.
- API5 broken function-level authorization: a member gets 403 from every admin operation.
- API8 security misconfiguration: headers on every answer, no framework banner.
- API9 improper inventory: every route the app serves is documented (or deliberately not).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.postgres.unit_of_work import PostgresUnitOfWork
from core.domain.ledger import reward_earned, reward_released
from core.domain.money import Money
from tests.contracts.livekit_server import LiveKitContractServer, livekit_server
from tests.integration.clips.helpers import upload
from tests.integration.http.test_auth import assert_problem
from tests.integration.http.test_live import live_app
from tests.integration.security.routes import Endpoint, endpoints
from tests.tokens import member_headers

__all__ = ["livekit_server"]  # the fixture, re-exported for pytest

PUBLIC = {
    "GET /health",
    "GET /ready",
    "POST /live/webhook",
    "POST /monetization/webhooks/paystack",
    "POST /monetization/webhooks/paystack/approval",
    "POST /monetization/webhooks/stripe",
}
# Operations that take ids and what they reveal by design (live streams and their chat are
# open to every member; clips must be heard by validators).
ADMIN_ONLY = {
    "PUT /admin/clips/{clip_id}/gold",
    "DELETE /admin/clips/{clip_id}/gold",
    "GET /admin/validators/{validator_id}/standing",
    "GET /admin/payouts",
    "GET /admin/badges",
    "POST /admin/badges",
    "GET /admin/badges/{badge_id}",
    "PATCH /admin/badges/{badge_id}",
    "DELETE /admin/badges/{badge_id}",
    "POST /badges/award",
    "GET /monetization/rates",
    "POST /monetization/rates",
}


@pytest.fixture
async def client(
    make_app: Callable[..., Litestar], livekit_server: LiveKitContractServer
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=live_app(make_app, livekit_server.url)) as test_client:
        yield test_client


class Member:
    def __init__(self) -> None:
        self.id = uuid.uuid4()
        self.headers = member_headers(self.id)


# -- API1: object-level authorization --------------------------------------------------------

Probe = Callable[[AsyncTestClient[Litestar], AsyncEngine, Member, Member], Awaitable[None]]
PROBES: dict[str, Probe] = {}


def probe(*operations: str) -> Callable[[Probe], Probe]:
    def register(function: Probe) -> Probe:
        for operation in operations:
            PROBES[operation] = function
        return function

    return register


async def ada_clip(client: AsyncTestClient[Litestar], ada: Member) -> str:
    response = await upload(client, ada.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@probe("GET /clips/{clip_id}", "GET /clips/{clip_id}/audio")
async def others_see_a_clip_without_its_private_details(client, engine, ada, bob) -> None:
    clip_id = await ada_clip(client, ada)
    seen = (await client.get(f"/clips/{clip_id}", headers=bob.headers)).json()
    assert seen["id"] == clip_id
    private = ("status", "clientId", "validVotes", "invalidVotes", "decidedAt")
    assert [seen[name] for name in private] == [None] * len(private)  # present, null
    audio = await client.get(f"/clips/{clip_id}/audio", headers=bob.headers)
    assert audio.status_code == 200  # validators must hear it
    assert audio.headers["cache-control"].startswith("private")


@probe("POST /monetization/validate", "POST /monetization/skip")
async def nobody_votes_on_their_own_clip(client, engine, ada, bob) -> None:
    clip_id = await ada_clip(client, ada)
    own = await client.post(
        "/monetization/validate", json={"clipId": clip_id, "verdict": "valid"}, headers=ada.headers
    )
    assert_problem(own, 403)
    unknown = await client.post(
        "/monetization/skip", json={"clipId": str(uuid.uuid4())}, headers=bob.headers
    )
    assert_problem(unknown, 404)


@probe(*sorted(op for op in ADMIN_ONLY if "{" in op))
async def admin_objects_are_refused_to_members(client, engine, ada, bob) -> None:
    clip_id = await ada_clip(client, ada)
    assert_problem(
        await client.put(
            f"/admin/clips/{clip_id}/gold", json={"verdict": "valid"}, headers=bob.headers
        ),
        403,
    )
    assert_problem(await client.delete(f"/admin/clips/{clip_id}/gold", headers=bob.headers), 403)
    standing = await client.get(f"/admin/validators/{ada.id}/standing", headers=bob.headers)
    assert standing.status_code in (403, 404), standing.text


@probe("DELETE /notifications/tokens/{token}", "POST /notifications/tokens")
async def nobody_removes_another_members_device(client, engine, ada, bob) -> None:
    token = "ExponentPushToken[owasp-ada]"
    registered = await client.post(
        "/notifications/tokens", json={"token": token}, headers=ada.headers
    )
    assert registered.status_code == 201, registered.text
    path = f"/notifications/tokens/{quote(token, safe='')}"
    assert_problem(await client.delete(path, headers=bob.headers), 404)
    for device in ({}, {"deviceId": "bobs-install"}):
        taken = await client.post(
            "/notifications/tokens", json={"token": token, **device}, headers=bob.headers
        )
        assert_problem(taken, 409, "push_token_in_use")
    mine = (await client.get("/notifications/tokens", headers=ada.headers)).json()["items"]
    assert [item["token"] for item in mine] == [token]


@probe("POST /notifications/{notification_id}/read")
async def nobody_reads_another_members_notification(client, engine, ada, bob) -> None:
    notification_id = uuid.uuid4()
    await client.get("/me", headers=ada.headers)  # Ada's profile exists
    async with engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO notifications (id, profile_id, category, title, body, data, "
                "created_at) VALUES (:id, :profile, 'badge', 'New badge', 'b', '{}', :now)"
            ),
            {"id": notification_id, "profile": ada.id, "now": datetime.now(UTC)},
        )
    marked = await client.post(f"/notifications/{notification_id}/read", headers=bob.headers)
    assert_problem(marked, 404)
    assert (await client.get("/notifications", headers=bob.headers)).json()["items"] == []
    feed = (await client.get("/notifications", headers=ada.headers)).json()
    assert [item["readAt"] for item in feed["items"]] == [None]


@probe(
    "GET /live/{stream_id}",
    "GET /live/{stream_id}/messages",
    "POST /live/{stream_id}/messages",
    "POST /live/token",
    "POST /live/end",
)
async def only_the_host_ends_or_hosts_a_stream(client, engine, ada, bob) -> None:
    started = await client.post(
        "/live/start", json={"title": "Ada live", "language": "yo"}, headers=ada.headers
    )
    stream_id = started.json()["stream"]["id"]
    # Open to every member by design: the stream and its chat.
    assert (await client.get(f"/live/{stream_id}", headers=bob.headers)).status_code == 200
    chat = await client.post(
        f"/live/{stream_id}/messages", json={"body": "hello"}, headers=bob.headers
    )
    assert chat.status_code == 201, chat.text
    assert (await client.get(f"/live/{stream_id}/messages", headers=bob.headers)).status_code == 200
    hosting = await client.post(
        "/live/token", json={"streamId": stream_id, "role": "host"}, headers=bob.headers
    )
    assert_problem(hosting, 403)
    assert_problem(
        await client.post("/live/end", json={"streamId": stream_id}, headers=bob.headers), 403
    )
    assert (await client.get(f"/live/{stream_id}", headers=bob.headers)).json()["status"] == "live"


async def funded(
    client: AsyncTestClient[Litestar], engine: AsyncEngine, member: Member, minor: int
) -> None:
    """``minor`` kobo earned for a clip of ``member``'s and released (through the ledger
    adapter, so the database's own checks run)."""
    clip_id = uuid.UUID(await ada_clip(client, member))
    now = datetime.now(UTC)
    async with PostgresUnitOfWork(engine) as uow:
        earned = reward_earned(
            transaction_id=uuid.uuid4(),
            profile_id=member.id,
            clip_id=clip_id,
            reward_kind="clip_accepted",
            amount=Money(minor, "NGN"),
            occurred_at=now,
        )
        await uow.ledger.post(earned)
        await uow.ledger.post(
            reward_released(transaction_id=uuid.uuid4(), earning=earned, occurred_at=now)
        )
        await uow.commit()


async def sandbox_destination(client: AsyncTestClient[Litestar], member: Member) -> str:
    account = {"kind": "bank_account", "currency": "NGN", "accountNumber": "0123456789",
               "bankCode": "058"}  # fmt: skip
    resolved = await client.post(
        "/monetization/payout-destinations/resolve", json=account, headers=member.headers
    )
    assert resolved.status_code == 200, resolved.text
    saved = await client.post(
        "/monetization/payout-destinations",
        json={**account, "accountName": resolved.json()["accountName"]},
        headers=member.headers,
    )
    assert saved.status_code == 201, saved.text
    return str(saved.json()["id"])


@probe(
    "GET /monetization/payouts/{payout_id}",
    "DELETE /monetization/payout-destinations/{destination_id}",
    "POST /monetization/payout",
)
async def nobody_reads_or_uses_another_members_payouts(client, engine, ada, bob) -> None:
    for member in (ada, bob):
        await funded(client, engine, member, 100_000)
    destination = await sandbox_destination(client, ada)
    requested = await client.post(
        "/monetization/payout",
        json={"amountMinor": 60_000, "currency": "NGN"},
        headers={**ada.headers, "Idempotency-Key": "owasp-ada-1"},
    )
    assert requested.status_code == 201, requested.text
    payout = requested.json()["id"]
    assert_problem(await client.get(f"/monetization/payouts/{payout}", headers=bob.headers), 404)
    gone = await client.delete(
        f"/monetization/payout-destinations/{destination}", headers=bob.headers
    )
    assert_problem(gone, 404)
    stolen = await client.post(
        "/monetization/payout",
        json={"amountMinor": 60_000, "currency": "NGN", "destinationId": destination},
        headers={**bob.headers, "Idempotency-Key": "owasp-bob-1"},
    )
    assert_problem(stolen, 404, "destination_not_found")
    mine = (await client.get("/monetization/payouts", headers=ada.headers)).json()["items"]
    assert [item["id"] for item in mine] == [payout]
    assert (await client.get("/monetization/payouts", headers=bob.headers)).json()["items"] == []


PRIVATE_BADGE_METRICS = {
    "lifetime_earnings",
    "payouts_paid",
    "accuracy",
    "validations_agreed",
    "weekly_goal",
}


@probe("GET /badges/user/{profile_id}", "POST /badges/award")
async def others_see_public_badges_only_and_members_award_nothing(client, engine, ada, bob) -> None:
    def metrics(view: dict[str, Any]) -> set[str]:
        earned = {item["badge"]["criterion"]["metric"] for item in view["earned"]}
        pending = {item["badge"]["criterion"]["metric"] for item in view["progress"]}
        return earned | pending

    admin = Member()
    await client.get("/me", headers=admin.headers)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE profiles SET role = 'admin' WHERE id = :id"), {"id": admin.id}
        )
    for code, criterion in (
        ("owasp_public", {"metric": "clips_submitted", "threshold": 5}),
        ("owasp_private", {"metric": "lifetime_earnings", "threshold": 100, "currency": "NGN"}),
    ):
        made = await client.post(
            "/admin/badges",
            json={"code": code, "name": code, "criterion": criterion},
            headers=admin.headers,
        )
        assert made.status_code == 201, made.text
    await client.get("/me", headers=ada.headers)
    own = await client.get(f"/badges/user/{ada.id}", headers=ada.headers)
    seen = await client.get(f"/badges/user/{ada.id}", headers=bob.headers)
    assert own.status_code == seen.status_code == 200, (own.text, seen.text)
    assert PRIVATE_BADGE_METRICS & metrics(own.json())
    assert not PRIVATE_BADGE_METRICS & metrics(seen.json())
    award = await client.post(
        "/badges/award",
        json={"profileId": str(bob.id), "badgeCode": "first_clip", "reason": "me"},
        headers=bob.headers,
    )
    assert_problem(award, 403)
    assert (await client.get(f"/badges/user/{bob.id}", headers=bob.headers)).json()["earned"] == []


@probe("GET /leaderboards/{language}")
async def leaderboards_name_only_those_who_opted_in(client, engine, ada, bob) -> None:
    board = await client.get("/leaderboards/yo", headers=bob.headers)
    assert board.status_code == 200, board.text
    assert "profileId" not in board.text
    assert str(ada.id) not in board.text


@probe("POST /moderation/flags", "POST /moderation/decisions")
async def members_flag_others_but_never_decide_nor_read_the_reports(
    client, engine, ada, bob
) -> None:
    clip_id = await ada_clip(client, ada)
    own = await client.post(
        "/moderation/flags",
        json={"targetType": "clip", "targetId": clip_id, "reason": "offensive"},
        headers=ada.headers,
    )
    assert_problem(own, 403, "own_content")
    flagged = await client.post(
        "/moderation/flags",
        json={"targetType": "clip", "targetId": clip_id, "reason": "offensive"},
        headers=bob.headers,
    )
    assert flagged.status_code == 201, flagged.text
    for path in ("/moderation/queue", "/moderation/audit"):
        assert_problem(await client.get(path, headers=ada.headers), 403)
    decided = await client.post(
        "/moderation/decisions",
        json={"targetType": "clip", "targetId": clip_id, "action": "dismiss",
              "reason": "no_violation"},
        headers=ada.headers,
    )  # fmt: skip
    assert_problem(decided, 403)


@probe("POST /sync/push")
async def pushed_operations_are_refused_as_online(client, engine, ada, bob) -> None:
    clip_id = await ada_clip(client, ada)
    pushed = await client.post(
        "/sync/push",
        json={"deviceId": "ada-phone", "ops": [
            {"opId": str(uuid.uuid4()), "type": "validation.submit",
             "payload": {"clipId": clip_id, "verdict": "valid"},
             "occurredAt": datetime.now(UTC).isoformat()},
            {"opId": str(uuid.uuid4()), "type": "notification.read",
             "payload": {"notificationId": str(uuid.uuid4())},
             "occurredAt": datetime.now(UTC).isoformat()},
        ]},
        headers=ada.headers,
    )  # fmt: skip
    assert pushed.status_code == 200, pushed.text
    codes = [result["problem"]["code"] for result in pushed.json()["results"]]
    assert codes == ["own_clip", "notification_not_found"]


def id_taking(endpoint: Endpoint, schema: dict[str, Any]) -> bool:
    if endpoint.parameters:
        return True
    operation = schema["paths"][endpoint.path][endpoint.method.lower()]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    properties = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return any(name.endswith("Id") for name in properties.get("properties", {}))


async def test_every_id_taking_operation_has_a_probe(client):
    schema = client.app.openapi_schema.to_schema()
    taking = {str(e) for e in endpoints(client.app) if id_taking(e, schema)}
    assert taking - set(PROBES) == set()
    assert len(taking) >= 14


@pytest.mark.parametrize("operation", sorted(PROBES))
async def test_object_level_authorization(client, engine, operation):
    await PROBES[operation](client, engine, Member(), Member())


# -- API2 and API5: authentication, function-level authorization ----------------------------


async def test_every_operation_but_the_probes_and_the_webhook_wants_a_token(client):
    for endpoint in endpoints(client.app):
        if str(endpoint) in PUBLIC:
            assert endpoint.public, endpoint
            continue
        assert not endpoint.public, endpoint
        response = await client.request(
            endpoint.method, endpoint.url(), headers={"Content-Type": "application/json"},
            content=b"{}",
        )  # fmt: skip
        # 401, or the body refused first (422 malformed, 415 wrong media type): never an
        # answer that depends on who is asking.
        assert response.status_code in (401, 415, 422), (str(endpoint), response.text)


async def test_members_get_403_from_every_admin_operation(client):
    member = Member()
    documented = {
        str(e)
        for e in endpoints(client.app)
        if "admin" in str(e) or "rates" in str(e) or str(e) == "POST /badges/award"
    }
    assert documented == ADMIN_ONLY
    badge = {"code": "owasp_badge", "name": "Owasp",
             "criterion": {"metric": "clips_submitted", "threshold": 1}}  # fmt: skip
    bodies: dict[str, Any] = {
        "PUT": {"verdict": "valid"},
        "POST": {"kind": "clip_accepted", "amountMinor": 1, "currency": "NGN"},
        "POST /admin/badges": badge,
        "PATCH /admin/badges/{badge_id}": {"name": "Owasp"},
        "POST /badges/award": {"profileId": str(member.id), "badgeCode": "x", "reason": "me"},
    }
    for endpoint in endpoints(client.app):
        if str(endpoint) not in ADMIN_ONLY:
            continue
        url = endpoint.url(validator_id=str(uuid.uuid4()))
        response = await client.request(
            endpoint.method,
            url,
            headers=member.headers,
            json=bodies.get(str(endpoint), bodies.get(endpoint.method)),
        )
        assert response.status_code in (403, 404), (str(endpoint), response.text)
        assert response.status_code == 403 or "validators" in str(endpoint)


# -- API3: object-property authorization (mass assignment) ----------------------------------


async def test_no_body_takes_undeclared_fields(client):
    schema = client.app.openapi_schema.to_schema()
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("In") or name in {"ProfilePatch", "CategoryPreference"}:
            assert component.get("additionalProperties") is False, name


@pytest.mark.parametrize(
    "extra", [{"role": "admin"}, {"status": "active"}, {"id": str(uuid.uuid4())}]
)
async def test_a_member_cannot_promote_themselves(client, extra):
    member = Member()
    response = await client.patch(
        "/me", json={"displayName": "Eve", **extra}, headers=member.headers
    )
    assert_problem(response, 422, "validation_failed")
    me = (await client.get("/me", headers=member.headers)).json()
    assert (me["role"], me["displayName"], me["id"]) == ("member", None, str(member.id))


async def test_rates_record_their_author_not_the_body(client, engine):
    await client.get("/me", headers=Member().headers)
    body = {"kind": "clip_accepted", "amountMinor": 100, "currency": "NGN",
            "createdBy": str(uuid.uuid4())}  # fmt: skip
    admin = Member()
    await client.get("/me", headers=admin.headers)
    async with engine.begin() as connection:
        await connection.execute(
            sa.text("UPDATE profiles SET role = 'admin' WHERE id = :id"), {"id": admin.id}
        )
    response = await client.post("/monetization/rates", json=body, headers=admin.headers)
    assert_problem(response, 422, "validation_failed")


# -- API4: resource consumption --------------------------------------------------------------


async def test_every_json_body_is_bounded(client):
    member = Member()
    huge = b'{"x": "' + b"a" * 1_100_000 + b'"}'
    for endpoint in endpoints(client.app):
        if not endpoint.takes_json:
            continue
        response = await client.request(
            endpoint.method, endpoint.url(), content=huge,
            headers={**member.headers, "Content-Type": "application/json"},
        )  # fmt: skip
        assert_problem(response, 413)


async def test_every_page_is_bounded(client):
    member = Member()
    schema = client.app.openapi_schema.to_schema()
    limited = 0
    for endpoint in endpoints(client.app):
        operation = schema["paths"][endpoint.path][endpoint.method.lower()]
        for parameter in operation.get("parameters", []):
            if parameter["name"] == "limit":
                limited += 1
                maximum = int(parameter["schema"]["maximum"])
                url = endpoint.url() + f"?limit={maximum + 1}&language=yo"
                response = await client.get(url, headers=member.headers)
                assert_problem(response, 422)
    assert limited >= 5


# -- API8: headers on everything -------------------------------------------------------------


async def test_every_answer_carries_the_security_headers(client):
    member = Member()
    for endpoint in endpoints(client.app):
        response = await client.request(endpoint.method, endpoint.url(), headers=member.headers)
        assert response.headers["x-content-type-options"] == "nosniff", str(endpoint)
        assert "cache-control" in response.headers, str(endpoint)
        assert "server" not in response.headers, str(endpoint)


# -- API9: inventory -------------------------------------------------------------------------

UNDOCUMENTED = {"/metrics", "/docs"}


async def test_every_served_route_is_documented(client):
    from litestar.routes import HTTPRoute

    documented = {e.path for e in endpoints(client.app)}
    served = {
        route.path_format
        for route in client.app.routes
        if isinstance(route, HTTPRoute) and not route.path_format.startswith("/docs/")
    }
    assert served - documented == UNDOCUMENTED
    assert json.dumps(sorted(documented))  # the inventory itself is JSON-serialisable
