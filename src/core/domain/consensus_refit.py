"""The periodic batch refit of the consensus model, as a pure plan: from a consistent snapshot
of the settled history to the counts, crowd model, probation flags and published standings to
store.

Why a snapshot and a merge: votes keep arriving while the refit runs. The refit estimates
counts *as of the snapshot*; the store then writes, per validator, refit + (now − snapshot),
so whatever was learned online after the snapshot is kept and nothing is counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from core.domain.accuracy import AccuracyConfig, ValidatorAccuracy
from core.domain.dawid_skene import Answer, ConfusionCounts, CrowdModel, refit

PUBLISHED_ACCURACY_DIGITS = 2


@dataclass(frozen=True, slots=True)
class RefitSnapshot:
    """One consistent read of what the refit needs: the crowd model, every validator's
    history, the answers that teach (solicited, timely votes on settled non-gold clips, and
    gold answers with their truth), and each validator's rushed votes as pseudo-counts."""

    model: CrowdModel
    histories: Mapping[UUID, ValidatorAccuracy]
    answers: Sequence[Answer]
    rushed: Mapping[UUID, ConfusionCounts]


@dataclass(frozen=True, slots=True)
class RefitPlan:
    """What to store: counts as of the snapshot, the new crowd model, and per validator the
    probation flag, the balanced accuracy members are shown and the gold answers behind it
    (the sample badges need, published with it so that it is as delayed as the accuracy)."""

    counts: Mapping[UUID, ConfusionCounts]
    model: CrowdModel
    on_probation: Mapping[UUID, bool]
    published_accuracy: Mapping[UUID, float]
    at: datetime
    iterations: int
    published_gold_answers: Mapping[UUID, int] = field(default_factory=dict)


def plan_refit(
    snapshot: RefitSnapshot,
    config: AccuracyConfig,
    at: datetime,
    *,
    max_iterations: int = 50,
) -> RefitPlan:
    """Run EM over the snapshot (starting from the online counts), then judge every known
    validator against the refreshed model."""
    result = refit(
        snapshot.answers,
        start=snapshot.model,
        start_counts={who: h.confusion for who, h in snapshot.histories.items()},
        extra=snapshot.rushed,
        max_iterations=max_iterations,
    )
    counts: dict[UUID, ConfusionCounts] = {}
    on_probation: dict[UUID, bool] = {}
    published: dict[UUID, float] = {}
    samples: dict[UUID, int] = {}
    validators = set(snapshot.histories) | {who for who in result.counts if isinstance(who, UUID)}
    for who in validators:
        history = snapshot.histories.get(who, ValidatorAccuracy())
        fitted = result.counts.get(who, ConfusionCounts())
        counts[who] = fitted
        refreshed = ValidatorAccuracy(
            confusion=fitted,
            gold_right=history.gold_right,
            gold_wrong=history.gold_wrong,
        )
        on_probation[who] = refreshed.is_due_for_probation(config, result.model)
        published[who] = round(
            refreshed.reliability(result.model).balanced_accuracy, PUBLISHED_ACCURACY_DIGITS
        )
        samples[who] = history.gold_answers
    return RefitPlan(
        counts=counts,
        model=result.model,
        on_probation=on_probation,
        published_accuracy=published,
        at=at,
        iterations=len(result.objective) - 1,
        published_gold_answers=samples,
    )
