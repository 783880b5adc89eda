"""A local stand-in for the parts of Stripe's API that payouts use, on 127.0.0.1, speaking
its wire protocol (``Authorization: Bearer sk_…``, form-encoded requests, JSON objects,
``Idempotency-Key`` replays, ``{"error": {...}}`` failures), and signing webhooks as Stripe
does (``Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")``).

Endpoints: ``GET /v1/accounts/{id}``, ``POST /v1/transfers``, ``GET /v1/transfers``
(``transfer_group`` filter).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.contracts.serving import Reply, serving

SECRET_KEY = "sk_test_chorus_contract_stripe"
WEBHOOK_SECRET = "whsec_chorus_contract_0000"


@dataclass
class StripeContractServer:
    secret_key: str = SECRET_KEY
    webhook_secret: str = WEBHOOK_SECRET
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    balance_minor: int = 10**9
    base_url: str = ""
    _replies: dict[str, Reply] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_account(self, account_id: str, name: str, *, transfers: str = "active") -> None:
        self.accounts[account_id] = {"id": account_id, "object": "account",
                                     "business_profile": {"name": name},
                                     "capabilities": {"transfers": transfers}}  # fmt: skip

    def reverse(self, transfer_id: str) -> dict[str, Any]:
        transfer = next(t for t in self.transfers if t["id"] == transfer_id)
        transfer.update(reversed=True, amount_reversed=transfer["amount"])
        return transfer

    def webhook(self, event_type: str, transfer: dict[str, Any], *, at: int | None = None):
        """A signed event about ``transfer``; ``at`` backdates the signature."""
        event = {"id": f"evt_{len(self.transfers)}_{event_type}_{transfer['id']}",
                 "object": "event", "type": event_type, "api_version": "2024-06-20",
                 "created": int(time.time()), "data": {"object": transfer}}  # fmt: skip
        body = json.dumps(event).encode()
        return body, signature(body, self.webhook_secret, at=at)

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes):
        if headers.get("Authorization") != f"Bearer {self.secret_key}":
            return _error(401, "authentication_error", "Invalid API Key provided")
        if method == "GET" and path.startswith("/v1/accounts/"):
            account = self.accounts.get(path.rsplit("/", 1)[1])
            if account is None:
                return _error(404, "invalid_request_error", "No such account", "resource_missing")
            return 200, {}, account
        if method == "POST" and path == "/v1/transfers":
            return self._create(parse_qs(raw.decode()), headers.get("Idempotency-Key"))
        if method == "GET" and path == "/v1/transfers":
            group = parse_qs(query).get("transfer_group", [None])[0]
            found = [t for t in self.transfers if group is None or t["transfer_group"] == group]
            return 200, {}, {"object": "list", "url": "/v1/transfers", "has_more": False,
                             "data": found[:1]}  # fmt: skip
        return _error(404, "invalid_request_error", "Unrecognized request URL")

    def _create(self, form: dict[str, list[str]], key: str | None) -> Reply:
        with self._lock:
            if key and key in self._replies:
                return self._replies[key]
            amount = int(form["amount"][0])
            if form["destination"][0] not in self.accounts:
                reply = _error(400, "invalid_request_error", "No such destination")
            elif amount > self.balance_minor:
                reply = _error(400, "invalid_request_error", "Insufficient funds",
                               "balance_insufficient")  # fmt: skip
            else:
                transfer = {"id": f"tr_{len(self.transfers) + 1:06d}", "object": "transfer",
                            "amount": amount, "currency": form["currency"][0],
                            "destination": form["destination"][0],
                            "transfer_group": form.get("transfer_group", [None])[0],
                            "metadata": {"payout_id": form.get("metadata[payout_id]", [""])[0]},
                            "reversed": False, "amount_reversed": 0}  # fmt: skip
                self.transfers.append(transfer)
                reply = (200, {}, transfer)
            if key:
                self._replies[key] = reply
            return reply


def _error(status: int, kind: str, message: str, code: str | None = None) -> Reply:
    error = {"type": kind, "message": message, **({"code": code} if code else {})}
    return status, {}, {"error": error}


def signature(body: bytes, secret: str = WEBHOOK_SECRET, *, at: int | None = None) -> str:
    stamp = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


@contextmanager
def running_stripe_server() -> Iterator[StripeContractServer]:
    contract = StripeContractServer()
    with serving(contract.handle) as url:
        contract.base_url = url
        yield contract


@pytest.fixture
def stripe_server() -> Iterator[StripeContractServer]:
    with running_stripe_server() as server:
        yield server
