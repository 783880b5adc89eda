"""Chorus served for fault runs: in this process (uvicorn on 127.0.0.1), or as real
``chorus serve`` / ``chorus worker`` processes that can be killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import uvicorn

from core.domain.invariants import HealthReport
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.settings import Environment, Secret, Settings, load_settings
from tests.integration.faults.cluster import free_port

CHORUS = Path(sys.executable).with_name("chorus")
# Votes from many validators at a high rate: the write limit is not what is under test.
RUN_SETTINGS = {
    "CHORUS_ENV": "test",
    "CHORUS_CONSENSUS_POLICY": "majority",
    "CHORUS_WRITE_RATE_LIMIT_PER_MINUTE": "100000",
    "CHORUS_LOG_LEVEL": "WARNING",
    "CHORUS_EXPO_PUSH_URL": "http://127.0.0.1:9",  # nothing leaves this machine
}


def fault_settings(database_url: str) -> Settings:
    settings = load_settings(RUN_SETTINGS, environment=Environment.TEST)
    return replace(settings, database_url=Secret(database_url))


@contextlib.asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[str]:
    """The app on a free port of 127.0.0.1, in this process; yields its base URL."""
    app = create_app(settings, Container(settings=settings))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def doctor(settings: Settings) -> HealthReport:
    """``chorus doctor``'s use case, as the command runs it."""
    container = Container(settings=settings)
    try:
        return await container.check_invariants()()
    finally:
        await container.engine().dispose()


async def unfinished_jobs(database_url: str) -> int:
    """Outbox jobs not done yet."""
    connection = await asyncpg.connect(database_url)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM outbox WHERE status <> 'done'"))
    finally:
        await connection.close()


async def until_done(database_url: str, within: float) -> float:
    """Seconds until every outbox job is done; fails after ``within``."""
    started = time.monotonic()
    while await unfinished_jobs(database_url):
        if time.monotonic() - started > within:
            raise AssertionError(f"jobs still unfinished after {within} s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def chorus_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CHORUS_", "POSTHOG_", "PROMETHEUS_", "REDIS_", "DATABASE_"))
    }
    return {**env, **RUN_SETTINGS, "DATABASE_URL": database_url, **extra}


class ChorusProcess:
    """``chorus <args>`` with its stderr (JSON logs) in ``log``."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [str(CHORUS), *args], env=dict(env), stdout=subprocess.DEVNULL, stderr=self._log_file
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def logged(self, event: str, within: float = 30.0) -> None:
        """Wait until the process logs ``event`` (its logs are JSON lines)."""
        deadline = time.monotonic() + within
        while f'"event": "{event}"' not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {event!r} logged:\n{self.output()[-2000:]}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log_file.close()

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()
        return int(self.process.returncode)


class ServerProcess(ChorusProcess):
    """``chorus serve`` with one process on its own port."""

    def __init__(self, env: Mapping[str, str], log: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        super().__init__(args, env, log)

    async def ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=1) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"chorus serve exited:\n{self.output()[-2000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/health")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"chorus serve not ready:\n{self.output()[-2000:]}")
                await asyncio.sleep(0.05)
