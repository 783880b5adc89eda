"""SPEC §6 over HTTP on real PostgreSQL: rewards on consensus, release, balance and history
(one's own only), and the admin's reward rates."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.clips.helpers import execute, new_clip, vote
from tests.integration.http.test_auth import assert_problem
from tests.tokens import bearer, member_headers, service_token

CLIP_RATE, AGREED_RATE = 5_000, 1_000


@pytest.fixture
def settings(settings, tmp_path):
    return replace(
        settings, blob_dir=tmp_path / "blobs", consensus_policy="majority", reward_holding_hours=0
    )


async def make_admin(client, engine) -> dict[str, str]:
    subject = uuid.uuid4()
    await client.get("/me", headers=member_headers(subject))
    await execute(engine, "UPDATE profiles SET role = 'admin' WHERE id = :id", id=subject)
    return member_headers(subject)


async def add_rates(client, engine) -> None:
    admin = await make_admin(client, engine)
    for kind, amount in (("clip_accepted", CLIP_RATE), ("validation_agreed", AGREED_RATE)):
        response = await client.post(
            "/monetization/rates",
            json={"kind": kind, "amountMinor": amount, "currency": "NGN"},
            headers=admin,
        )
        assert response.status_code == 201, response.text


async def decide(client, clip_id: str, *verdicts: str) -> list[dict[str, str]]:
    voters = [member_headers() for _ in verdicts]
    for headers, verdict in zip(voters, verdicts, strict=True):
        assert (await vote(client, headers, clip_id, verdict)).status_code == 200
    return voters


async def balance(client, headers, query: str = "") -> dict:
    response = await client.get(f"/monetization/balance{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def history(client, headers, query: str = "") -> dict:
    response = await client.get(f"/monetization/transactions{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_decision_earns_pending_money_that_release_makes_available(
    client, engine, container
):
    await add_rates(client, engine)
    clip_id, owner = await new_clip(client)
    first, _ = await decide(client, clip_id, "valid", "valid")
    assert await balance(client, owner) == {
        "currency": "NGN",
        "availableMinor": 0,
        "pendingMinor": CLIP_RATE,
        "onHoldMinor": 0,
        "lifetimeEarnedMinor": CLIP_RATE,
    }
    assert (await balance(client, first))["pendingMinor"] == AGREED_RATE
    [earned] = (await history(client, owner))["items"]
    assert earned["kind"] == "reward_earned"
    assert (earned["clipId"], earned["rewardKind"]) == (clip_id, "clip_accepted")
    assert (earned["amountMinor"], earned["currency"]) == (CLIP_RATE, "NGN")
    assert (earned["fromAccount"], earned["toAccount"]) == ("rewards_expense", "pending")
    assert "accepted" in earned["description"]

    summary = await container.release_earnings()()
    assert summary.released == 3
    assert await balance(client, owner) == {
        "currency": "NGN",
        "availableMinor": CLIP_RATE,
        "pendingMinor": 0,
        "onHoldMinor": 0,
        "lifetimeEarnedMinor": CLIP_RATE,
    }
    released, _ = (await history(client, owner))["items"]
    assert released["kind"] == "reward_released"
    assert (released["fromAccount"], released["toAccount"]) == ("pending", "available")
    assert (released["clipId"], released["closes"]) == (clip_id, earned["id"])


async def test_history_pages_with_a_cursor(client, engine):
    await add_rates(client, engine)
    validator = member_headers()
    clips = [(await new_clip(client))[0] for _ in range(3)]
    for clip_id in clips:
        await vote(client, validator, clip_id)
        await decide(client, clip_id, "valid")
    first = await history(client, validator, "?limit=2")
    assert len(first["items"]) == 2
    rest = await history(client, validator, f"?limit=2&cursor={first['nextCursor']}")
    assert len(rest["items"]) == 1
    assert rest["nextCursor"] is None
    seen = [item["clipId"] for item in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(clips)


async def test_a_member_reads_only_their_own_balance_and_history(client, engine):
    await add_rates(client, engine)
    clip_id, owner = await new_clip(client)
    await decide(client, clip_id, "valid", "valid")
    owner_id = (await client.get("/me", headers=owner)).json()["id"]
    stranger = member_headers()
    # There is no parameter naming a member: the caller's own, and a query that tries is
    # refused as an unknown parameter (docs/api.md) — never someone else's money.
    assert (await balance(client, stranger, ""))["lifetimeEarnedMinor"] == 0
    assert (await history(client, stranger, ""))["items"] == []
    for query in (f"?profileId={owner_id}", f"?memberId={owner_id}&member={owner_id}"):
        for path in ("/monetization/balance", "/monetization/transactions"):
            refused = await client.get(path + query, headers=stranger)
            assert_problem(refused, 422, "unknown_parameter")
            assert str(owner_id) not in refused.text.replace(query, "")
    owner_page = await history(client, owner, "?limit=1")
    assert owner_page["nextCursor"]
    stolen_cursor = await history(client, stranger, f"?cursor={owner_page['nextCursor']}")
    assert stolen_cursor["items"] == []
    for path in ("/monetization/balance", "/monetization/transactions"):
        assert_problem(await client.get(path), 401, "missing_token")
        service = await client.get(path, headers=bearer(service_token()))
        assert_problem(service, 403, "member_required")


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/monetization/balance?currency=EUR", 422, "validation_failed"),
        ("/monetization/balance?currency=naira", 422, None),
        ("/monetization/transactions?limit=0", 422, None),
        ("/monetization/transactions?limit=101", 422, None),
        ("/monetization/transactions?cursor=not-a-cursor", 422, "invalid_cursor"),
        ("/monetization/transactions?cursor=not%20a%20cursor", 422, "invalid_cursor"),
    ],
)
async def test_bad_queries_are_problems(client, path, status, code):
    assert_problem(await client.get(path, headers=member_headers()), status, code)


async def test_balance_in_another_currency(client):
    assert (await balance(client, member_headers(), "?currency=usd"))["currency"] == "USD"


async def test_rates_are_admin_only(client, engine):
    body = {"kind": "clip_accepted", "amountMinor": 100, "currency": "NGN"}
    member = member_headers()
    assert_problem(await client.get("/monetization/rates", headers=member), 403, "role_required")
    posted = await client.post("/monetization/rates", json=body, headers=member)
    assert_problem(posted, 403, "role_required")
    assert_problem(await client.get("/monetization/rates"), 401)
    service = bearer(service_token())
    assert (await client.post("/monetization/rates", json=body, headers=service)).status_code == 201
    listed = await client.get("/monetization/rates", headers=await make_admin(client, engine))
    assert [r["amountMinor"] for r in listed.json()["items"]] == [100]
    assert listed.json()["items"][0]["createdBy"] is None


async def test_new_rates_take_effect_from_a_date_and_are_never_edited(client, engine):
    admin = await make_admin(client, engine)
    start = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    body = {
        "kind": "validation_agreed",
        "amountMinor": 1_500,
        "currency": "ngn",
        "language": "YO",
        "validFrom": start.isoformat(),
    }
    created = await client.post("/monetization/rates", json=body, headers=admin)
    assert created.status_code == 201, created.text
    rate = created.json()
    assert (rate["currency"], rate["language"], rate["validTo"]) == ("NGN", "yo", None)
    assert datetime.fromisoformat(rate["validFrom"]) == start
    again = await client.post("/monetization/rates", json=body, headers=admin)
    assert_problem(again, 409, "rate_exists")
    for method in (client.put, client.patch):
        edit = await method(f"/monetization/rates/{rate['id']}", json=body, headers=admin)
        assert edit.status_code in (404, 405)
    assert_problem(await client.delete(f"/monetization/rates/{rate['id']}", headers=admin), 404)
    listed = await client.get(
        "/monetization/rates?currency=NGN&kind=validation_agreed", headers=admin
    )
    assert [r["id"] for r in listed.json()["items"]] == [rate["id"]]


BAD_RATES = [
    # (body, status, code)
    ({"kind": "tip", "amountMinor": 100, "currency": "NGN"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 0, "currency": "NGN"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": -5, "currency": "NGN"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 1.5, "currency": "NGN"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": "1.5", "currency": "NGN"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 2**63, "currency": "NGN"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 100, "currency": "EUR"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 100, "currency": "N"}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 100}, 422, None),
    ({"kind": "clip_accepted", "amountMinor": 100, "currency": "NGN", "id": "x"}, 422, None),
    (
        {"kind": "clip_accepted", "amountMinor": 100, "currency": "NGN", "language": "1"},
        422,
        None,
    ),
    (
        {"kind": "clip_accepted", "amountMinor": 100, "currency": "NGN", "language": "e_n"},
        422,
        None,
    ),
    (
        {
            "kind": "clip_accepted",
            "amountMinor": 100,
            "currency": "NGN",
            "validFrom": "2020-01-01T00:00:00Z",
        },
        422,
        "rate_in_past",
    ),
    (
        {
            "kind": "clip_accepted",
            "amountMinor": 100,
            "currency": "NGN",
            "validFrom": "2999-01-01T00:00:00",
        },
        422,
        "naive_datetime",
    ),
    (
        {
            "kind": "clip_accepted",
            "amountMinor": 100,
            "currency": "NGN",
            "validFrom": "2999-01-02T00:00:00Z",
            "validTo": "2999-01-01T00:00:00Z",
        },
        422,
        "invalid_rate_period",
    ),
    (
        {"kind": "clip_accepted", "amountMinor": 100, "currency": "NGN", "validFrom": "soon"},
        422,
        None,
    ),
]


async def test_bad_rates_are_problems_and_nothing_is_stored(client, engine):
    admin = await make_admin(client, engine)
    for body, status, code in BAD_RATES:
        response = await client.post("/monetization/rates", json=body, headers=admin)
        assert_problem(response, status, code)
    listed = await client.get("/monetization/rates", headers=admin)
    assert listed.json()["items"] == []


async def test_a_rate_body_that_is_not_json_is_refused(client, engine):
    admin = await make_admin(client, engine)
    response = await client.post(
        "/monetization/rates",
        content=b"kind=clip_accepted",
        headers={**admin, "content-type": "text/plain"},
    )
    assert 400 <= response.status_code < 500
    broken = await client.post(
        "/monetization/rates", content=b"{", headers={**admin, "content-type": "application/json"}
    )
    assert_problem(broken, 400, "malformed_body")
