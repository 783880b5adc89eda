"""Identifiers, as a port, so tests control them."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID


class IdGenerator(Protocol):
    """Makes new unique identifiers."""

    def new_id(self) -> UUID:
        """A fresh, globally unique id."""
        ...
