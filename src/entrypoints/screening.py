"""Building the text screener from settings (used by the container): the built-in rules
(the shipped block lists, or ``CHORUS_SCREENING_BLOCKLIST_FILE``), behind an
OpenAI-compatible moderation service when ``CHORUS_SCREENING_URL`` is set."""

from __future__ import annotations

from adapters.screening.moderation_service import ModerationServiceScreener
from adapters.screening.rule_based import BlockLists, RuleBasedScreener
from core.ports.screening import TextScreener
from entrypoints.settings import Settings


def make_screener(settings: Settings) -> TextScreener:
    moderation = settings.moderation
    rules = RuleBasedScreener(BlockLists.load(moderation.blocklist_file))
    if moderation.screening_url is None:
        return rules
    return ModerationServiceScreener(
        base_url=moderation.screening_url,
        rules=rules,
        api_key=moderation.screening_api_key.reveal() if moderation.screening_api_key else None,
        model=moderation.screening_model,
        timeout_seconds=moderation.screening_timeout_seconds,
    )


async def close_screener(screener: TextScreener) -> None:
    close = getattr(screener, "aclose", None)
    if close is not None:
        await close()
