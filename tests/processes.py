"""Real ``chorus`` processes for integration tests: a clean environment, and a worker
process whose stderr (JSON logs) goes to a file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def chorus_env(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any Chorus, PostHog or Prometheus settings of the
    machine, then ``DATABASE_URL``, ``CHORUS_ENV=test`` and ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHORUS_", "POSTHOG_"))}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(DATABASE_URL=database_url, CHORUS_ENV="test")
    env.update(settings)
    return env


def chorus_command() -> Path:
    return Path(sys.executable).with_name("chorus")


class WorkerProcess:
    """``chorus worker`` running with ``env``."""

    def __init__(self, env: dict[str, str], log: Path, *extra: str) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [str(chorus_command()), "worker", *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def finish(self, signum: int, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._log_file.close()

    def kill_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log_file.close()


@pytest.fixture
def processes() -> Iterator[list[WorkerProcess]]:
    """Worker processes a test started; any still running at its end is killed."""
    started: list[WorkerProcess] = []
    yield started
    for process in started:
        process.kill_if_running()
