"""Screening of text members write (chat messages, clip prompts, display names) before it is
stored: what a screener answers, and the error a blocked text raises."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidInput


class ScreeningCategory(StrEnum):
    """Why the rule-based screener blocks a text. An HTTP moderation service adds its own
    categories (``harassment``, ``hate``, ``sexual``, …), passed on as it names them."""

    BLOCKED_WORD = "blocked_word"
    PHONE_NUMBER = "phone_number"
    EMAIL = "email"
    URL = "url"
    PAYMENT_HANDLE = "payment_handle"


class ScreeningSource(StrEnum):
    RULES = "rules"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class ScreeningVerdict:
    """``category`` names why a text is blocked (``None``: allowed); ``source`` says which
    screener decided."""

    category: str | None
    source: ScreeningSource = ScreeningSource.RULES

    @property
    def allowed(self) -> bool:
        return self.category is None


ALLOWED = ScreeningVerdict(None)


class ContentBlocked(InvalidInput):
    """Screening refused the text (422 ``content_blocked``, with ``category``)."""

    code = "content_blocked"


def refuse(what: str, verdict: ScreeningVerdict) -> ContentBlocked:
    return ContentBlocked(
        f"This {what} cannot be posted: it looks like {verdict.category}.",
        category=verdict.category,
    )
