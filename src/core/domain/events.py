"""Domain events: facts that happened, recorded by use cases and written to the outbox by the
unit of work in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """One fact. ``name`` is dotted (``profile.created``); ``payload`` is JSON-serialisable
    and carries ids, never personal data."""

    id: UUID
    name: str
    occurred_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
