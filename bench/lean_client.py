"""A lean HTTP/1.1 keep-alive client for load generation.

The benchmarks run the load generator on the same two cores as the app and the database, so
every cycle it spends is taken from what it measures. httpx costs about three times as much
CPU per request as this: one connection per request in flight, requests written as bytes,
responses read by ``Content-Length``. It speaks just enough HTTP/1.1 for our own app (no
chunked bodies, no redirects, no TLS) and refuses anything else loudly.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LeanResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LeanConnection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"lean client needs http://host:port, got {base_url!r}")
        self._host, self._port = parts.hostname, parts.port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post_json(self, path: str, payload: object, headers: dict[str, str]) -> LeanResponse:
        return await self.request_json("POST", path, payload, headers)

    async def request_json(
        self, method: str, path: str, payload: object, headers: dict[str, str]
    ) -> LeanResponse:
        body = json.dumps(payload).encode()
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self._host}:{self._port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        return await self._exchange("\r\n".join(lines).encode() + b"\r\n\r\n" + body)

    async def get(self, path: str, headers: dict[str, str] | None = None) -> LeanResponse:
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {self._host}:{self._port}",
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        return await self._exchange("\r\n".join(lines).encode() + b"\r\n\r\n")

    async def _exchange(self, request: bytes) -> LeanResponse:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length = None
        for line in header_lines:
            name, _, value = line.partition(":")
            lowered = name.strip().lower()
            if lowered == "content-length":
                length = int(value.strip())
            elif lowered == "transfer-encoding":
                raise RuntimeError("lean client does not read chunked responses")
        if length is None:
            raise RuntimeError(f"response without Content-Length: {status_line}")
        return LeanResponse(status, await self._reader.readexactly(length))

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
            self._writer = self._reader = None
