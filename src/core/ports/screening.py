"""Screening text before it is stored."""

from __future__ import annotations

from typing import Protocol

from core.domain.screening import ScreeningVerdict


class TextScreener(Protocol):
    """Decides whether a text may be posted. Never raises for an outage of whatever it
    consults: an implementation backed by a remote service falls back to local rules, so
    no write fails because a moderation service is down."""

    async def screen(self, text: str, *, language: str | None) -> ScreeningVerdict:
        """The verdict on ``text``; ``language`` (a language tag, ``None`` when unknown)
        selects the block lists to apply."""
        ...
