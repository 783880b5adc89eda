"""Push notifications through Expo's push service, with the synchronous
``exponent_server_sdk.PushClient`` run in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import exponent_server_sdk as expo
import requests
from urllib3.exceptions import ProtocolError

from core.domain.notifications import (
    MAX_MESSAGES_PER_CHUNK,
    PushAccepted,
    PushErrorCode,
    PushMessage,
    PushOutcomeUnknown,
    PushReceipt,
    PushRejected,
    PushRequestRejected,
    PushServiceUnavailable,
    PushTicket,
    ReceiptFailed,
    ReceiptOk,
)

_SDK_ERROR_CODES: tuple[tuple[type[Exception], PushErrorCode], ...] = (
    (expo.DeviceNotRegisteredError, PushErrorCode.DEVICE_NOT_REGISTERED),
    (expo.MessageTooBigError, PushErrorCode.MESSAGE_TOO_BIG),
    (expo.MessageRateExceededError, PushErrorCode.MESSAGE_RATE_EXCEEDED),
    (expo.InvalidCredentialsError, PushErrorCode.INVALID_CREDENTIALS),
)


class _ExpoMessage(expo.PushMessage):  # type: ignore[misc]  # the SDK is untyped
    """The SDK message, with the payload built here: the SDK's own token check only knows
    the ``ExponentPushToken[`` prefix, while core already accepted both Expo formats."""

    def get_payload(self) -> dict[str, Any]:
        payload = {"to": self.to, "title": self.title, "body": self.body, "data": self.data}
        payload.update(sound=self.sound, priority=self.priority, channelId=self.channel_id)
        return {key: value for key, value in payload.items() if value is not None}


class ExpoPushSender:
    """Implements ``core.ports.push.PushSender``. ``access_token`` (``EXPO_PUSH_ACCESS_TOKEN``)
    is sent as a bearer token when set; ``host`` points at another Expo-compatible server.
    Call ``close()`` at shutdown."""

    def __init__(
        self,
        *,
        access_token: str | None = None,
        host: str | None = None,
        api_url: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self._session = requests.Session()
        self._session.headers.update(
            {
                "accept": "application/json",
                "accept-encoding": "gzip, deflate",
                "content-type": "application/json",
            }
        )
        if access_token:
            self._session.headers["Authorization"] = f"Bearer {access_token}"
        self._client = expo.PushClient(
            host=host, api_url=api_url, session=self._session, timeout=timeout_seconds
        )

    async def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        if len(messages) > MAX_MESSAGES_PER_CHUNK:
            raise ValueError(f"at most {MAX_MESSAGES_PER_CHUNK} messages per send")
        if not messages:
            return []
        sdk_messages = [_to_sdk_message(message) for message in messages]
        tickets = await asyncio.to_thread(_call, self._client.publish_multiple, sdk_messages)
        return [
            _to_ticket(message, ticket) for message, ticket in zip(messages, tickets, strict=True)
        ]

    async def get_receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushReceipt]:
        if not ticket_ids:
            return {}
        wanted = [expo.PushTicket(None, "ok", "", None, ticket_id) for ticket_id in ticket_ids]
        receipts = await asyncio.to_thread(_call, self._client.check_receipts_multiple, wanted)
        return {receipt.id: _to_receipt(receipt) for receipt in receipts}

    def close(self) -> None:
        self._session.close()


def _to_sdk_message(message: PushMessage) -> _ExpoMessage:
    data = {**message.data, "category": message.category.value}
    return _ExpoMessage(
        to=message.token, title=message.title, body=message.body, data=data, sound="default"
    )


def _call(sdk_call: Callable[[list[Any]], list[Any]], items: list[Any]) -> list[Any]:
    """Run one SDK call, turning transport and server failures into core errors."""
    try:
        result = sdk_call(items)
    except expo.PushServerError as error:
        raise _server_error(error.response, error.message) from error
    except requests.HTTPError as error:
        raise _server_error(error.response, str(error)) from error
    except requests.RequestException as error:
        if _may_have_arrived(error):
            raise PushOutcomeUnknown(f"Expo push service did not answer: {error}") from error
        raise PushServiceUnavailable(f"Expo push service unreachable: {error}") from error
    return result


def _may_have_arrived(error: requests.RequestException) -> bool:
    """Whether the request may have reached Expo before the failure: no answer in time, or
    the connection dropped mid-exchange. A refused or timed-out *connection* never sent it."""
    if isinstance(error, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(error, requests.ConnectionError) and not isinstance(
        error, requests.ConnectTimeout | requests.exceptions.SSLError
    ):
        cause = error.args[0] if error.args else None
        return isinstance(getattr(cause, "reason", cause), ProtocolError)
    return False


def _server_error(response: requests.Response | None, detail: str) -> Exception:
    # A malformed 200 may have been delivered already: refusing beats sending twice.
    status = response.status_code if response is not None else None
    if status is None or status == 429 or status >= 500:
        retry_after = _retry_after_seconds(response)
        return PushServiceUnavailable(
            f"Expo push service answered {status}: {detail}", retry_after_seconds=retry_after
        )
    return PushRequestRejected(f"Expo push service refused the request ({status}): {detail}")


def _retry_after_seconds(response: requests.Response | None) -> float | None:
    header = response.headers.get("Retry-After") if response is not None else None
    try:
        return float(header) if header else None
    except ValueError:
        return None


def _error_code(error: Any) -> PushErrorCode:
    for sdk_error, code in _SDK_ERROR_CODES:
        if isinstance(error, sdk_error):
            return code
    details = error.push_response.details or {}
    return PushErrorCode.parse(details.get("error"))


def _to_ticket(message: PushMessage, ticket: Any) -> PushTicket:
    try:
        ticket.validate_response()
    except expo.PushTicketError as error:
        return PushRejected(message.token, _error_code(error), error.message)
    return PushAccepted(message.token, ticket.id)


def _to_receipt(receipt: Any) -> PushReceipt:
    try:
        receipt.validate_response()
    except expo.PushTicketError as error:
        return ReceiptFailed(receipt.id, _error_code(error), error.message)
    return ReceiptOk(receipt.id)
