"""When a send may have reached Expo without an answer, the adapter says so
(``PushOutcomeUnknown``) instead of "safe to retry": resending could deliver twice."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from adapters.expo.push_sender import ExpoPushSender
from core.domain.notifications import (
    NotificationCategory,
    PushMessage,
    PushOutcomeUnknown,
    PushServiceUnavailable,
)

MESSAGE = PushMessage("ExponentPushToken[x]", "t", "b", NotificationCategory.BADGE)


def _serve_once(listener: socket.socket, reply: bool, hold: threading.Event) -> None:
    connection, _ = listener.accept()
    with connection:
        connection.settimeout(5)
        received = b""
        while b"\r\n\r\n" not in received:
            received += connection.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(body) < length:
            body += connection.recv(65536)
        if not reply:
            hold.wait(5)  # never answer (the client times out), or …
        # … drop the connection without a word.


@pytest.fixture
def silent_server(request: pytest.FixtureRequest) -> Iterator[str]:
    hold = threading.Event()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        thread = threading.Thread(
            target=_serve_once, args=(listener, request.param, hold), daemon=True
        )
        thread.start()
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
        hold.set()
        thread.join(5)


@pytest.mark.parametrize(
    "silent_server", [True, False], indirect=True, ids=["connection-dropped", "read-timeout"]
)
async def test_a_request_that_got_no_answer_has_an_unknown_outcome(silent_server: str) -> None:
    sender = ExpoPushSender(host=silent_server, timeout_seconds=0.5)
    with pytest.raises(PushOutcomeUnknown) as unknown:
        await sender.send([MESSAGE])
    assert unknown.value.code == "push_outcome_unknown"
    sender.close()


async def test_a_refused_connection_never_sent_anything() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = ExpoPushSender(host=f"http://127.0.0.1:{port}", timeout_seconds=1)
    with pytest.raises(PushServiceUnavailable) as unavailable:
        await sender.send([MESSAGE])
    assert not isinstance(unavailable.value, PushOutcomeUnknown)
