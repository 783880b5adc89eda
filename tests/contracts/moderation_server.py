"""A local stand-in for an OpenAI-compatible moderation service (``POST /v1/moderations``)
on 127.0.0.1, speaking OpenAI's wire format.

    with running_moderation_server() as service:
        screener = ModerationServiceScreener(base_url=f"{service.base_url}/v1", api_key=…, …)
        service.flagged["i will hurt you"] = {"violence": 0.91, "harassment": 0.4}
        service.fail_with = 500        # every answer a 500 until set back to None
        service.delay_seconds = 5.0    # answers late (a timeout for the client)
        service.garbage = True         # answers 200 with a body that is not the format
        service.requests               # every request body received
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.contracts.serving import Reply, serving

API_KEY = "sk-test-moderation"
CATEGORIES = ("harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
              "self-harm", "sexual", "sexual/minors", "violence", "violence/graphic")  # fmt: skip


@dataclass
class ModerationContractServer:
    base_url: str = ""
    flagged: dict[str, dict[str, float]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None
    delay_seconds: float = 0.0
    garbage: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes):
        if method != "POST" or path != "/v1/moderations":
            return 404, {}, {"error": {"message": "Not found"}}
        given = {name.lower(): value for name, value in headers.items()}
        if given.get("authorization") != f"Bearer {API_KEY}":
            return 401, {}, {"error": {"message": "Incorrect API key provided"}}
        body = json.loads(raw or b"{}")
        with self._lock:
            self.requests.append(body)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.fail_with is not None:
            return self.fail_with, {}, {"error": {"message": "The server had an error"}}
        if self.garbage:
            return 200, {}, {"unexpected": True}
        return 200, {}, self._answer(body)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        text = str(body.get("input", ""))
        scores = dict.fromkeys(CATEGORIES, 0.0001)
        for phrase, flagged_scores in self.flagged.items():
            if phrase in text.casefold():
                scores.update(flagged_scores)
        categories = {name: score >= 0.5 for name, score in scores.items()}
        return {
            "id": "modr-test",
            "model": body.get("model") or "omni-moderation-latest",
            "results": [
                {
                    "flagged": any(categories.values()),
                    "categories": categories,
                    "category_scores": scores,
                }
            ],
        }


@contextmanager
def running_moderation_server() -> Iterator[ModerationContractServer]:
    server = ModerationContractServer()

    def handle(method: str, path: str, query: str, headers: dict[str, str], raw: bytes) -> Reply:
        return server.handle(method, path, query, headers, raw)

    with serving(handle) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture
def moderation_server() -> Iterator[ModerationContractServer]:
    """A fresh server per test (import this fixture into the test module)."""
    with running_moderation_server() as server:
        yield server
