"""The issue's simulator check, at a size CI can afford: on every crowd kind, ``dawid_skene``
read at the CV rule's votes per clip makes fewer errors than the CV rule.

The full check (2,000 clips, 200 validators, five seeds, where the bar is ½ of CV's errors on
three crowds) is ``bench/consensus_sweep.py``; its tables are in docs/consensus.md. At this
size (600 clips, 100 validators, two seeds) the estimates have had less time to settle, so the
bars here are looser; the runs are seeded, so the figures are exactly reproducible.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.domain.consensus import PolicyName
from core.domain.simulation import CrowdKind, SimulationParams, Sweep, sweep

SMALL = SimulationParams(clips=600, validators=100, open_clips=40, refit_every=120)
THRESHOLDS = (0.6, 0.75, 0.9, 0.99)
SEEDS = (0, 1)
# The largest share of the CV rule's errors dawid_skene may make at the CV rule's votes.
BARS = {
    CrowdKind.STANDARD: 0.75,
    CrowdKind.COIN_FLIPPERS: 0.8,
    CrowdKind.ONE_SIDED: 0.8,
    CrowdKind.COLD_START: 0.95,
    CrowdKind.LANGUAGE: 0.85,
    CrowdKind.DRIFT: 0.9,
}


def small_sweep(kind: CrowdKind) -> Sweep:
    return sweep(
        replace(SMALL, kind=kind),
        thresholds=THRESHOLDS,
        seeds=SEEDS,
        policies=(PolicyName.DAWID_SKENE,),
    )


@pytest.mark.parametrize("kind", list(CrowdKind))
def test_dawid_skene_makes_fewer_errors_than_the_cv_rule_at_its_votes(kind: CrowdKind) -> None:
    swept = small_sweep(kind)
    at = swept.at_majority_votes(PolicyName.DAWID_SKENE)
    assert at is not None
    assert at.interpolated  # CV's votes per clip lie within the sweep
    ratio = swept.relative_errors(PolicyName.DAWID_SKENE)
    assert ratio is not None
    assert ratio <= BARS[kind], f"{kind}: ×{ratio:.2f} of CV's errors"
