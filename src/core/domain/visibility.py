"""Moderation's say on anything members can see: clips, chat messages, streams, profiles."""

from __future__ import annotations

from enum import StrEnum


class Visibility(StrEnum):
    """``visible`` to everyone; ``hidden`` awaits review (or a moderator hid it);
    ``removed`` is gone for good (only moderation still sees it)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    REMOVED = "removed"
