"""An OpenAI-compatible ``POST /moderations`` service in front of the built-in rules.

Wire format (OpenAI's, also spoken by self-hosted moderation servers): the request is
``{"input": text, "model": …}`` with ``Authorization: Bearer <key>``; the answer is
``{"id", "model", "results": [{"flagged": bool, "categories": {name: bool},
"category_scores": {name: float}}]}``.

The rules run first (they catch personal data, which such services do not look for, and
cost nothing). Only a text they allow is sent. If the service cannot be reached, times out,
answers an error or something unreadable, the rules' verdict stands — no write fails because
the service is down — and the service is left alone for a cool-down before being asked again,
so an outage costs at most one timeout per cool-down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from core.domain.screening import ScreeningSource, ScreeningVerdict
from core.ports.screening import TextScreener

log = logging.getLogger(__name__)


class ModerationServiceScreener:
    """Implements ``core.ports.screening.TextScreener``: ``rules`` first, then the service at
    ``base_url`` (``…/v1`` or the full ``…/moderations`` URL)."""

    def __init__(
        self,
        *,
        base_url: str,
        rules: TextScreener,
        api_key: str | None = None,
        model: str | None = None,
        timeout_seconds: float = 2.0,
        cooldown_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        base = base_url.rstrip("/")
        self._url = base if base.endswith("/moderations") else f"{base}/moderations"
        self._rules = rules
        self._model = model
        self._cooldown = cooldown_seconds
        self._monotonic = monotonic
        self._down_until = 0.0
        self.fallbacks = 0
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_seconds), headers=headers, follow_redirects=False
        )

    async def screen(self, text: str, *, language: str | None) -> ScreeningVerdict:
        verdict = await self._rules.screen(text, language=language)
        if not verdict.allowed or self._monotonic() < self._down_until:
            return verdict
        body: dict[str, Any] = {"input": text}
        if self._model:
            body["model"] = self._model
        try:
            response = await self._client.post(self._url, json=body)
            response.raise_for_status()
            category = _flagged_category(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as error:
            self._down_until = self._monotonic() + self._cooldown
            self.fallbacks += 1
            log.warning(
                "screening_service_unavailable error=%s fallback=rules cooldown_s=%g",
                type(error).__name__,
                self._cooldown,
            )
            return verdict
        if category is None:
            return verdict
        return ScreeningVerdict(category, ScreeningSource.SERVICE)

    async def aclose(self) -> None:
        await self._client.aclose()


def _flagged_category(answer: Any) -> str | None:
    """The category to report for a flagged result (the highest-scoring flagged one), or
    ``None`` when the text is not flagged. Raises on an answer of the wrong shape."""
    result = answer["results"][0]
    if not isinstance(result["flagged"], bool):
        raise TypeError("flagged is not a boolean")
    if not result["flagged"]:
        return None
    categories: dict[str, Any] = result.get("categories") or {}
    scores: dict[str, Any] = result.get("category_scores") or {}
    flagged = [name for name, on in categories.items() if on is True]
    if not flagged:
        return "flagged"
    best = max(flagged, key=lambda name: (float(scores.get(name) or 0.0), name))
    return "".join(ch if ch.isalnum() or ch in "/-_" else "_" for ch in best)[:60]
