"""Sending push notifications, as a port."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.domain.notifications import PushMessage, PushReceipt, PushTicket


class PushSender(Protocol):
    """Hands notifications to the push service and reads back their receipts."""

    async def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        """One ticket per message, in order, from a single request: callers chunk with
        ``chunk_messages`` (at most ``MAX_MESSAGES_PER_CHUNK``; more raises ``ValueError``).

        Raises ``PushServiceUnavailable`` on 429, 5xx or a network failure (nothing can be
        assumed delivered: retry the whole chunk with backoff) and ``PushRequestRejected``
        when the service refuses the request itself (do not retry as is)."""
        ...

    async def get_receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushReceipt]:
        """Receipts by ticket id. Ids whose receipt is not ready yet (or expired) are absent.
        Raises the same errors as ``send``."""
        ...
