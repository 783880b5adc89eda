"""A local stand-in for a LiveKit server's Twirp RoomService, for contract tests.

Speaks ``POST /twirp/livekit.RoomService/<Method>`` in protobuf or JSON (answering in the
format it was sent), checks the bearer token like LiveKit does (HS256 signed with the API
secret, issuer = API key, the grant each call needs) and keeps rooms and participants in
memory so tests can arrange and assert them. Listens on 127.0.0.1 on a free port.

    with LiveKitContractServer() as server:
        video = LiveKitVideo(url=server.url, api_key=server.api_key, ...)

or use the ``livekit_server`` fixture below (import it into a test module or conftest).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit import api

TWIRP_PREFIX = "/twirp/livekit.RoomService/"
PROTOBUF = "application/protobuf"
JSON = "application/json"
DEFAULT_API_KEY = "contract-key"
DEFAULT_API_SECRET = "contract-secret-0123456789abcdef0123456789"


class TwirpFailure(Exception):
    """A Twirp error answer: ``code`` and its HTTP status."""

    def __init__(self, status: HTTPStatus, code: str, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _unauthenticated(msg: str) -> TwirpFailure:
    return TwirpFailure(HTTPStatus.UNAUTHORIZED, "unauthenticated", msg)


def _denied(msg: str) -> TwirpFailure:
    return TwirpFailure(HTTPStatus.FORBIDDEN, "permission_denied", msg)


def _not_found(msg: str) -> TwirpFailure:
    return TwirpFailure(HTTPStatus.NOT_FOUND, "not_found", msg)


@dataclass(frozen=True)
class RecordedCall:
    """One request the server answered (or refused)."""

    method: str
    content_type: str
    request: Message | None
    status: int


@dataclass
class _Route:
    request_class: type[Message]
    grant_check: Callable[[api.VideoGrants, Any], None]
    handle: Callable[[Any], Message]


@dataclass
class LiveKitContractServer:
    """In-memory RoomService. ``rooms`` and ``participants`` (room → identity → info) and
    ``calls`` are plain attributes for tests to arrange and inspect."""

    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    rooms: dict[str, api.Room] = field(default_factory=dict)
    participants: dict[str, dict[str, api.ParticipantInfo]] = field(default_factory=dict)
    calls: list[RecordedCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sids: Iterator[int] = field(default_factory=itertools.count)
    _http: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._http is not None, "the server is not running"
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LiveKitContractServer:
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LiveKitContractServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def add_participant(self, room: str, identity: str, name: str = "") -> api.ParticipantInfo:
        """Someone joins ``room`` (which must exist), as if they had connected."""
        with self._lock:
            if room not in self.rooms:
                raise KeyError(room)
            info = api.ParticipantInfo(
                sid=f"PA_{next(self._sids)}",
                identity=identity,
                name=name,
                state=api.ParticipantInfo.State.ACTIVE,
                joined_at=int(time.time()),
            )
            self.participants.setdefault(room, {})[identity] = info
            self.rooms[room].num_participants = len(self.participants[room])
            return info

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    # --- RoomService ---------------------------------------------------------------------

    def _create_room(self, request: api.CreateRoomRequest) -> api.Room:
        if request.name in self.rooms:
            return self.rooms[request.name]
        room = api.Room(
            sid=f"RM_{next(self._sids)}",
            name=request.name,
            empty_timeout=request.empty_timeout,
            max_participants=request.max_participants,
            metadata=request.metadata,
            creation_time=int(time.time()),
        )
        self.rooms[request.name] = room
        return room

    def _delete_room(self, request: api.DeleteRoomRequest) -> api.DeleteRoomResponse:
        if self.rooms.pop(request.room, None) is None:
            raise _not_found("room not found")
        self.participants.pop(request.room, None)
        return api.DeleteRoomResponse()

    def _list_rooms(self, request: api.ListRoomsRequest) -> api.ListRoomsResponse:
        names = set(request.names)
        rooms = [r for name, r in self.rooms.items() if not names or name in names]
        return api.ListRoomsResponse(rooms=rooms)

    def _list_participants(
        self, request: api.ListParticipantsRequest
    ) -> api.ListParticipantsResponse:
        present = self.participants.get(request.room, {})
        return api.ListParticipantsResponse(participants=list(present.values()))

    def _remove_participant(
        self, request: api.RoomParticipantIdentity
    ) -> api.RemoveParticipantResponse:
        present = self.participants.get(request.room, {})
        if present.pop(request.identity, None) is None:
            raise _not_found("participant not found")
        self.rooms[request.room].num_participants = len(present)
        return api.RemoveParticipantResponse()

    def _routes(self) -> dict[str, _Route]:
        return {
            "CreateRoom": _Route(api.CreateRoomRequest, _needs_room_create, self._create_room),
            "DeleteRoom": _Route(api.DeleteRoomRequest, _needs_room_create, self._delete_room),
            "ListRooms": _Route(api.ListRoomsRequest, _needs_room_list, self._list_rooms),
            "ListParticipants": _Route(
                api.ListParticipantsRequest, _needs_room_admin, self._list_participants
            ),
            "RemoveParticipant": _Route(
                api.RoomParticipantIdentity, _needs_room_admin, self._remove_participant
            ),
        }

    def _answer(
        self, method: str, content_type: str, auth: str, body: bytes
    ) -> tuple[Message, Message]:
        route = self._routes().get(method)
        if route is None:
            raise TwirpFailure(HTTPStatus.NOT_FOUND, "bad_route", f"no method {method}")
        grants = self._grants(auth)
        request = _decode(route.request_class, content_type, body)
        route.grant_check(grants, request)
        with self._lock:
            return request, route.handle(request)

    def _grants(self, authorization: str) -> api.VideoGrants:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthenticated("no bearer token")
        try:
            claims = api.TokenVerifier(self.api_key, self.api_secret).verify(token)
        except Exception as error:
            raise _unauthenticated(f"invalid token: {error}") from error
        return claims.video or api.VideoGrants()


def _needs_room_create(grants: api.VideoGrants, _: object) -> None:
    if not grants.room_create:
        raise _denied("roomCreate grant required")


def _needs_room_list(grants: api.VideoGrants, _: object) -> None:
    if not grants.room_list:
        raise _denied("roomList grant required")


def _needs_room_admin(grants: api.VideoGrants, request: Any) -> None:
    if not grants.room_admin or grants.room != request.room:
        raise _denied("roomAdmin grant for this room required")


def _decode(request_class: type[Message], content_type: str, body: bytes) -> Message:
    request = request_class()
    try:
        if content_type == JSON:
            json_format.Parse(body.decode() or "{}", request)
        else:
            request.ParseFromString(body)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError) as error:
        raise TwirpFailure(HTTPStatus.BAD_REQUEST, "malformed", str(error)) from error
    return request


def _encode(message: Message, content_type: str) -> bytes:
    if content_type == JSON:
        return json_format.MessageToJson(message, preserving_proto_field_name=True).encode()
    return message.SerializeToString()


def _handler_for(server: LiveKitContractServer) -> type[BaseHTTPRequestHandler]:
    class TwirpHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            method = self.path.removeprefix(TWIRP_PREFIX)
            try:
                if not self.path.startswith(TWIRP_PREFIX) or content_type not in {JSON, PROTOBUF}:
                    raise TwirpFailure(HTTPStatus.NOT_FOUND, "bad_route", "unsupported route")
                request, answer = server._answer(
                    method, content_type, self.headers.get("Authorization") or "", body
                )
            except TwirpFailure as failure:
                server.calls.append(RecordedCall(method, content_type, None, failure.status))
                error = {"code": failure.code, "msg": failure.msg}
                self._send(failure.status, JSON, json.dumps(error).encode())
                return
            server.calls.append(RecordedCall(method, content_type, request, HTTPStatus.OK))
            self._send(HTTPStatus.OK, content_type, _encode(answer, content_type))

        def _send(self, status: int, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests assert on ``server.calls`` instead."""

    return TwirpHandler


@pytest.fixture
def livekit_server() -> Iterator[LiveKitContractServer]:
    """A running contract server, fresh for each test."""
    with LiveKitContractServer() as server:
        yield server
