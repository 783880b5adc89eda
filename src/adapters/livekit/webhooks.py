"""LiveKit's signed webhooks, checked with ``livekit-api``'s ``WebhookReceiver``.

LiveKit signs each delivery with a JWT (issuer = API key, HS256 with the API secret) in the
``Authorization`` header; its ``sha256`` claim is the base64 SHA-256 of the raw body.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.json_format import ParseError
from livekit import api

from core.domain.live import RoomEvent, RoomEventKind
from core.errors import InvalidInput, NotAuthenticated

BEARER_PREFIX = "bearer "


class LiveKitWebhookVerifier:
    """Implements ``core.ports.live_video.LiveWebhookVerifier``."""

    def __init__(
        self, *, api_key: str, api_secret: str, leeway: timedelta = timedelta(minutes=1)
    ) -> None:
        if not (api_key and api_secret):
            raise ValueError("LiveKit webhooks need an API key and an API secret.")
        self._receiver = api.WebhookReceiver(api.TokenVerifier(api_key, api_secret, leeway=leeway))

    def verify(self, body: str, authorization: str) -> RoomEvent:
        token = authorization.strip()
        if token.lower().startswith(BEARER_PREFIX):
            token = token[len(BEARER_PREFIX) :].strip()
        if not token:
            raise NotAuthenticated("The webhook is not signed.", code="invalid_webhook_signature")
        try:
            event = self._receiver.receive(body, token)
        except ParseError as error:
            raise InvalidInput(
                "The webhook body is not a LiveKit event.", code="invalid_webhook_body"
            ) from error
        except Exception as error:  # the receiver raises bare ``Exception`` on a hash mismatch
            raise NotAuthenticated(
                "The webhook signature could not be verified.", code="invalid_webhook_signature"
            ) from error
        return to_room_event(event)


def to_room_event(event: api.WebhookEvent) -> RoomEvent:
    try:
        kind = RoomEventKind(event.event)
    except ValueError:
        kind = RoomEventKind.UNKNOWN
    return RoomEvent(
        id=event.id,
        kind=kind,
        room_name=event.room.name,
        participant_identity=event.participant.identity or None,
        participant_session=event.participant.sid or None,
        occurred_at=datetime.fromtimestamp(event.created_at, UTC) if event.created_at else None,
    )
