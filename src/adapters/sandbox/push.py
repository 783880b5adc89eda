"""``SandboxPushSender``: push notifications that are never sent, for ``chorus dev``.

Without Expo configured, development would hand every notification to Expo's public
service (and, offline, retry it forever). The sandbox sender instead logs each message it
*would* have sent, on the ``chorus.push.sandbox`` logger, and accepts it with a
``sandbox-…`` ticket whose receipt is always ok: deliveries reach ``sent`` and then
``delivered`` as they would with Expo, without leaving the machine. The entrypoints refuse
to build it when ``CHORUS_ENV=production``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence

from core.domain.notifications import (
    MAX_MESSAGES_PER_CHUNK,
    PushAccepted,
    PushMessage,
    PushReceipt,
    PushTicket,
    ReceiptOk,
)

TICKET_PREFIX = "sandbox-"

log = logging.getLogger("chorus.push.sandbox")


class SandboxPushSender:
    """Implements ``core.ports.push.PushSender`` without any push service (development)."""

    async def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        if len(messages) > MAX_MESSAGES_PER_CHUNK:
            raise ValueError(f"at most {MAX_MESSAGES_PER_CHUNK} messages per send")
        tickets: list[PushTicket] = []
        for message in messages:
            ticket = f"{TICKET_PREFIX}{uuid.uuid4()}"
            push = {
                "ticket": ticket,
                "token": message.token,
                "category": message.category.value,
                "title": message.title,
                "body": message.body,
                "data": dict(message.data),
            }
            log.info(
                "push_not_sent_sandbox (development push sender: not sent to Expo) %s",
                json.dumps(push, default=str, ensure_ascii=False),
                extra={"push": push},
            )
            tickets.append(PushAccepted(message.token, ticket))
        return tickets

    async def get_receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushReceipt]:
        return {
            ticket: ReceiptOk(ticket) for ticket in ticket_ids if ticket.startswith(TICKET_PREFIX)
        }

    def close(self) -> None:
        """Nothing to close (the worker closes every push sender at shutdown)."""
