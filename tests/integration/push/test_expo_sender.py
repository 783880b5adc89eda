"""ExpoPushSender with the real exponent-server-sdk against a local Expo contract server.
All traffic stays on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from exponent_server_sdk import PushClient, PushServerError
from exponent_server_sdk import PushMessage as SdkPushMessage

from adapters.expo.push_sender import ExpoPushSender
from core.domain.notifications import (
    NotificationCategory,
    PushAccepted,
    PushErrorCode,
    PushMessage,
    PushRejected,
    PushRequestRejected,
    PushServiceUnavailable,
    ReceiptFailed,
    ReceiptOk,
)
from core.ports.push import PushSender
from tests.contracts.expo_server import ExpoContractServer, expo_server

__all__ = ["expo_server"]  # the fixture, re-exported for pytest

ALICE = "ExponentPushToken[alice]"
BOB = "ExpoPushToken[bob]"
GONE = "ExponentPushToken[uninstalled]"


def message(token: str, category: NotificationCategory = NotificationCategory.BADGE) -> PushMessage:
    return PushMessage(token, "New badge", "You earned a badge", category, {"badge_id": "b1"})


@pytest.fixture
def sender(expo_server: ExpoContractServer) -> Iterator[ExpoPushSender]:
    push_sender = ExpoPushSender(host=expo_server.base_url, timeout_seconds=5)
    _: PushSender = push_sender  # the adapter satisfies the port (checked by mypy)
    yield push_sender
    push_sender.close()


async def test_accepted_messages_get_ticket_ids_and_reach_each_device_once(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    tickets = await sender.send([message(ALICE), message(BOB, NotificationCategory.PAYOUT)])

    assert [type(ticket) for ticket in tickets] == [PushAccepted, PushAccepted]
    assert [ticket.token for ticket in tickets] == [ALICE, BOB]
    assert all(isinstance(t, PushAccepted) and t.ticket_id for t in tickets)
    assert expo_server.delivery_count(ALICE) == expo_server.delivery_count(BOB) == 1
    delivered = expo_server.deliveries[BOB][0]
    assert delivered["title"] == "New badge"
    assert delivered["data"] == {"badge_id": "b1", "category": "payout"}


async def test_device_not_registered_is_a_per_message_rejection(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    expo_server.unregistered_tokens.add(GONE)
    expo_server.ticket_errors[BOB] = "MessageRateExceeded"

    gone, alice, bob = await sender.send([message(GONE), message(ALICE), message(BOB)])

    assert isinstance(gone, PushRejected)
    assert gone.error is PushErrorCode.DEVICE_NOT_REGISTERED
    assert gone.error.deactivates_token
    assert isinstance(alice, PushAccepted)
    assert isinstance(bob, PushRejected)
    assert bob.error is PushErrorCode.MESSAGE_RATE_EXCEEDED
    assert bob.error.is_retryable
    assert expo_server.delivery_count(GONE) == 0


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("MessageTooBig", PushErrorCode.MESSAGE_TOO_BIG),
        ("InvalidCredentials", PushErrorCode.INVALID_CREDENTIALS),
        ("MismatchSenderId", PushErrorCode.MISMATCH_SENDER_ID),
        ("SomethingNew", PushErrorCode.UNKNOWN),
    ],
)
async def test_other_ticket_errors_keep_their_code(
    sender: ExpoPushSender, expo_server: ExpoContractServer, raw: str, code: PushErrorCode
) -> None:
    expo_server.ticket_errors[ALICE] = raw
    [ticket] = await sender.send([message(ALICE)])
    assert isinstance(ticket, PushRejected)
    assert ticket.error is code


async def test_429_is_retryable_and_the_retry_delivers_exactly_once(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    expo_server.fail_next(429, retry_after=7)

    with pytest.raises(PushServiceUnavailable) as raised:
        await sender.send([message(ALICE)])
    assert raised.value.retry_after_seconds == 7.0
    assert expo_server.delivery_count(ALICE) == 0

    [ticket] = await sender.send([message(ALICE)])
    assert isinstance(ticket, PushAccepted)
    assert expo_server.delivery_count(ALICE) == 1


@pytest.mark.parametrize("plain_text", [False, True])
@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(
    sender: ExpoPushSender, expo_server: ExpoContractServer, status: int, plain_text: bool
) -> None:
    expo_server.fail_next(status, plain_text=plain_text)
    with pytest.raises(PushServiceUnavailable) as raised:
        await sender.send([message(ALICE)])
    assert raised.value.code == "push_unavailable"


async def test_an_unreachable_service_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = ExpoPushSender(host=f"http://127.0.0.1:{port}", timeout_seconds=2)
    with pytest.raises(PushServiceUnavailable):
        await sender.send([message(ALICE)])


async def test_a_refused_request_is_not_retryable(expo_server: ExpoContractServer) -> None:
    expo_server.required_access_token = "right"
    sender = ExpoPushSender(host=expo_server.base_url, access_token="wrong")
    with pytest.raises(PushRequestRejected) as raised:
        await sender.send([message(ALICE)])
    assert not isinstance(raised.value, PushServiceUnavailable)
    assert expo_server.delivery_count(ALICE) == 0


async def test_the_access_token_is_sent_as_a_bearer_token(expo_server: ExpoContractServer) -> None:
    expo_server.required_access_token = "expo-secret"
    sender = ExpoPushSender(host=expo_server.base_url, access_token="expo-secret")

    [ticket] = await sender.send([message(ALICE)])
    await sender.get_receipts([ticket.ticket_id] if isinstance(ticket, PushAccepted) else [])

    assert isinstance(ticket, PushAccepted)
    assert [r.headers.get("Authorization") for r in expo_server.requests] == [
        "Bearer expo-secret",
        "Bearer expo-secret",
    ]


async def test_no_authorization_header_without_an_access_token(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    await sender.send([message(ALICE)])
    assert "Authorization" not in expo_server.requests[0].headers


async def test_more_than_100_messages_are_refused_before_any_request(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    with pytest.raises(ValueError, match="at most 100"):
        await sender.send([message(ALICE)] * 101)
    assert await sender.send([]) == []
    assert expo_server.requests == []


async def test_a_full_chunk_of_100_goes_in_one_request(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    tickets = await sender.send([message(f"ExponentPushToken[d{i}]") for i in range(100)])
    assert len(tickets) == 100
    assert len(expo_server.requests) == 1


async def test_receipts_report_delivery_and_unregistered_devices(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    expo_server.fail_receipts_for(BOB, "DeviceNotRegistered")
    tickets = await sender.send([message(ALICE), message(BOB)])
    alice_id, bob_id = (t.ticket_id for t in tickets if isinstance(t, PushAccepted))

    receipts = await sender.get_receipts([alice_id, bob_id, "not-ready-yet"])

    assert receipts[alice_id] == ReceiptOk(alice_id)
    bob_receipt = receipts[bob_id]
    assert isinstance(bob_receipt, ReceiptFailed)
    assert bob_receipt.error is PushErrorCode.DEVICE_NOT_REGISTERED
    assert "not-ready-yet" not in receipts
    assert await sender.get_receipts([]) == {}


async def test_receipt_requests_failing_with_5xx_are_retryable(
    sender: ExpoPushSender, expo_server: ExpoContractServer
) -> None:
    expo_server.fail_next(503)
    with pytest.raises(PushServiceUnavailable):
        await sender.get_receipts(["some-ticket"])


def test_the_contract_server_refuses_more_than_100_like_expo(
    expo_server: ExpoContractServer,
) -> None:
    client = PushClient(host=expo_server.base_url, max_message_count=101)
    with pytest.raises(PushServerError) as raised:
        client.publish_multiple([SdkPushMessage(to=ALICE)] * 101)
    assert raised.value.response.status_code == 400
    assert raised.value.errors[0]["code"] == "PUSH_TOO_MANY_NOTIFICATIONS"
