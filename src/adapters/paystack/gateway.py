"""Paystack's Transfers API through a thin async client on httpx (docs/payouts.md says why
not a Paystack library).

Endpoints used: ``GET /bank/resolve``, ``POST /transferrecipient``, ``POST /transfer`` and
``GET /transfer/verify/{reference}``; every answer is ``{"status": bool, "message": str,
"data": …}``. Amounts are integer minor units (kobo, pesewas, cents) on both sides.

How failures are told apart, which is what keeps a payout to one transfer:

- no connection (refused, DNS, connect timeout): the request surely did not reach Paystack
  → ``ProviderUnreachable``;
- sent but no usable answer (read timeout, connection lost, 5xx, garbage)
  → ``TransferOutcomeUnknown``: the caller looks the reference up before anything else;
- a 4xx answer: Paystack did not take it → ``TransferRefused`` (permanent unless it is
  about our balance, our key, the rate limit or a reference it already has).
"""

from __future__ import annotations

from typing import Any

import httpx

from core.domain.money import Money
from core.domain.payouts import (
    AccountDetails,
    Observation,
    Recipient,
    ResolvedAccount,
    TransferState,
)
from core.errors import FeatureUnavailable, InvalidInput
from core.ports.payouts import (
    ProviderUnreachable,
    TransferOrder,
    TransferOutcomeUnknown,
    TransferRefused,
)

DEFAULT_BASE_URL = "https://api.paystack.co"
PROVIDER = "paystack"
OTP_ADVICE = (
    "Paystack asks for an OTP to finalise this transfer: disable OTP for transfers in the "
    "Paystack dashboard so the API can send them, then finalise or retry it."
)

#: Paystack's transfer statuses → ours.
STATES: dict[str, TransferState] = {
    "pending": TransferState.PENDING,
    "received": TransferState.PENDING,
    "queued": TransferState.PENDING,
    "processing": TransferState.PENDING,
    "otp": TransferState.OTP,
    "success": TransferState.SUCCESS,
    "failed": TransferState.FAILED,
    "abandoned": TransferState.FAILED,
    "rejected": TransferState.FAILED,
    "blocked": TransferState.FAILED,
    "reversed": TransferState.REVERSED,
}
#: 4xx answers that an operator fixes (the payout waits) rather than the member.
_WAIT_WORDS = ("balance", "duplicate", "key", "limit", "unavailable", "try again")


def observation_of(data: dict[str, Any]) -> Observation | None:
    """Our view of a Paystack transfer object (``None`` when its status is unknown)."""
    state = STATES.get(str(data.get("status", "")).lower())
    if state is None:
        return None
    code = data.get("transfer_code")
    failure = None
    if state is TransferState.OTP:
        failure = ("otp_required", OTP_ADVICE)
    elif state in {TransferState.FAILED, TransferState.REVERSED}:
        reason = data.get("reason") or data.get("gateway_response") or data.get("status")
        failure = (f"paystack_{data.get('status')}", str(reason))
    return Observation(
        state,
        str(code) if code else None,
        failure[0] if failure else None,
        failure[1] if failure else None,
    )


class PaystackPayoutGateway:
    """Implements ``core.ports.payouts.PayoutGateway`` with Paystack."""

    def __init__(
        self,
        *,
        secret_key: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout_seconds: float = 30.0,
        connect_timeout_seconds: float = 5.0,
    ) -> None:
        if not secret_key:
            raise ValueError("Paystack needs a secret key.")
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {secret_key}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
        )

    @property
    def provider(self) -> str:
        return PROVIDER

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- accounts --------------------------------------------------------------------------

    async def resolve_account(self, details: AccountDetails) -> ResolvedAccount:
        params = {"account_number": details.account_number, "bank_code": details.bank_code or ""}
        status, body = await self._call("GET", "/bank/resolve", params=params)
        if status >= 400 or not body.get("status"):
            raise self._account_problem(status, body, "Could not resolve the account name.")
        name = str((body.get("data") or {}).get("account_name") or "").strip()
        if not name:
            raise InvalidInput(
                "Paystack knows no name for that account.", code="account_unresolvable"
            )
        return ResolvedAccount(name)

    async def create_recipient(self, details: AccountDetails, account_name: str) -> Recipient:
        payload = {
            "type": details.recipient_type,
            "name": account_name,
            "account_number": details.account_number,
            "bank_code": details.bank_code,
            "currency": details.currency,
        }
        status, body = await self._call("POST", "/transferrecipient", json=payload)
        data = body.get("data") or {}
        code = data.get("recipient_code")
        if status >= 400 or not body.get("status") or not code:
            raise self._account_problem(status, body, "Paystack did not register the account.")
        bank_name = str((data.get("details") or {}).get("bank_name") or details.bank_code or "")
        return Recipient(PROVIDER, str(code), bank_name)

    def _account_problem(self, status: int, body: dict[str, Any], fallback: str) -> Exception:
        message = str(body.get("message") or fallback)
        if 400 <= status < 500 and status not in {401, 403, 429}:
            return InvalidInput(message, code="account_unresolvable")
        return FeatureUnavailable(
            "The payment provider could not check the account now; try again later.",
            code="payouts_provider_error",
        )

    # -- transfers -------------------------------------------------------------------------

    async def send_transfer(self, order: TransferOrder) -> Observation:
        payload = {
            "source": "balance",
            "amount": order.amount.amount_minor,
            "currency": order.amount.currency,
            "recipient": order.recipient_code,
            "reference": order.reference,
            "reason": order.reason,
        }
        status, body = await self._call("POST", "/transfer", json=payload, sent_matters=True)
        if status >= 500:
            raise TransferOutcomeUnknown(f"Paystack answered {status}.")
        if status >= 400 or not body.get("status"):
            message = str(body.get("message") or f"Paystack answered {status}.")
            permanent = status not in {401, 403, 429} and not any(
                word in message.lower() for word in _WAIT_WORDS
            )
            raise TransferRefused(message, permanent=permanent, status=status)
        seen = observation_of(body.get("data") or {})
        if seen is None:
            raise TransferOutcomeUnknown("Paystack answered a transfer status we do not know.")
        return seen

    async def find_transfer(self, reference: str) -> Observation | None:
        status, body = await self._call("GET", f"/transfer/verify/{reference}", sent_matters=True)
        if status == 404 or (status == 400 and "not found" in str(body.get("message")).lower()):
            return None
        if status >= 400 or not body.get("status"):
            raise TransferOutcomeUnknown(f"Paystack could not verify the transfer ({status}).")
        data = body.get("data") or {}
        if str(data.get("reference", reference)) != reference:
            raise TransferOutcomeUnknown("Paystack verified another reference.")
        seen = observation_of(data)
        if seen is None:
            raise TransferOutcomeUnknown("Paystack answered a transfer status we do not know.")
        return seen

    # -- the wire --------------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, sent_matters: bool = False, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        try:
            response = await self._client.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise ProviderUnreachable(
                "Paystack cannot be reached; try again later.", code="provider_unreachable"
            ) from error
        except httpx.HTTPError as error:
            if sent_matters:
                raise TransferOutcomeUnknown(
                    f"No answer from Paystack ({type(error).__name__})."
                ) from error
            raise FeatureUnavailable(
                "The payment provider did not answer; try again later.",
                code="payouts_provider_error",
            ) from error
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500 and not sent_matters:
            raise FeatureUnavailable(
                "The payment provider is having trouble; try again later.",
                code="payouts_provider_error",
            )
        return response.status_code, body


def amount_of(data: dict[str, Any]) -> Money | None:
    """The amount of a Paystack transfer object, if it names one we understand."""
    amount, currency = data.get("amount"), data.get("currency")
    if type(amount) is not int or not isinstance(currency, str):
        return None
    try:
        return Money(amount, currency.upper())
    except InvalidInput:
        return None
