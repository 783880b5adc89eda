"""Push notifications: Expo token format, categories, messages, the 100-message chunk rule,
ticket and receipt outcomes, and the retry/backoff rule the worker follows."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from core.errors import DomainError, FeatureUnavailable, InvalidInput

MAX_MESSAGES_PER_CHUNK = 100
"""Expo accepts at most 100 messages per send request."""

_EXPO_PUSH_TOKEN = re.compile(r"(?:ExponentPushToken|ExpoPushToken)\[[^\[\]\s]{1,200}\]")

_T = TypeVar("_T")

RandomSource = Callable[[], float]
"""Returns a float in ``[0, 1)``, like ``random.random``; injected so tests control it."""


def is_expo_push_token(value: str) -> bool:
    """``ExponentPushToken[id]`` or ``ExpoPushToken[id]``; ``id`` is 1..200 printable ASCII
    characters without brackets."""
    plain = value.isascii() and value.isprintable()
    return plain and _EXPO_PUSH_TOKEN.fullmatch(value) is not None


def ensure_expo_push_token(value: str) -> str:
    """The token unchanged; raises ``InvalidInput`` (``invalid_push_token``) otherwise."""
    if not is_expo_push_token(value):
        raise InvalidInput("Not an Expo push token.", code="invalid_push_token")
    return value


class NotificationCategory(StrEnum):
    """What a notification is about; members choose per category whether to receive it."""

    CLIP_DECIDED = "clip_decided"
    REWARD_RELEASED = "reward_released"
    PAYOUT = "payout"
    BADGE = "badge"
    MODERATION = "moderation"


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One notification to one device. ``data`` is JSON-serialisable and carries ids only."""

    token: str
    title: str
    body: str
    category: NotificationCategory
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ensure_expo_push_token(self.token)


def chunk_messages(items: Sequence[_T], size: int = MAX_MESSAGES_PER_CHUNK) -> list[list[_T]]:
    """Consecutive chunks of at most ``size`` (1..100) items, in order, none empty."""
    if not 1 <= size <= MAX_MESSAGES_PER_CHUNK:
        raise ValueError(f"chunk size must be within 1..{MAX_MESSAGES_PER_CHUNK}")
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


class PushErrorCode(StrEnum):
    """Per-message error codes Expo reports in tickets and receipts."""

    DEVICE_NOT_REGISTERED = "DeviceNotRegistered"
    MESSAGE_TOO_BIG = "MessageTooBig"
    MESSAGE_RATE_EXCEEDED = "MessageRateExceeded"
    MISMATCH_SENDER_ID = "MismatchSenderId"
    INVALID_CREDENTIALS = "InvalidCredentials"
    UNKNOWN = "Unknown"

    @classmethod
    def parse(cls, raw: str | None) -> PushErrorCode:
        """The known code named ``raw``, else ``UNKNOWN``."""
        if raw is None:
            return cls.UNKNOWN
        try:
            return cls(raw)
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_retryable(self) -> bool:
        """Only rate limiting goes away by itself; the others need a fix or a new token."""
        return self is PushErrorCode.MESSAGE_RATE_EXCEEDED

    @property
    def deactivates_token(self) -> bool:
        """The device uninstalled the app or revoked permission: stop sending to it."""
        return self is PushErrorCode.DEVICE_NOT_REGISTERED


@dataclass(frozen=True, slots=True)
class PushAccepted:
    """Expo queued the message; its receipt is fetched later with ``ticket_id``."""

    token: str
    ticket_id: str


@dataclass(frozen=True, slots=True)
class PushRejected:
    """Expo refused this one message; nothing was delivered."""

    token: str
    error: PushErrorCode
    message: str = ""


PushTicket = PushAccepted | PushRejected


@dataclass(frozen=True, slots=True)
class ReceiptOk:
    """Apple or Google accepted the notification."""

    ticket_id: str


@dataclass(frozen=True, slots=True)
class ReceiptFailed:
    """Apple or Google refused the notification."""

    ticket_id: str
    error: PushErrorCode
    message: str = ""


PushReceipt = ReceiptOk | ReceiptFailed


class PushServiceUnavailable(FeatureUnavailable):
    """The push service answered 429 or 5xx, or could not be reached: retry with backoff.
    ``retry_after_seconds`` is the server's ``Retry-After`` hint, if any."""

    code = "push_unavailable"

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.retry_after_seconds = retry_after_seconds


class PushOutcomeUnknown(PushServiceUnavailable):
    """The request failed after it may have reached the push service (a read timeout, the
    connection dropped mid-exchange): the messages may or may not have been delivered.
    Retrying is safe for reads (receipts) but could deliver a send twice."""

    code = "push_outcome_unknown"


class PushRequestRejected(DomainError):
    """The push service refused the whole request (bad payload, credentials): retrying the
    same request cannot help."""

    code = "push_request_rejected"


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """Exponential backoff with full jitter: before attempt ``n + 1`` wait a uniformly random
    time in ``[0, min(cap, base * 2**(n - 1))]``; give up after ``max_attempts``."""

    base_seconds: float = 1.0
    cap_seconds: float = 600.0
    max_attempts: int = 10

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def ceiling(self, attempts_made: int) -> float:
        """The longest wait after ``attempts_made`` (>= 1) failed attempts."""
        if attempts_made < 1:
            raise ValueError("attempts_made must be at least 1")
        doublings = min(attempts_made - 1, 64)
        return min(self.cap_seconds, self.base_seconds * 2.0**doublings)

    def delay(
        self, attempts_made: int, random: RandomSource, *, at_least: float | None = None
    ) -> float:
        """Seconds to wait before the next attempt. ``at_least`` (a server's Retry-After) is
        honoured as a floor, itself capped."""
        jittered = min(max(random(), 0.0), 1.0) * self.ceiling(attempts_made)
        floor = min(max(at_least or 0.0, 0.0), self.cap_seconds)
        return max(jittered, floor)

    def should_retry(self, attempts_made: int) -> bool:
        """Whether another attempt is allowed after ``attempts_made`` failed ones."""
        return attempts_made < self.max_attempts
