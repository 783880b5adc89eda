"""Devices, feed cursors, which events notify whom, ticket and receipt outcomes, and which
facts become analytics events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.domain.analytics_events import AnalyticsEvent
from core.domain.analytics_facts import ANALYTICS_EVENTS, analytics_fact, snake_case
from core.domain.events import DomainEvent
from core.domain.jobs import PermanentFailure
from core.domain.member_notifications import (
    MAX_BODY_LENGTH,
    NOTIFYING_EVENTS,
    RECEIPT_LIFETIME,
    ClaimedDelivery,
    DeliveryState,
    DeviceRegistration,
    FeedCursor,
    PushToken,
    SentDelivery,
    check_page_size,
    devices_to_retire,
    draft_for_event,
    may_take_over,
    receipt_updates,
    register_device,
    ticket_outcomes,
    with_default_preferences,
)
from core.domain.notifications import (
    BackoffPolicy,
    NotificationCategory,
    PushAccepted,
    PushErrorCode,
    PushMessage,
    PushRejected,
    ReceiptFailed,
    ReceiptOk,
)
from core.errors import InvalidInput

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MEMBER = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
OTHER_MEMBER = uuid.UUID("00000000-0000-4000-8000-0000000000bb")


def event(name: str, **payload: object) -> DomainEvent:
    return DomainEvent(uuid.uuid4(), name, NOW, payload)


def test_registration_checks_the_token_and_tidies_the_name() -> None:
    token = register_device(
        DeviceRegistration(" ExponentPushToken[abc] ", device_name="  Ada's   phone "), MEMBER, NOW
    )
    assert token.token == "ExponentPushToken[abc]"
    assert token.device_name == "Ada's phone"
    assert token.active
    with pytest.raises(InvalidInput) as refused:
        register_device(DeviceRegistration("not-a-token"), MEMBER, NOW)
    assert refused.value.code == "invalid_push_token"
    with pytest.raises(InvalidInput):
        register_device(DeviceRegistration("ExpoPushToken[a]", device_name="x" * 101), MEMBER, NOW)


def test_the_oldest_devices_beyond_the_limit_retire() -> None:
    tokens = [
        PushToken(f"ExpoPushToken[{i}]", MEMBER, None, None, True, NOW, NOW + timedelta(minutes=i))
        for i in range(12)
    ]
    assert devices_to_retire(tokens) == ["ExpoPushToken[1]", "ExpoPushToken[0]"]
    assert devices_to_retire(tokens[:10]) == []


@given(st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)), st.uuids())
def test_feed_cursors_round_trip(created_at: datetime, ident: uuid.UUID) -> None:
    cursor = FeedCursor(created_at, ident)
    assert FeedCursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("text", ["", "!!!", "bm90LWEtY3Vyc29y", "MjAyNi0wMS0wMXxub3BlIQ"])
def test_bad_cursors_are_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        FeedCursor.decode(text)
    assert refused.value.code == "invalid_cursor"


def test_page_sizes() -> None:
    assert check_page_size(None) == 20
    assert check_page_size(100) == 100
    with pytest.raises(InvalidInput):
        check_page_size(0)


def test_every_category_is_enabled_unless_switched_off() -> None:
    preferences = with_default_preferences({NotificationCategory.PAYOUT: False})
    assert preferences[NotificationCategory.PAYOUT] is False
    assert all(v for k, v in preferences.items() if k is not NotificationCategory.PAYOUT)
    assert set(preferences) == set(NotificationCategory)


@pytest.mark.parametrize(
    ("name", "payload", "category", "title"),
    [
        ("clip.decided", {"contributorId": str(MEMBER), "clipId": "c1", "status": "accepted",
                          "language": "yo"}, NotificationCategory.CLIP_DECIDED, "Clip accepted"),
        ("clip.decided", {"contributorId": str(MEMBER), "clipId": "c1", "status": "rejected"},
         NotificationCategory.CLIP_DECIDED, "Clip not accepted"),
        ("reward.released", {"profileId": str(MEMBER), "amountMinor": 12345, "currency": "NGN"},
         NotificationCategory.REWARD_RELEASED, "Reward released"),
        ("payout.requested", {"profileId": str(MEMBER), "payoutId": "p1", "amountMinor": 50000,
                              "currency": "NGN"}, NotificationCategory.PAYOUT, "Payout requested"),
        ("payout.paid", {"profileId": str(MEMBER), "payoutId": "p1"}, NotificationCategory.PAYOUT,
         "Payout sent"),
        ("payout.failed", {"profileId": str(MEMBER)}, NotificationCategory.PAYOUT,
         "Payout failed"),
        ("badge.awarded", {"profileId": str(MEMBER), "badgeCode": "first_clip"},
         NotificationCategory.BADGE, "New badge"),
        ("moderation.decided", {"profileId": str(MEMBER), "action": "hide",
                                "targetType": "clip"}, NotificationCategory.MODERATION,
         "Moderation decision"),
    ],
)  # fmt: skip
def test_each_notifying_event_makes_a_draft_for_its_member(
    name: str, payload: dict[str, object], category: NotificationCategory, title: str
) -> None:
    draft = draft_for_event(event(name, **payload))
    assert draft is not None
    assert draft.profile_id == MEMBER
    assert draft.category is category
    assert draft.title == title
    assert draft.data["event"] == name
    assert len(draft.body) <= MAX_BODY_LENGTH


def test_moderation_decisions_carry_the_reason_code() -> None:
    draft = draft_for_event(
        event("moderation.decided", profileId=str(MEMBER), action="remove", targetType="clip",
              targetId="c1", reason="noise_or_silence")
    )  # fmt: skip
    assert draft is not None
    assert draft.data["reason"] == "noise_or_silence"
    assert "noise or silence" in draft.body
    odd = draft_for_event(event("moderation.decided", profileId=str(MEMBER), action="hide",
                                reason="<script>"))  # fmt: skip
    assert odd is not None
    assert "reason" not in odd.data


def test_reward_text_shows_the_amount() -> None:
    draft = draft_for_event(
        event("reward.released", profileId=str(MEMBER), amountMinor=12345, currency="ngn")
    )
    assert draft is not None
    assert "NGN 123.45" in draft.body


def test_events_that_notify_nobody_and_malformed_ones() -> None:
    assert draft_for_event(event("profile.created", profileId=str(MEMBER))) is None
    with pytest.raises(PermanentFailure) as malformed:
        draft_for_event(event("payout.paid", profileId="not-a-uuid"))
    assert malformed.value.code == "malformed_event"
    assert {"clip.decided", "reward.released", "payout.requested", "payout.paid",
            "payout.failed", "badge.awarded", "moderation.decided"} == NOTIFYING_EVENTS  # fmt: skip


def claimed(token: str, attempts: int = 1, ident: int = 1) -> ClaimedDelivery:
    message = PushMessage(token, "t", "b", NotificationCategory.BADGE)
    return ClaimedDelivery(ident, uuid.uuid4(), attempts, message)


def test_tickets_become_sent_failed_or_retried() -> None:
    a, gone, busy, big = (f"ExpoPushToken[{n}]" for n in ("a", "gone", "busy", "big"))
    outcomes = ticket_outcomes(
        [
            claimed(a, ident=1),
            claimed(gone, ident=2),
            claimed(busy, ident=3),
            claimed(big, ident=4),
        ],
        [
            PushAccepted(a, "t1"),
            PushRejected(gone, PushErrorCode.DEVICE_NOT_REGISTERED),
            PushRejected(busy, PushErrorCode.MESSAGE_RATE_EXCEEDED),
            PushRejected(big, PushErrorCode.MESSAGE_TOO_BIG),
        ],
        now=NOW,
        policy=BackoffPolicy(base_seconds=1, max_attempts=3),
        random=lambda: 0.5,
    )
    assert [o.state for o in outcomes] == [
        DeliveryState.SENT, DeliveryState.FAILED, DeliveryState.QUEUED, DeliveryState.FAILED,
    ]  # fmt: skip
    assert outcomes[0].ticket_id == "t1"
    assert outcomes[1].deactivate == gone
    assert outcomes[2].retry_at == NOW + timedelta(seconds=0.5)
    assert outcomes[3].deactivate is None


def test_receipts() -> None:
    sent = NOW - timedelta(minutes=30)
    pending = [
        SentDelivery(1, "ExpoPushToken[a]", "t1", sent),
        SentDelivery(2, "ExpoPushToken[b]", "t2", sent),
        SentDelivery(3, "ExpoPushToken[c]", "t3", sent),
        SentDelivery(4, "ExpoPushToken[d]", "t4", NOW - RECEIPT_LIFETIME),
    ]
    receipts = {
        "t1": ReceiptOk("t1"),
        "t2": ReceiptFailed("t2", PushErrorCode.DEVICE_NOT_REGISTERED),
    }
    updates = receipt_updates(pending, receipts, NOW)
    assert [(u.delivery_id, u.receipt_status, u.deactivate) for u in updates] == [
        (1, "ok", None),
        (2, "DeviceNotRegistered", "ExpoPushToken[b]"),
        (4, "expired", None),
    ]


def test_analytics_facts_carry_the_profile_and_no_personal_data() -> None:
    fact = analytics_fact(
        event(
            "payout.requested",
            profileId=str(MEMBER),
            payoutId="po1",
            amountMinor=5000,
            bankAccountNumber="0123456789",
            payerEmail="ada@example.com",
            note="call me at ada@example.com",
            nested={"a": 1},
        )
    )
    assert fact is not None
    assert fact.distinct_id == MEMBER
    assert fact.event is AnalyticsEvent.PAYOUT_REQUESTED
    assert fact.properties["payout_id"] == "po1"
    assert fact.properties["amount_minor"] == 5000
    assert "event_id" in fact.properties
    for key in ("profile_id", "bank_account_number", "payer_email", "note", "nested"):
        assert key not in fact.properties


def test_facts_need_a_known_event_and_a_profile() -> None:
    assert analytics_fact(event("profile.created", profileId=str(MEMBER))) is None
    assert analytics_fact(event("clip.submitted", profileId="nope")) is None
    fact = analytics_fact(event("stream.started", hostId=str(MEMBER), streamId="s1"))
    assert fact is not None
    assert fact.distinct_id == MEMBER
    assert len(ANALYTICS_EVENTS) == len(AnalyticsEvent)
    assert snake_case("durationMs") == "duration_ms"


@given(
    owner=st.sampled_from([MEMBER, OTHER_MEMBER]),
    registered_device=st.none() | st.sampled_from(["a", "b"]),
    offered_device=st.none() | st.sampled_from(["a", "b"]),
)
def test_only_the_owner_or_the_same_installation_takes_a_token(
    owner, registered_device, offered_device
):
    registered = register_device(
        DeviceRegistration("ExpoPushToken[x]", device_id=registered_device), owner, NOW
    )
    offered = register_device(
        DeviceRegistration("ExpoPushToken[x]", device_id=offered_device), MEMBER, NOW
    )
    same_installation = registered_device is not None and registered_device == offered_device
    assert may_take_over(registered, offered) is (owner == MEMBER or same_installation)


def test_device_ids_are_checked():
    for bad in ("", "x" * 201, "tab\there"):
        with pytest.raises(InvalidInput):
            register_device(DeviceRegistration("ExpoPushToken[a]", device_id=bad), MEMBER, NOW)
