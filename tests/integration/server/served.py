"""A real ``chorus serve`` process on 127.0.0.1, for what only the HTTP server does."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.processes import chorus_env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServedChorus:
    """``chorus serve`` with the given settings; its stderr (JSON logs) goes to ``log``."""

    def __init__(self, database_url: str, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.log = log
        env = chorus_env(database_url, **{"CHORUS_WORKERS": "1", **settings})
        self._log_file = log.open("wb")
        chorus = Path(sys.executable).with_name("chorus")
        self.process = subprocess.Popen(
            [str(chorus), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file,
        )
        self._wait_until_up()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chorus serve exited:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/health", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"chorus serve did not come up:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()
