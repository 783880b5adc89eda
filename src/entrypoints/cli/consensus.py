"""``chorus consensus``: operator tools for validation consensus (SPEC §5).

``chorus consensus simulate`` replays a seeded crowd of honest, noisy and spamming validators
through ``majority`` and/or ``weighted`` (``core.domain.simulation``) and prints, per policy,
final-label accuracy (overall and decided-only), votes spent per clip and share disputed.
With ``--plot PATH.png`` it also sweeps thresholds and vote caps and draws label accuracy
against votes per clip (needs matplotlib: ``pip install 'chorus[plot]'``).

Exit codes: 0 success, 1 failure while running (e.g. the plot cannot be written), 2 bad usage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from core.domain.consensus import ConsensusConfig, PolicyName
from core.domain.simulation import (
    CrowdProfile,
    SimulationParams,
    SimulationResult,
    SweepRow,
    simulate,
    sweep_thresholds,
)
from core.errors import InvalidInput

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# What ``--plot`` sweeps (reject threshold = 1 − accept threshold); the run's own accept
# threshold and vote cap are added to these.
SWEEP_ACCEPT_THRESHOLDS = (0.75, 0.8, 0.9, 0.95, 0.99)
SWEEP_VOTE_CAPS = (3, 5, 7)

_SHARES_TOLERANCE = 1e-9
_DEFAULTS = SimulationParams()
_CROWD = _DEFAULTS.crowd
_CONSENSUS = _DEFAULTS.consensus


class _Refused(click.ClickException):
    """A problem with how the command was called or set up: exit 2, like a usage error."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class _Run:
    """One simulated policy with the thresholds it ran at (``None`` for ``majority``)."""

    result: SimulationResult
    accept_threshold: float | None
    reject_threshold: float | None
    vote_cap: int


@click.group()
def consensus() -> None:
    """Operator tools for validation consensus."""


_share = click.FloatRange(0.0, 1.0)
_probability = click.FloatRange(0.0, 1.0, min_open=True, max_open=True)


@consensus.command("simulate")
@click.option(
    "--policy",
    type=click.Choice(["majority", "weighted", "both"]),
    default="both",
    show_default=True,
    help="Policy to simulate; `both` runs them on the very same crowd, clips and answers.",
)
@click.option(
    "--clips",
    type=click.IntRange(min=1),
    default=_DEFAULTS.clips,
    show_default=True,
    help="Clips to decide.",
)
@click.option(
    "--validators",
    type=click.IntRange(min=1),
    default=_CROWD.validators,
    show_default=True,
    help="Size of the crowd.",
)
@click.option(
    "--honest",
    type=_share,
    default=_CROWD.honest_share,
    show_default=True,
    help="Share of honest validators.",
)
@click.option(
    "--noisy",
    type=_share,
    default=_CROWD.noisy_share,
    show_default=True,
    help="Share of noisy validators.",
)
@click.option(
    "--spammers",
    type=_share,
    default=_CROWD.spammer_share,
    show_default=True,
    help="Share of spammers (answer `valid` half the time whatever the clip). "
    "--honest + --noisy + --spammers must be 1.",
)
@click.option(
    "--honest-accuracy",
    type=_share,
    default=_CROWD.honest_accuracy,
    show_default=True,
    help="Chance that an honest validator answers right.",
)
@click.option(
    "--noisy-accuracy",
    type=_share,
    default=_CROWD.noisy_accuracy,
    show_default=True,
    help="Chance that a noisy validator answers right.",
)
@click.option(
    "--valid-share",
    type=_share,
    default=_DEFAULTS.valid_share,
    show_default=True,
    help="True share of valid clips.",
)
@click.option(
    "--gold-rate",
    type=click.FloatRange(0.0, 0.5, max_open=True),
    default=_DEFAULTS.gold_rate,
    show_default=True,
    help="Share of served clips that are gold.",
)
@click.option(
    "--vote-cap",
    type=click.IntRange(min=1),
    default=_CONSENSUS.vote_cap,
    show_default=True,
    help="Counted votes after which an undecided clip is disputed.",
)
@click.option(
    "--accept-threshold",
    type=_probability,
    default=_CONSENSUS.accept_threshold,
    show_default=True,
    help="`weighted`: accept when P(valid) ≥ this.",
)
@click.option(
    "--reject-threshold",
    type=_probability,
    default=None,
    help="`weighted`: reject when P(valid) ≤ this [default: 1 − accept threshold].",
)
@click.option(
    "--seed",
    type=int,
    default=_DEFAULTS.seed,
    show_default=True,
    help="Same seed, same crowd, clips and answers.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="`table` is a Markdown pipe table.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH.png",
    help="Also sweep thresholds and vote caps and write a PNG of label accuracy against "
    "votes per clip (needs chorus[plot]).",
)
def simulate_command(
    policy: str,
    clips: int,
    validators: int,
    honest: float,
    noisy: float,
    spammers: float,
    honest_accuracy: float,
    noisy_accuracy: float,
    valid_share: float,
    gold_rate: float,
    vote_cap: int,
    accept_threshold: float,
    reject_threshold: float | None,
    seed: int,
    output_format: str,
    plot_path: Path | None,
) -> None:
    """Replay a simulated crowd through a consensus policy and report label accuracy,
    votes spent per clip and share disputed, so that operators can choose thresholds."""
    total = honest + noisy + spammers
    if abs(total - 1.0) > _SHARES_TOLERANCE:
        raise click.UsageError(
            f"--honest, --noisy and --spammers must sum to 1 "
            f"(got {honest:g} + {noisy:g} + {spammers:g} = {total:g})."
        )
    figure_class = None
    if plot_path is not None:
        _check_plot_path(plot_path)
        figure_class = _figure_class()
    if reject_threshold is None:
        reject_threshold = round(1.0 - accept_threshold, 12)  # 0.05, not 0.050000000000000044
    try:
        params = SimulationParams(
            clips=clips,
            crowd=CrowdProfile(
                validators=validators,
                honest_share=honest,
                honest_accuracy=honest_accuracy,
                noisy_share=noisy,
                noisy_accuracy=noisy_accuracy,
                spammer_share=spammers,
            ),
            valid_share=valid_share,
            gold_rate=gold_rate,
            consensus=replace(
                _CONSENSUS,
                vote_cap=vote_cap,
                accept_threshold=accept_threshold,
                reject_threshold=reject_threshold,
            ),
            seed=seed,
        )
    except InvalidInput as error:
        raise click.UsageError(error.message) from None

    policies = [PolicyName(policy)] if policy != "both" else list(PolicyName)
    runs = [_run(params, name) for name in policies]
    sweep: tuple[SweepRow, ...] = ()
    if plot_path is not None and figure_class is not None:
        sweep = sweep_thresholds(
            params,
            accept_thresholds=sorted({*SWEEP_ACCEPT_THRESHOLDS, accept_threshold}),
            vote_caps=sorted({*SWEEP_VOTE_CAPS, vote_cap}),
        )
        _write_plot(figure_class, plot_path, params, sweep)

    if output_format == "json":
        document: dict[str, Any] = {
            "params": _params_document(params),
            "results": [_run_document(run) for run in runs],
        }
        if plot_path is not None:
            document["plot"] = str(plot_path)
            document["sweep"] = [_sweep_document(row) for row in sweep]
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(_describe(params))
        click.echo()
        click.echo(_table(runs))
        if plot_path is not None:
            click.echo()
            click.echo("Sweep (reject threshold = 1 − accept threshold):")
            click.echo()
            click.echo(_sweep_table(sweep))
    if plot_path is not None:
        click.echo(f"Plot written to {plot_path}", err=True)


def _run(params: SimulationParams, policy: PolicyName) -> _Run:
    result = simulate(replace(params, policy=policy))
    config = params.consensus
    weighted = policy is PolicyName.WEIGHTED
    return _Run(
        result=result,
        accept_threshold=config.accept_threshold if weighted else None,
        reject_threshold=config.reject_threshold if weighted else None,
        vote_cap=config.vote_cap,
    )


# --- text and JSON --------------------------------------------------------------------------


def _describe(params: SimulationParams) -> str:
    crowd = params.crowd
    return (
        f"{params.clips} clips, {crowd.validators} validators: "
        f"{crowd.honest_share:.0%} honest (accuracy {crowd.honest_accuracy:g}), "
        f"{crowd.noisy_share:.0%} noisy ({crowd.noisy_accuracy:g}), "
        f"{crowd.spammer_share:.0%} spammers; valid share {params.valid_share:g}, "
        f"gold rate {params.gold_rate:g}, seed {params.seed}."
    )


def _threshold(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A pipe table: readable in a terminal, and pasted as is into Markdown docs."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


_COLUMNS = (
    "accuracy (overall)",
    "accuracy (decided)",
    "votes / clip",
    "disputed",
)


def _figures(label: float, decided: float, votes: float, disputed: float) -> list[str]:
    return [f"{label:.3f}", f"{decided:.3f}", f"{votes:.2f}", f"{disputed:.1%}"]


def _table(runs: Sequence[_Run]) -> str:
    header = ("policy", "accept", "reject", "cap", *_COLUMNS)
    rows = [
        [
            str(run.result.policy),
            _threshold(run.accept_threshold),
            _threshold(run.reject_threshold),
            str(run.vote_cap),
            *_figures(
                run.result.label_accuracy,
                run.result.decided_label_accuracy,
                run.result.votes_per_clip,
                run.result.disputed_share,
            ),
        ]
        for run in runs
    ]
    return _markdown(header, rows)


def _sweep_table(sweep: Sequence[SweepRow]) -> str:
    header = ("cap", "policy", "accept", *_COLUMNS)
    rows = [
        [
            str(row.vote_cap),
            str(row.policy),
            _threshold(row.accept_threshold),
            *_figures(
                row.label_accuracy,
                row.decided_label_accuracy,
                row.votes_per_clip,
                row.disputed_share,
            ),
        ]
        for row in sweep
    ]
    return _markdown(header, rows)


def _params_document(params: SimulationParams) -> dict[str, Any]:
    crowd, config = params.crowd, params.consensus
    return {
        "clips": params.clips,
        "validators": crowd.validators,
        "honest": crowd.honest_share,
        "noisy": crowd.noisy_share,
        "spammers": crowd.spammer_share,
        "honest_accuracy": crowd.honest_accuracy,
        "noisy_accuracy": crowd.noisy_accuracy,
        "spammer_valid_rate": crowd.spammer_valid_rate,
        "valid_share": params.valid_share,
        "gold_rate": params.gold_rate,
        "vote_cap": config.vote_cap,
        "min_votes": config.min_votes,
        "prior_valid": config.prior_valid,
        "accept_threshold": config.accept_threshold,
        "reject_threshold": config.reject_threshold,
        "seed": params.seed,
    }


def _run_document(run: _Run) -> dict[str, Any]:
    result = run.result
    return {
        "policy": str(result.policy),
        "accept_threshold": run.accept_threshold,
        "reject_threshold": run.reject_threshold,
        "vote_cap": run.vote_cap,
        "label_accuracy": result.label_accuracy,
        "decided_label_accuracy": result.decided_label_accuracy,
        "votes_per_clip": result.votes_per_clip,
        "disputed_share": result.disputed_share,
        "clips": result.clips,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "disputed": result.disputed,
        "unsettled": result.unsettled,
        "correct": result.correct,
        "votes_cast": result.votes_cast,
        "gold_answers": result.gold_answers,
        "validators_on_probation": result.validators_on_probation,
    }


def _rounded(threshold: float | None) -> float | None:
    return None if threshold is None else round(threshold, 12)


def _sweep_document(row: SweepRow) -> dict[str, Any]:
    return {
        "policy": str(row.policy),
        "accept_threshold": row.accept_threshold,
        "reject_threshold": _rounded(row.reject_threshold),
        "vote_cap": row.vote_cap,
        "label_accuracy": row.label_accuracy,
        "decided_label_accuracy": row.decided_label_accuracy,
        "votes_per_clip": row.votes_per_clip,
        "disputed_share": row.disputed_share,
    }


# --- plot -----------------------------------------------------------------------------------


def _figure_class() -> type[Figure]:
    """matplotlib's ``Figure``, on the non-interactive Agg backend; imported only for --plot."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        raise _Refused(
            "--plot needs matplotlib: install chorus[plot] (pip install 'chorus[plot]')."
        ) from None
    return Figure


def _check_plot_path(path: Path) -> None:
    if path.suffix.lower() != ".png":
        raise click.UsageError(f"--plot must name a .png file, not {str(path)!r}.")
    if not path.parent.is_dir():
        raise click.UsageError(f"--plot: directory {str(path.parent)!r} does not exist.")


# Where each cap's threshold labels go, so that neighbouring curves' labels do not collide.
_LABEL_OFFSETS = ((-8, -14), (-18, 5), (5, 6))


def _write_plot(
    figure_class: type[Figure], path: Path, params: SimulationParams, sweep: Sequence[SweepRow]
) -> None:
    figure = figure_class(figsize=(13, 6.5), dpi=110, layout="constrained")
    overall, decided = figure.subplots(1, 2, sharex=True)
    caps = sorted({row.vote_cap for row in sweep})
    for axes, decided_only in ((overall, False), (decided, True)):
        for index, cap in enumerate(caps):
            rows = [row for row in sweep if row.vote_cap == cap]
            _plot_cap(axes, rows, index, decided_only)
        _annotate_majority(
            axes, [r for r in sweep if r.policy is PolicyName.MAJORITY], decided_only
        )
        _ring_this_run(axes, sweep, params.consensus, decided_only)
        axes.set_xlabel("votes spent per clip")
        axes.grid(visible=True, alpha=0.3)
    overall.set_ylabel("final-label accuracy")
    overall.set_title("all clips (disputed count as not right)")
    decided.set_title("decided clips only")
    overall.legend(loc="lower right", fontsize="small")
    crowd = params.crowd
    figure.suptitle(
        f"chorus consensus simulate — {params.clips} clips, {crowd.validators} validators "
        f"({crowd.honest_share:.0%} honest, {crowd.noisy_share:.0%} noisy, "
        f"{crowd.spammer_share:.0%} spammers), seed {params.seed}\n"
        "labels: weighted accept threshold (reject = 1 − accept); ★ majority; "
        "○ this run's threshold and cap"
    )
    try:
        figure.savefig(path, format="png")
    except OSError as error:
        raise click.ClickException(f"Could not write the plot to {path}: {error}") from None


def _accuracy(row: SweepRow, decided_only: bool) -> float:
    return row.decided_label_accuracy if decided_only else row.label_accuracy


def _plot_cap(axes: Axes, rows: Sequence[SweepRow], index: int, decided_only: bool) -> None:
    """One cap: the ``weighted`` curve over thresholds, labelled, and the ``majority`` star."""
    color, cap = f"C{index % 10}", rows[0].vote_cap
    weighted = [row for row in rows if row.policy is PolicyName.WEIGHTED]
    axes.plot(
        [row.votes_per_clip for row in weighted],
        [_accuracy(row, decided_only) for row in weighted],
        marker="o",
        color=color,
        label=f"weighted, cap {cap}",
    )
    for row in weighted:
        axes.annotate(
            f"{row.accept_threshold:g}",
            (row.votes_per_clip, _accuracy(row, decided_only)),
            textcoords="offset points",
            xytext=_LABEL_OFFSETS[index % len(_LABEL_OFFSETS)],
            fontsize="x-small",
            color=color,
        )
    for row in rows:
        if row.policy is PolicyName.MAJORITY:
            axes.plot(
                row.votes_per_clip,
                _accuracy(row, decided_only),
                marker="*",
                markersize=14,
                linestyle="none",
                color=color,
                markeredgecolor="black",
                label=f"majority, cap {cap}",
            )


def _ring_this_run(
    axes: Axes, sweep: Sequence[SweepRow], config: ConsensusConfig, decided_only: bool
) -> None:
    """Circle the ``weighted`` point at the run's own accept threshold and cap."""
    for row in sweep:
        if row.vote_cap == config.vote_cap and row.accept_threshold == config.accept_threshold:
            axes.plot(
                row.votes_per_clip,
                _accuracy(row, decided_only),
                marker="o",
                markersize=16,
                markerfacecolor="none",
                markeredgecolor="black",
                linestyle="none",
                label="this run's threshold and cap",
            )


def _annotate_majority(axes: Axes, rows: Sequence[SweepRow], decided_only: bool) -> None:
    """One label for the ``majority`` stars, which sit close together whatever the cap."""
    if not rows:
        return
    x = sum(row.votes_per_clip for row in rows) / len(rows)
    y = min(_accuracy(row, decided_only) for row in rows)
    caps = ", ".join(str(row.vote_cap) for row in rows)
    axes.annotate(
        f"majority (cap {caps})",
        (x, y),
        textcoords="offset points",
        xytext=(12, -18),
        fontsize="small",
        arrowprops={"arrowstyle": "-", "color": "grey"},
    )
