"""A TCP proxy on 127.0.0.1 that can hold back the end of the server's stream.

When PostgreSQL ends a session (shutdown, ``pg_terminate_backend``) it sends a FATAL error
and closes the socket. The driver usually sees both in one read; holding the close back for a
moment makes the in-between state — the error received, the connection not yet known to be
closed — last long enough to act on it deterministically.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class HoldingProxy:
    def __init__(self, upstream_port: int, *, hold_close: float) -> None:
        self.upstream_port = upstream_port
        self.hold_close = hold_close
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for pipe in self._pipes:
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        upstream = asyncio.create_task(self._pipe(client_in, server_out, 0.0))
        downstream = asyncio.create_task(self._pipe(server_in, client_out, self.hold_close))
        self._pipes |= {upstream, downstream}

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, hold_close: float
    ) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
            await asyncio.sleep(hold_close)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            sink.close()


@contextlib.asynccontextmanager
async def holding_proxy(upstream_port: int, *, hold_close: float) -> AsyncIterator[HoldingProxy]:
    proxy = HoldingProxy(upstream_port, hold_close=hold_close)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
