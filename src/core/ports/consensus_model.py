"""Storage of the consensus model for its periodic refit."""

from __future__ import annotations

from typing import Protocol

from core.domain.consensus_refit import RefitPlan, RefitSnapshot
from core.domain.dawid_skene import CrowdModel


class ConsensusModelStore(Protocol):
    """The crowd model and the history the batch refit reads and writes."""

    async def current(self) -> CrowdModel:
        """The crowd model in force (the defaults before any refit)."""
        ...

    async def snapshot(self) -> RefitSnapshot:
        """The model, every validator's history and the teaching answers, read in one
        consistent snapshot."""
        ...

    async def apply(self, snapshot: RefitSnapshot, plan: RefitPlan) -> None:
        """In one transaction: each validator's counts become plan + (current − snapshot),
        keeping what was learned online since the snapshot; the model, probation flags and
        published accuracies are stored."""
        ...
