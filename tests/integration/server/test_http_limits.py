"""Issue 11 §3: the real server refuses oversized heads, closes slow and idle connections
within their deadlines, caps open connections, and logs a body that never came as 408."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import pytest

from tests.integration.server.served import ServedChorus

LIMITS = {
    "CHORUS_HTTP_HEADER_TIMEOUT_SECONDS": "1",
    "CHORUS_HTTP_BODY_TIMEOUT_SECONDS": "1",
    "CHORUS_HTTP_KEEP_ALIVE_SECONDS": "1",
    "CHORUS_HTTP_MAX_HEADER_BYTES": "8192",
    "CHORUS_HTTP_MAX_HEADERS": "50",
    "CHORUS_HTTP_MAX_CONNECTIONS": "40",
}
GET_HEALTH = b"GET /health HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedChorus]:
    server = ServedChorus(database_url, tmp_path_factory.mktemp("serve") / "serve.log", **LIMITS)
    try:
        yield server
    finally:
        server.stop()


async def exchange(served: ServedChorus, request: bytes, *, wait: float = 5) -> tuple[bytes, float]:
    """Send ``request``, read until the server closes; the answer and how long it took."""
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    started = time.monotonic()
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(-1), wait)
    finally:
        writer.close()
    return answer, time.monotonic() - started


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body_of(answer: bytes) -> dict:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])


async def test_a_plain_request_works_without_a_server_banner(served):
    answer, _ = await exchange(served, GET_HEALTH + b"Connection: close\r\n\r\n")
    assert status_of(answer) == 200
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert b"\r\nserver:" not in head
    assert b"x-content-type-options: nosniff" in head


async def test_a_one_megabyte_header_is_431(served):
    answer, _ = await exchange(served, GET_HEALTH + b"X-Big: " + b"a" * 1_000_000 + b"\r\n\r\n")
    assert status_of(answer) == 431
    assert body_of(answer)["code"] == "headers_too_large"


async def test_two_thousand_headers_are_431(served):
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
    answer, _ = await exchange(served, GET_HEALTH + headers + b"\r\n")
    assert status_of(answer) == 431


async def test_a_long_url_counts_toward_the_head_limit(served):
    answer, _ = await exchange(served, b"GET /health?" + b"q" * 10_000 + b" HTTP/1.1\r\n\r\n")
    assert status_of(answer) == 431


async def test_an_idle_connection_is_closed_within_the_header_timeout(served):
    answer, took = await exchange(served, b"")
    assert status_of(answer) == 408
    assert 0.8 < took < 2.5


async def test_a_slowloris_head_is_closed_within_the_header_timeout(served):
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    started = time.monotonic()
    writer.write(GET_HEALTH)
    closed_after = None
    for _ in range(40):  # a header line every 0.1 s: never finishes on its own
        await asyncio.sleep(0.1)
        if reader.at_eof() or writer.is_closing():
            break
        try:
            writer.write(b"X-Slow: 1\r\n")
            await writer.drain()
        except ConnectionError:
            break
        answer = await _read_if_ready(reader)
        if answer:
            closed_after = time.monotonic() - started
            assert status_of(answer) == 408
            break
    writer.close()
    assert closed_after is not None
    assert closed_after < 2.5


async def _read_if_ready(reader: asyncio.StreamReader) -> bytes:
    try:
        return await asyncio.wait_for(reader.read(65536), 0.01)
    except TimeoutError:
        return b""


async def test_a_keep_alive_connection_is_closed_after_the_keep_alive_timeout(served):
    reader, writer = await asyncio.open_connection("127.0.0.1", served.port)
    writer.write(GET_HEALTH + b"\r\n")
    await writer.drain()
    first = await reader.readuntil(b'{"status":"ok"}')
    assert status_of(first) == 200
    started = time.monotonic()
    rest = await asyncio.wait_for(reader.read(-1), 5)
    writer.close()
    assert rest == b""  # closed quietly, nothing more sent
    assert time.monotonic() - started < 2


async def test_a_body_that_never_arrives_is_408_and_logged_as_408(served):
    request = (
        b"PATCH /me HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 900000\r\n\r\n" + b'{"displayName"'
    )
    answer, took = await exchange(served, request)
    assert status_of(answer) == 408
    assert body_of(answer)["code"] == "request_timeout"
    assert took < 2.5
    await asyncio.sleep(0.3)
    access = [
        json.loads(line)
        for line in served.output().splitlines()
        if line.startswith("{") and '"chorus.access"' in line and '"/me"' in line
    ]
    assert access
    assert access[-1]["status"] == 408
    assert "unhandled_error" not in served.output()


async def test_connections_beyond_the_cap_are_refused_and_service_goes_on(served):
    opened = [await asyncio.open_connection("127.0.0.1", served.port) for _ in range(45)]
    try:
        await asyncio.sleep(0.2)
        refused = 0
        for reader, _ in opened:
            answer = await _read_if_ready(reader)
            if answer:
                assert status_of(answer) == 503
                refused += 1
        assert refused >= 5
    finally:
        for _, writer in opened:
            writer.close()
    await asyncio.sleep(0.2)
    answer, _ = await exchange(served, GET_HEALTH + b"Connection: close\r\n\r\n")
    assert status_of(answer) == 200
