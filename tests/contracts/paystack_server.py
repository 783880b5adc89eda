"""A local stand-in for the parts of Paystack's API that payouts use, on 127.0.0.1, speaking
its documented wire protocol (``Authorization: Bearer sk_…``, JSON ``{status, message,
data}``, amounts in minor units), with programmable trouble and signed webhooks:

    with running_paystack_server(secret_key="sk_test_x") as paystack:
        paystack.accounts["0123456789", "058"] = "ADA LOVELACE"
        paystack.down = True                  # every request answers 500 until set back
        held = paystack.hold_transfer_replies()  # transfers are made, replies wait …
        held.arrived.wait(); …; held.release.set()
        paystack.finish(reference, "success")   # the transfer's final state
        body, signature = paystack.webhook("transfer.success", reference)
        paystack.transfers[reference]           # what it holds, by reference

Endpoints: ``GET /bank/resolve``, ``POST /transferrecipient``, ``POST /transfer`` (a used
reference is refused, as Paystack does), ``GET /transfer/verify/{reference}``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.contracts.serving import Reply, serving

SECRET_KEY = "sk_test_chorus_contract_0000000000000000"


@dataclass
class HeldReplies:
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class PaystackContractServer:
    secret_key: str = SECRET_KEY
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    recipients: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfer_requests: list[dict[str, Any]] = field(default_factory=list)
    initial_status: str = "pending"
    down: bool = False
    refusal: str | None = None  # message of a 400 answer to the next transfers
    base_url: str = ""
    _held: HeldReplies | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hold_transfer_replies(self) -> HeldReplies:
        """The next transfer is made, but its reply waits for ``release`` (≤ 60 s)."""
        self._held = HeldReplies()
        return self._held

    def finish(self, reference: str, status: str) -> None:
        with self._lock:
            self.transfers[reference]["status"] = status

    def webhook(self, event: str, reference: str, **changes: Any) -> tuple[bytes, str]:
        """A signed webhook about the transfer, as Paystack sends it."""
        data = {**self.transfers[reference], **changes}
        body = json.dumps({"event": event, "data": data}).encode()
        return body, sign(body, self.secret_key)

    # -- the API ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes):
        if headers.get("Authorization") != f"Bearer {self.secret_key}":
            return 401, {}, {"status": False, "message": "Invalid key"}
        if self.down:
            return 500, {}, {"status": False, "message": "An error occurred"}
        body = json.loads(raw) if raw else {}
        if method == "GET" and path == "/bank/resolve":
            return self._resolve(parse_qs(query))
        if method == "POST" and path == "/transferrecipient":
            return self._recipient(body)
        if method == "POST" and path == "/transfer":
            return self._transfer(body)
        if method == "GET" and path.startswith("/transfer/verify/"):
            return self._verify(path.rsplit("/", 1)[1])
        return 404, {}, {"status": False, "message": "Not found"}

    def _resolve(self, query: dict[str, list[str]]) -> Reply:
        number = query.get("account_number", [""])[0]
        bank = query.get("bank_code", [""])[0]
        name = self.accounts.get((number, bank))
        if name is None:
            return 422, {}, {"status": False, "message": "Could not resolve account name."}
        return 200, {}, {"status": True, "message": "Account number resolved",
                         "data": {"account_number": number, "account_name": name}}  # fmt: skip

    def _recipient(self, body: dict[str, Any]) -> Reply:
        key = (body.get("account_number"), body.get("bank_code"))
        if key not in self.accounts or body.get("type") not in {
            "nuban", "ghipss", "kepss", "basa", "mobile_money"}:  # fmt: skip
            return 400, {}, {"status": False, "message": "Account details are invalid"}
        code = f"RCP_{len(self.recipients) + 1:010d}"
        recipient = {"recipient_code": code, "name": body["name"], "currency": body["currency"],
                     "details": {"bank_code": body["bank_code"],
                                 "bank_name": f"Bank {body['bank_code']}",
                                 "account_number": body["account_number"]}}  # fmt: skip
        self.recipients[code] = recipient
        return 201, {}, {"status": True, "message": "Transfer recipient created", "data": recipient}

    def _transfer(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.transfer_requests.append(body)
            reference = str(body.get("reference", ""))
            if self.refusal:
                return 400, {}, {"status": False, "message": self.refusal}
            if reference in self.transfers:
                return 400, {}, {"status": False, "message": "Duplicate Transfer Reference"}
            if body.get("recipient") not in self.recipients or type(body.get("amount")) is not int:
                return 400, {}, {"status": False, "message": "Invalid transfer"}
            number = len(self.transfers) + 1
            transfer = {"id": number, "reference": reference, "amount": body["amount"],
                        "currency": body.get("currency", "NGN"), "status": self.initial_status,
                        "transfer_code": f"TRF_{number:08d}", "reason": body.get("reason"),
                        "recipient": {"recipient_code": body["recipient"]}}  # fmt: skip
            self.transfers[reference] = transfer
            held, self._held = self._held, None
        if held is not None:
            held.arrived.set()
            held.release.wait(timeout=60)
            return None  # the caller is gone: nothing to answer
        return 200, {}, {"status": True, "message": "Transfer has been queued", "data": transfer}

    def _verify(self, reference: str) -> Reply:
        transfer = self.transfers.get(reference)
        if transfer is None:
            return 404, {}, {"status": False, "message": "Transfer not found"}
        return 200, {}, {"status": True, "message": "Transfer retrieved", "data": transfer}


def sign(body: bytes, secret_key: str = SECRET_KEY) -> str:
    """``x-paystack-signature``: hex HMAC-SHA512 of the raw body with the secret key."""
    return hmac.new(secret_key.encode(), body, hashlib.sha512).hexdigest()


@contextmanager
def running_paystack_server(secret_key: str = SECRET_KEY) -> Iterator[PaystackContractServer]:
    contract = PaystackContractServer(secret_key=secret_key)
    with serving(contract.handle) as url:
        contract.base_url = url
        yield contract


@pytest.fixture
def paystack_server() -> Iterator[PaystackContractServer]:
    """A fresh server per test (import this fixture into the test module)."""
    with running_paystack_server() as server:
        yield server
