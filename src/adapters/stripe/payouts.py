"""Transfers to Stripe connected accounts with the official ``stripe`` SDK (its async
methods on ``httpx``), and Stripe's signed webhooks.

A transfer is created with ``transfer_group`` = the payout id (so it can be found by
reference at any time) and ``Idempotency-Key`` = the payout id (so a resent request within
Stripe's 24 h key window returns the first transfer). A Stripe transfer is final when
created: ``success``; ``transfer.reversed`` takes it back. ``base_url`` points the client
at another host (the SDK's ``base_addresses["api"]``, the client form of ``stripe.api_base``),
which is how the tests use a local contract server.
"""

from __future__ import annotations

from typing import Any

import stripe

from core.domain.money import Money
from core.domain.payouts import (
    AccountDetails,
    Observation,
    Recipient,
    ResolvedAccount,
    TransferState,
)
from core.errors import FeatureUnavailable, InvalidInput, NotAuthenticated
from core.ports.payouts import (
    TransferEvent,
    TransferOrder,
    TransferOutcomeUnknown,
    TransferRefused,
)

PROVIDER = "stripe"
DEFAULT_BASE_URL = "https://api.stripe.com"
WEBHOOK_TOLERANCE_SECONDS = 300
_WAIT_CODES = {"balance_insufficient", "insufficient_funds", "rate_limit"}


def _plain(found: Any) -> dict[str, Any]:
    """A Stripe object as a plain dict (Stripe objects are not dicts)."""
    plain: dict[str, Any] = found.to_dict() if hasattr(found, "to_dict") else dict(found)
    return plain


def _observation(found: Any) -> Observation:
    transfer = _plain(found)
    amount, reversed_ = int(transfer["amount"]), int(transfer.get("amount_reversed") or 0)
    if transfer.get("reversed") or (amount and reversed_ >= amount):
        return Observation(TransferState.REVERSED, transfer["id"], "stripe_reversed", "reversed")
    return Observation(TransferState.SUCCESS, transfer["id"])


class StripePayoutGateway:
    """Implements ``core.ports.payouts.PayoutGateway`` with Stripe Connect transfers."""

    def __init__(self, *, secret_key: str, base_url: str = DEFAULT_BASE_URL) -> None:
        if not secret_key:
            raise ValueError("Stripe needs a secret key.")
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": base_url.rstrip("/")},
            http_client=stripe.HTTPXClient(),
            max_network_retries=0,
        )

    @property
    def provider(self) -> str:
        return PROVIDER

    async def resolve_account(self, details: AccountDetails) -> ResolvedAccount:
        try:
            account = await self._client.v1.accounts.retrieve_async(details.account_number)
        except stripe.InvalidRequestError as error:
            raise InvalidInput(
                "Stripe knows no such connected account.", code="account_unresolvable"
            ) from error
        except stripe.StripeError as error:
            raise _unavailable() from error
        found: Any = account.to_dict()
        capabilities = found.get("capabilities") or {}
        if capabilities.get("transfers") != "active":
            raise InvalidInput(
                "That Stripe account cannot receive transfers yet.", code="account_not_ready"
            )
        profile = found.get("business_profile") or {}
        dashboard = (found.get("settings") or {}).get("dashboard") or {}
        name = profile.get("name") or dashboard.get("display_name")
        if not name:
            raise InvalidInput("The Stripe account has no name.", code="account_unresolvable")
        return ResolvedAccount(str(name))

    async def create_recipient(self, details: AccountDetails, account_name: str) -> Recipient:
        return Recipient(PROVIDER, details.account_number, "Stripe")

    async def send_transfer(self, order: TransferOrder) -> Observation:
        params: dict[str, Any] = {
            "amount": order.amount.amount_minor,
            "currency": order.amount.currency.lower(),
            "destination": order.recipient_code,
            "transfer_group": order.reference,
            "description": order.reason,
            "metadata": {"payout_id": order.reference},
        }
        try:
            transfer = await self._client.v1.transfers.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": order.reference},
            )
        except (stripe.APIConnectionError, stripe.APIError, stripe.IdempotencyError) as error:
            raise TransferOutcomeUnknown(f"No usable answer from Stripe: {error}") from error
        except (stripe.RateLimitError, stripe.AuthenticationError, stripe.PermissionError) as error:
            raise TransferRefused(str(error), permanent=False) from error
        except stripe.InvalidRequestError as error:
            raise TransferRefused(str(error), permanent=error.code not in _WAIT_CODES) from error
        except stripe.StripeError as error:
            raise TransferOutcomeUnknown(f"Stripe: {error}") from error
        return _observation(transfer)

    async def find_transfer(self, reference: str) -> Observation | None:
        try:
            page = await self._client.v1.transfers.list_async(
                {"transfer_group": reference, "limit": 1}
            )
        except stripe.StripeError as error:
            raise TransferOutcomeUnknown(f"Stripe could not list transfers: {error}") from error
        found = list(page.data)
        return _observation(found[0]) if found else None


def _unavailable() -> FeatureUnavailable:
    return FeatureUnavailable(
        "The payment provider could not check the account now; try again later.",
        code="payouts_provider_error",
    )


class StripeWebhookVerifier:
    """Implements ``TransferWebhookVerifier``: ``Stripe-Signature`` checked by the SDK
    (``stripe.Webhook.construct_event``, 300 s tolerance against replays)."""

    def __init__(self, *, webhook_secret: str) -> None:
        if not webhook_secret:
            raise ValueError("Stripe webhooks need the endpoint's signing secret.")
        self._secret = webhook_secret

    @property
    def provider(self) -> str:
        return PROVIDER

    def verify(self, body: bytes, signature: str) -> list[TransferEvent]:
        try:
            event = stripe.Webhook.construct_event(
                body, signature, self._secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as error:
            raise NotAuthenticated(
                "The Stripe signature does not check out.", code="invalid_webhook_signature"
            ) from error
        except ValueError as error:
            raise InvalidInput("Not a Stripe event.", code="invalid_webhook_body") from error
        if event["type"] not in {"transfer.created", "transfer.reversed", "transfer.updated"}:
            return []
        transfer = _plain(event["data"]["object"])
        reference = transfer.get("transfer_group") or (transfer.get("metadata") or {}).get(
            "payout_id"
        )
        if not isinstance(reference, str):
            return []
        return [
            TransferEvent(
                key=str(event["id"]),
                reference=reference,
                observation=_observation(transfer),
                amount=Money(int(transfer["amount"]), str(transfer["currency"]).upper()),
                recipient_code=transfer.get("destination"),
            )
        ]
