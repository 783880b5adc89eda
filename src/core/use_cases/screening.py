"""Screening a text on write, shared by the use cases that store members' words."""

from __future__ import annotations

from core.domain.screening import refuse
from core.ports.screening import TextScreener


async def ensure_screened(
    screener: TextScreener, text: str, *, language: str | None, what: str
) -> None:
    """Raise ``ContentBlocked`` (422 ``content_blocked`` with the category) when the screener
    refuses ``text``; ``what`` names it in the message (``message``, ``prompt``, ``name``)."""
    verdict = await screener.screen(text, language=language)
    if not verdict.allowed:
        raise refuse(what, verdict)
