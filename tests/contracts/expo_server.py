"""A local stand-in for Expo's push API (``/--/api/v2/push/send`` and ``/getReceipts``) on
127.0.0.1, with programmable failures and a record of every delivered message.

    with running_expo_server() as expo:
        sender = ExpoPushSender(host=expo.base_url, access_token="t")
        expo.unregistered_tokens.add("ExponentPushToken[gone]")
        expo.fail_next(429, 503)          # the next two requests fail, then normal service
        expo.fail_receipts_for("ExponentPushToken[old]", "DeviceNotRegistered")
        ...
        expo.deliveries["ExponentPushToken[a]"]   # messages accepted for that device
        expo.requests[-1].headers["Authorization"]
        held = expo.hold_reply_to_send(2)   # the 2nd send is delivered, its reply waits …
        held.arrived.wait(); …; held.release.set()   # … until released (a client dying mid-call)
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SEND_PATH = "/--/api/v2/push/send"
RECEIPTS_PATH = "/--/api/v2/push/getReceipts"
MAX_MESSAGES = 100
Reply = tuple[int, dict[str, str], Any]  # status, headers, JSON body (or plain text)
_TOKEN = re.compile(r"(?:ExponentPushToken|ExpoPushToken)\[[^\[\]\s]+\]")


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class ScriptedFailure:
    status: int
    plain_text: bool = False
    retry_after: int | None = None


@dataclass
class HeldReply:
    """One send request whose messages were delivered but whose reply waits for ``release``."""

    number: int
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class ExpoContractServer:
    """State shared with the handler threads; mutate it from tests (under no lock: tests set
    behaviour before sending)."""

    unregistered_tokens: set[str] = field(default_factory=set)
    ticket_errors: dict[str, str] = field(default_factory=dict)
    receipt_errors: dict[str, str] = field(default_factory=dict)
    required_access_token: str | None = None
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    requests: list[RecordedRequest] = field(default_factory=list)
    base_url: str = ""
    _failures: deque[ScriptedFailure] = field(default_factory=deque)
    _held: HeldReply | None = None
    _sends: int = 0
    _ticket_tokens: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self, *statuses: int, plain_text: bool = False, retry_after: int | None = None
    ) -> None:
        """The next ``len(statuses)`` requests answer with these statuses, in order."""
        for status in statuses:
            self._failures.append(ScriptedFailure(status, plain_text, retry_after))

    def fail_receipts_for(self, token: str, error: str = "DeviceNotRegistered") -> None:
        """Receipts of tickets issued for ``token`` report ``error``."""
        self.receipt_errors[token] = error

    def delivery_count(self, token: str) -> int:
        return len(self.deliveries.get(token, []))

    def hold_reply_to_send(self, number: int) -> HeldReply:
        """The ``number``-th send request (1-based) is handled normally — its messages count
        as delivered — but its reply is held until ``release`` is set (at most 30 s)."""
        self._held = HeldReply(number)
        return self._held

    def wait_if_held(self, path: str) -> None:
        """Called by the handler after handling a request, before replying."""
        held = self._held
        if path != SEND_PATH or held is None:
            return
        with self._lock:
            mine = self._sends == held.number and not held.arrived.is_set()
            if mine:
                held.arrived.set()
        if mine:
            held.release.wait(timeout=30)

    # --- request handling (called from handler threads) ---

    def handle(self, path: str, headers: dict[str, str], body: Any) -> Reply:
        with self._lock:
            self.requests.append(RecordedRequest(path, headers, body))
            if self._failures:
                return self._scripted(self._failures.popleft())
            expected = f"Bearer {self.required_access_token}"
            if self.required_access_token and headers.get("Authorization") != expected:
                return 401, {}, _errors("UNAUTHORIZED", "Invalid access token")
            if path == SEND_PATH:
                self._sends += 1
                return self._send(body)
            if path == RECEIPTS_PATH:
                return self._receipts(body)
            return 404, {}, _errors("NOT_FOUND", path)

    def _scripted(self, failure: ScriptedFailure) -> Reply:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        if failure.plain_text:
            return failure.status, headers, "upstream trouble"
        return failure.status, headers, _errors("SCRIPTED", f"scripted {failure.status}")

    def _send(self, body: Any) -> Reply:
        messages = body if isinstance(body, list) else [body]
        expanded = [{**message, "to": to} for message in messages for to in _recipients(message)]
        if len(expanded) > MAX_MESSAGES:
            too_many = f"You are trying to send more than {MAX_MESSAGES} push notifications"
            return 400, {}, _errors("PUSH_TOO_MANY_NOTIFICATIONS", too_many)
        if not all(isinstance(m["to"], str) and _TOKEN.fullmatch(m["to"]) for m in expanded):
            return 400, {}, _errors("VALIDATION_ERROR", '"to" must be an Expo push token')
        return 200, {}, {"data": [self._ticket(message) for message in expanded]}

    def _ticket(self, message: dict[str, Any]) -> dict[str, Any]:
        token = message["to"]
        error = "DeviceNotRegistered" if token in self.unregistered_tokens else None
        error = self.ticket_errors.get(token, error)
        if error:
            details = {"error": error, "expoPushToken": token}
            return {"status": "error", "message": f"{error}: {token}", "details": details}
        ticket_id = str(uuid.uuid4())
        self._ticket_tokens[ticket_id] = token
        self.deliveries[token].append(message)
        return {"status": "ok", "id": ticket_id}

    def _receipts(self, body: Any) -> Reply:
        receipts: dict[str, Any] = {}
        for ticket_id in body.get("ids", []):
            token = self._ticket_tokens.get(ticket_id)
            if token is None:
                continue  # unknown or expired: absent, as on Expo
            error = self.receipt_errors.get(token)
            receipts[ticket_id] = (
                {"status": "error", "message": error, "details": {"error": error}}
                if error
                else {"status": "ok"}
            )
        return 200, {}, {"data": receipts}


def _recipients(message: dict[str, Any]) -> list[Any]:
    to = message.get("to")
    return to if isinstance(to, list) else [to]


def _errors(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message}]}


class _Handler(BaseHTTPRequestHandler):
    server_version = "ExpoContract/1"
    contract: ExpoContractServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            self._reply(400, {}, _errors("BAD_REQUEST", "body is not JSON"))
            return
        path = self.path.split("?", 1)[0]
        reply = self.contract.handle(path, dict(self.headers.items()), body)
        self.contract.wait_if_held(path)
        self._reply(*reply)

    def _reply(self, status: int, headers: dict[str, str], body: Any) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        payload = text.encode()
        self.send_response(status)
        content_type = "text/plain" if isinstance(body, str) else "application/json"
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client went away (a killed worker): nothing to answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@contextmanager
def running_expo_server() -> Iterator[ExpoContractServer]:
    """Serve on 127.0.0.1 at a free port for the duration of the block."""
    contract = ExpoContractServer()
    handler = type("Handler", (_Handler,), {"contract": contract})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    contract.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield contract
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def expo_server() -> Iterator[ExpoContractServer]:
    """A fresh server per test (import this fixture into the test module)."""
    with running_expo_server() as server:
        yield server
