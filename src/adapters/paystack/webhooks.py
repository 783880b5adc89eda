"""Paystack's signed webhooks and transfer-approval requests.

Paystack signs each delivery with ``x-paystack-signature``: the hex HMAC-SHA512 of the raw
body keyed with the secret key. The digest is compared in constant time, before the body is
even parsed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from adapters.paystack.gateway import PROVIDER, amount_of, observation_of
from core.domain.payouts import TransferState
from core.errors import InvalidInput, NotAuthenticated
from core.ports.payouts import ApprovalRequest, TransferEvent

TRANSFER_EVENTS = {
    "transfer.success": TransferState.SUCCESS,
    "transfer.failed": TransferState.FAILED,
    "transfer.reversed": TransferState.REVERSED,
}


def signature_of(body: bytes, secret_key: str) -> str:
    """What Paystack puts in ``x-paystack-signature`` for ``body``."""
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


class PaystackWebhookVerifier:
    """Implements ``TransferWebhookVerifier`` and ``TransferApprovalVerifier``."""

    def __init__(self, *, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("Paystack webhooks need the secret key.")
        self._secret_key = secret_key

    @property
    def provider(self) -> str:
        return PROVIDER

    def _checked(self, body: bytes, signature: str) -> Any:
        expected = signature_of(body, self._secret_key)
        if not signature or not hmac.compare_digest(expected, signature.strip().lower()):
            raise NotAuthenticated(
                "The Paystack signature does not match the body.", code="invalid_webhook_signature"
            )
        try:
            return json.loads(body)
        except ValueError:
            raise InvalidInput("The body is not JSON.", code="invalid_webhook_body") from None

    def verify(self, body: bytes, signature: str) -> list[TransferEvent]:
        payload = self._checked(body, signature)
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
            raise InvalidInput("Not a Paystack event.", code="invalid_webhook_body")
        name = str(payload.get("event", ""))
        data: dict[str, Any] = payload["data"]
        if name not in TRANSFER_EVENTS or not isinstance(data.get("reference"), str):
            return []
        seen = observation_of({**data, "status": TRANSFER_EVENTS[name].value})
        assert seen is not None
        recipient = data.get("recipient")
        return [
            TransferEvent(
                # Paystack events carry no id of their own: one event per transfer and kind.
                key=f"{name}:{data.get('id') or data.get('transfer_code')}:{data['reference']}",
                reference=data["reference"],
                observation=seen,
                amount=amount_of(data),
                recipient_code=recipient.get("recipient_code")
                if isinstance(recipient, dict)
                else None,
            )
        ]

    def approval_requests(self, body: bytes, signature: str) -> list[ApprovalRequest]:
        payload = self._checked(body, signature)
        items = payload if isinstance(payload, list) else [payload]
        requests = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("reference"), str):
                raise InvalidInput("Not a transfer approval request.", code="invalid_webhook_body")
            recipient = item.get("recipient")
            code = recipient.get("recipient_code") if isinstance(recipient, dict) else recipient
            requests.append(
                ApprovalRequest(
                    reference=item["reference"],
                    amount=amount_of(item),
                    recipient_code=code if isinstance(code, str) else None,
                )
            )
        return requests
