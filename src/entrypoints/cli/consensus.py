"""``chorus consensus``: operator tools for validation consensus (SPEC §5).

``chorus consensus simulate`` replays simulated crowds through the consensus policies with the
production rules (``core.domain.simulation``) and prints, per crowd and policy, label accuracy
(overall and decided-only), real votes and gold answers per clip, and the shares disputed and
late. ``--sweep`` sweeps the accept threshold of ``dawid_skene`` and ``weighted`` and reads
their errors at the Common Voice rule's votes per clip; ``--plot PATH.png`` draws the sweep
(needs matplotlib: ``pip install 'chorus[plot]'``); ``--crowdkit`` aggregates the very same
votes offline with this domain's batch EM and with crowd-kit's Dawid–Skene (needs
``pip install 'chorus[crowdkit]'``; skipped with a message otherwise).

Exit codes: 0 success, 1 failure while running (e.g. the plot cannot be written), 2 bad usage.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from statistics import fmean
from typing import TYPE_CHECKING, Any

import click

from core.domain.clips import Verdict
from core.domain.consensus import PolicyName, policy_named
from core.domain.simulation import (
    DEFAULT_SWEEP_THRESHOLDS,
    THRESHOLDED_POLICIES,
    AtVotes,
    CrowdKind,
    SimulationParams,
    SimulationResult,
    Sweep,
    SweepPoint,
    VoteLog,
    combine,
    offline_dawid_skene,
    simulate,
    simulate_with_log,
    sweep_runs,
)
from core.domain.validation import ValidationRules
from core.errors import InvalidInput

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_DEFAULTS = SimulationParams()
_RULES = _DEFAULTS.rules
_CONSENSUS = _RULES.policy.config
_ACCURACY = _RULES.accuracy
_ALL = "all"
_PLAIN = "common voice (plain)"


class _Refused(click.ClickException):
    """A problem with how the command was called or set up: exit 2, like a usage error."""

    exit_code = 2


@click.group()
def consensus() -> None:
    """Operator tools for validation consensus."""


_share = click.FloatRange(0.0, 1.0)
_below_one = click.FloatRange(0.0, 1.0, max_open=True)
_probability = click.FloatRange(0.5, 1.0, min_open=True, max_open=True)
_count = click.IntRange(min=0)
_positive = click.IntRange(min=1)


def _thresholds(text: str) -> tuple[float, ...]:
    try:
        values = tuple(sorted({float(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise click.BadParameter(f"not a comma-separated list of numbers: {text!r}") from None
    if len(values) < 2 or not all(0.5 < value < 1.0 for value in values):
        raise click.BadParameter("give at least two thresholds, each strictly between ½ and 1")
    return values


@consensus.command("simulate")
@click.option(
    "--crowd",
    "crowds",
    type=click.Choice([_ALL, *(kind.value for kind in CrowdKind)]),
    multiple=True,
    default=[CrowdKind.STANDARD.value],
    show_default=True,
    help="Crowd kind (repeatable; `all` for the six).",
)
@click.option(
    "--policy",
    type=click.Choice([_ALL, *(name.value for name in PolicyName)]),
    default=_ALL,
    show_default=True,
    help="Policy to simulate (without --sweep); `all` runs the three on the same seeds.",
)
@click.option("--clips", type=_positive, default=_DEFAULTS.clips, show_default=True)
@click.option("--validators", type=_positive, default=_DEFAULTS.validators, show_default=True)
@click.option(
    "--valid-share",
    type=_share,
    default=_DEFAULTS.valid_share,
    show_default=True,
    help="True share of valid clips.",
)
@click.option(
    "--gold-valid-share",
    type=_share,
    default=None,
    help="Share of gold clips that are valid [default: --valid-share].",
)
@click.option("--seed", type=int, default=_DEFAULTS.seed, show_default=True, help="First seed.")
@click.option(
    "--seeds", type=_positive, default=1, show_default=True, help="Seeds to run (averaged)."
)
@click.option(
    "--accept-threshold",
    type=_probability,
    default=_CONSENSUS.accept_threshold,
    show_default=True,
    help="Accept at P(valid) ≥ t, reject at ≤ 1 − t (`dawid_skene`, `weighted`).",
)
@click.option("--vote-cap", type=_positive, default=_CONSENSUS.vote_cap, show_default=True)
@click.option(
    "--prior-strength",
    type=click.FloatRange(0.0, min_open=True),
    default=_DEFAULTS.prior_strength,
    show_default=True,
    help="Strength of the Beta priors of sensitivity and specificity.",
)
@click.option("--gold-rate", type=_below_one, default=_RULES.gold_rate, show_default=True)
@click.option(
    "--newcomer-gold-rate", type=_below_one, default=_RULES.newcomer_gold_rate, show_default=True
)
@click.option(
    "--newcomer-gold-answers",
    type=_count,
    default=_RULES.newcomer_gold_answers,
    show_default=True,
    help="Gold answers until a validator is served the ordinary gold rate.",
)
@click.option(
    "--established-gold-answers",
    type=_count,
    default=_ACCURACY.established_gold_answers,
    show_default=True,
    help="Gold answers that make a validator established (a decision needs one).",
)
@click.option(
    "--probation-floor",
    type=click.FloatRange(0.5, 0.99),
    default=_ACCURACY.probation_floor,
    show_default=True,
)
@click.option(
    "--sessions",
    type=_positive,
    default=_DEFAULTS.sessions_at_once,
    show_default=True,
    help="Validators at work at once (more: more late votes).",
)
@click.option(
    "--refit-every",
    type=_positive,
    default=_DEFAULTS.refit_every,
    show_default=True,
    help="Clips settled between two refits of the model.",
)
@click.option("--sweep", "with_sweep", is_flag=True, help="Sweep the accept threshold.")
@click.option(
    "--thresholds",
    default=",".join(f"{t:g}" for t in DEFAULT_SWEEP_THRESHOLDS),
    show_default=True,
    help="Accept thresholds the sweep runs (comma-separated).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH.png",
    help="Sweep, and draw errors against votes per clip (needs chorus[plot]).",
)
@click.option(
    "--crowdkit",
    "with_crowdkit",
    is_flag=True,
    help="Also aggregate the `dawid_skene` runs' votes offline (this domain's batch EM and "
    "crowd-kit's Dawid–Skene, needs chorus[crowdkit]).",
)
@click.option("--jobs", type=_positive, default=1, show_default=True, help="Processes to run on.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="`table` is Markdown.",
)
def simulate_command(
    crowds: Sequence[str],
    policy: str,
    clips: int,
    validators: int,
    valid_share: float,
    gold_valid_share: float | None,
    seed: int,
    seeds: int,
    accept_threshold: float,
    vote_cap: int,
    prior_strength: float,
    gold_rate: float,
    newcomer_gold_rate: float,
    newcomer_gold_answers: int,
    established_gold_answers: int,
    probation_floor: float,
    sessions: int,
    refit_every: int,
    with_sweep: bool,
    thresholds: str,
    plot_path: Path | None,
    with_crowdkit: bool,
    jobs: int,
    output_format: str,
) -> None:
    """Replay simulated crowds through the consensus policies with the production rules and
    report label accuracy, votes and gold answers per clip, and the share disputed."""
    sweep_thresholds = _thresholds(thresholds)
    figure_class = None
    if plot_path is not None:
        _check_plot_path(plot_path)
        figure_class = _figure_class()
        with_sweep = True
    try:
        base = SimulationParams(
            clips=clips,
            validators=validators,
            valid_share=valid_share,
            gold_valid_share=gold_valid_share,
            prior_strength=prior_strength,
            sessions_at_once=sessions,
            refit_every=refit_every,
            rules=ValidationRules(
                policy=policy_named(
                    PolicyName.DAWID_SKENE,
                    replace(
                        _CONSENSUS,
                        accept_threshold=accept_threshold,
                        reject_threshold=round(1.0 - accept_threshold, 12),
                        vote_cap=vote_cap,
                    ),
                ),
                accuracy=replace(
                    _ACCURACY,
                    established_gold_answers=established_gold_answers,
                    probation_floor=probation_floor,
                ),
                gold_rate=gold_rate,
                newcomer_gold_rate=newcomer_gold_rate,
                newcomer_gold_answers=newcomer_gold_answers,
            ),
        )
    except InvalidInput as error:
        raise click.UsageError(error.message) from None
    kinds = list(CrowdKind) if _ALL in crowds else list(dict.fromkeys(map(CrowdKind, crowds)))
    seed_list = list(range(seed, seed + seeds))
    policies = list(PolicyName) if policy == _ALL else [PolicyName(policy)]

    report: dict[str, Any] = {"params": _params_document(base, seed_list)}
    if with_sweep:
        sweeps = _run_sweeps(base, kinds, seed_list, sweep_thresholds, jobs)
        report["sweeps"] = [_sweep_document(s) for s in sweeps]
        text = [
            _sweep_tables(sweeps),
            _summary_table(sweeps, plain=False),
            _summary_table(sweeps, plain=True),
        ]
    else:
        points = _run_points(base, kinds, seed_list, policies, jobs)
        report["results"] = [_point_document(kind, point) for kind, point in points]
        text = [_results_table(points)]
    if with_crowdkit:
        comparison = _offline_comparison(base, kinds, seed_list, jobs)
        report["offline"] = comparison
        text.append(_offline_table(comparison))
    if plot_path is not None and figure_class is not None:
        _write_plot(figure_class, plot_path, base, seed_list, sweeps)
        report["plot"] = str(plot_path)

    if output_format == "json":
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(_describe(base, seed_list))
        for block in text:
            click.echo()
            click.echo(block)
    if plot_path is not None:
        click.echo(f"Plot written to {plot_path}", err=True)


# --- running --------------------------------------------------------------------------------


def _map(
    function: Callable[[SimulationParams], Any], runs: Sequence[SimulationParams], jobs: int
) -> list[Any]:
    """``function`` over ``runs`` in order, on ``jobs`` processes."""
    if jobs == 1 or len(runs) < 2:
        return [function(run) for run in runs]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(function, runs))


def _run_points(
    base: SimulationParams,
    kinds: Sequence[CrowdKind],
    seeds: Sequence[int],
    policies: Sequence[PolicyName],
    jobs: int,
) -> list[tuple[CrowdKind, SweepPoint]]:
    threshold = base.rules.policy.config.accept_threshold
    runs = [
        replace(base, kind=kind, seed=seed).with_policy(policy)
        for kind in kinds
        for policy in policies
        for seed in seeds
    ]
    results: list[SimulationResult] = _map(simulate, runs, jobs)
    points = []
    for index, (kind, policy) in enumerate((k, p) for k in kinds for p in policies):
        group = tuple(results[index * len(seeds) : (index + 1) * len(seeds)])
        shown = None if policy is PolicyName.MAJORITY else threshold
        points.append((kind, SweepPoint(policy, shown, group)))
    return points


def _run_sweeps(
    base: SimulationParams,
    kinds: Sequence[CrowdKind],
    seeds: Sequence[int],
    thresholds: Sequence[float],
    jobs: int,
) -> list[Sweep]:
    runs = [
        run
        for kind in kinds
        for seed in seeds
        for run in sweep_runs(replace(base, kind=kind, seed=seed), thresholds)
    ]
    results: list[SimulationResult] = _map(simulate, runs, jobs)
    return [combine(r for r in results if r.kind is kind) for kind in kinds]


def _logged(params: SimulationParams) -> tuple[SimulationResult, VoteLog]:
    return simulate_with_log(params)


def _offline_comparison(
    base: SimulationParams, kinds: Sequence[CrowdKind], seeds: Sequence[int], jobs: int
) -> list[dict[str, Any]]:
    """Per crowd (means over seeds): the online ``dawid_skene`` labels, and the same votes
    aggregated offline by this domain's batch EM and by crowd-kit's Dawid–Skene."""
    runs = [
        replace(base, kind=kind, seed=seed).with_policy(PolicyName.DAWID_SKENE)
        for kind in kinds
        for seed in seeds
    ]
    logged: list[tuple[SimulationResult, VoteLog]] = _map(_logged, runs, jobs)
    crowdkit = _crowdkit_aggregator()
    rows = []
    for index, kind in enumerate(kinds):
        group = logged[index * len(seeds) : (index + 1) * len(seeds)]
        online = [result.label_accuracy for result, _ in group]
        offline = [
            log.accuracy_of(offline_dawid_skene(log, base.prior_strength)) for _, log in group
        ]
        row: dict[str, Any] = {
            "crowd": kind.value,
            "votes_per_clip": fmean(result.votes_per_clip for result, _ in group),
            "online_dawid_skene": fmean(online),
            "offline_dawid_skene": fmean(offline),
            "crowdkit_dawid_skene": None,
        }
        if crowdkit is not None:
            row["crowdkit_dawid_skene"] = fmean(log.accuracy_of(crowdkit(log)) for _, log in group)
        rows.append(row)
    if crowdkit is None:
        click.echo(
            "crowd-kit is not installed: its comparison is skipped "
            "(pip install 'chorus[crowdkit]').",
            err=True,
        )
    return rows


def _crowdkit_aggregator() -> Callable[[VoteLog], dict[int, Verdict]] | None:
    """crowd-kit's Dawid–Skene over a run's votes (gold answers given as known labels), or
    ``None`` when crowd-kit is not installed."""
    try:
        import pandas as pd
        from crowdkit.aggregation import DawidSkene
    except ImportError:
        return None

    def aggregate(log: VoteLog) -> dict[int, Verdict]:
        frame = pd.DataFrame(
            {
                "worker": [str(answer.validator) for answer in log.answers],
                "task": [answer.clip for answer in log.answers],
                "label": [answer.said.value for answer in log.answers],
            }
        )
        gold = {answer.clip: answer.truth.value for answer in log.answers if answer.truth}
        with warnings.catch_warnings():  # crowd-kit 1.4 still uses pandas' deprecated options
            warnings.simplefilter("ignore")
            labels = DawidSkene(n_iter=100).fit_predict(frame, true_labels=pd.Series(gold))
        return {
            int(task): Verdict(label) for task, label in labels.items() if int(task) in log.truth
        }

    return aggregate


# --- text and JSON --------------------------------------------------------------------------


def _describe(params: SimulationParams, seeds: Sequence[int]) -> str:
    rules, config = params.rules, params.rules.policy.config
    shown = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}–{seeds[-1]} (means)"
    return (
        f"{params.clips} clips, {params.validators} validators, valid share "
        f"{params.valid_share:g}; accept threshold {config.accept_threshold:g}, cap "
        f"{config.vote_cap}, prior strength {params.prior_strength:g}, gold {rules.gold_rate:g} "
        f"(newcomers {rules.newcomer_gold_rate:g} until {rules.newcomer_gold_answers} answers), "
        f"established after {rules.accuracy.established_gold_answers} gold answers; "
        f"{params.sessions_at_once} session(s) at once, refit every {params.refit_every} "
        f"settled clips; gold {params.gold_truth_share:.0%} valid; {shown}."
    )


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A pipe table: readable in a terminal, and pasted as is into Markdown docs."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


_COLUMNS = (
    "accuracy",
    "accuracy (decided)",
    "votes / clip",
    "gold / clip",
    "disputed",
    "late votes",
)


def _threshold(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _figures(point: SweepPoint) -> list[str]:
    return [
        f"{point.label_accuracy:.4f}",
        f"{point.decided_label_accuracy:.4f}",
        f"{point.votes_per_clip:.2f}",
        f"{point.gold_per_clip:.2f}",
        f"{point.disputed_share:.1%}",
        f"{point.late_share:.1%}",
    ]


def _results_table(points: Sequence[tuple[CrowdKind, SweepPoint]]) -> str:
    header = ("crowd", "policy", "accept", *_COLUMNS)
    rows = [
        [kind.value, point.policy.value, _threshold(point.accept_threshold), *_figures(point)]
        for kind, point in points
    ]
    return _markdown(header, rows)


def _sweep_points(sweep: Sweep) -> list[tuple[str, SweepPoint]]:
    named = [("majority", sweep.majority)]
    if sweep.common_voice is not None:
        named.append((_PLAIN, sweep.common_voice))
    named += [(point.policy.value, point) for curve in sweep.curves.values() for point in curve]
    return named


def _sweep_tables(sweeps: Sequence[Sweep]) -> str:
    header = ("crowd", "policy", "accept", *_COLUMNS)
    rows = [
        [sweep.kind.value, name, _threshold(point.accept_threshold), *_figures(point)]
        for sweep in sweeps
        for name, point in _sweep_points(sweep)
    ]
    return "Sweep (reject threshold = 1 − accept threshold):\n\n" + _markdown(header, rows)


def _at(at: AtVotes | None) -> str:
    if at is None:
        return "n/a (every threshold spends more)"
    if at.interpolated:
        low, high = at.between
        return f"{at.error_rate:.2%} (t {low:g}–{high:g})"
    return f"{at.error_rate:.2%} (t {at.between[0]:g}, {at.votes_per_clip:.2f} votes)"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"×{value:.2f}"


def _summary_table(sweeps: Sequence[Sweep], plain: bool) -> str:
    name = "plain Common Voice" if plain else "CV rule (`majority`)"
    header = ["crowd", f"{name} errors", "votes / clip"]
    for policy in THRESHOLDED_POLICIES:
        header += [f"{policy.value} errors at its votes", f"{policy.value} vs it"]
    rows = []
    for sweep in sweeps:
        base = sweep.baseline(plain)
        row = [sweep.kind.value, f"{base.error_rate:.2%}", f"{base.votes_per_clip:.2f}"]
        for policy in THRESHOLDED_POLICIES:
            row += [
                _at(sweep.at_majority_votes(policy, plain)),
                _ratio(sweep.relative_errors(policy, plain)),
            ]
        rows.append(row)
    return (
        f"Errors at the votes per clip of the {name} (errors = 1 − accuracy: disputed and "
        "unsettled clips count as wrong; each policy's curve read by linear interpolation "
        "between the two thresholds whose votes per clip bracket the baseline's):\n\n"
        + _markdown(header, rows)
    )


def _offline_table(rows: Sequence[dict[str, Any]]) -> str:
    header = (
        "crowd",
        "votes / clip",
        "online dawid_skene",
        "offline EM (this domain)",
        "crowd-kit DawidSkene",
    )

    def shown(value: float | None) -> str:
        return "not installed" if value is None else f"{value:.4f}"

    body = [
        [
            row["crowd"],
            f"{row['votes_per_clip']:.2f}",
            f"{row['online_dawid_skene']:.4f}",
            f"{row['offline_dawid_skene']:.4f}",
            shown(row["crowdkit_dawid_skene"]),
        ]
        for row in rows
    ]
    return (
        "Label accuracy of the `dawid_skene` runs' own votes, aggregated online (as decided) "
        "and offline (every vote and gold answer at once):\n\n" + _markdown(header, body)
    )


def _params_document(params: SimulationParams, seeds: Sequence[int]) -> dict[str, Any]:
    rules, config = params.rules, params.rules.policy.config
    return {
        "clips": params.clips,
        "validators": params.validators,
        "valid_share": params.valid_share,
        "gold_valid_share": params.gold_truth_share,
        "seeds": list(seeds),
        "accept_threshold": config.accept_threshold,
        "reject_threshold": config.reject_threshold,
        "vote_cap": config.vote_cap,
        "min_votes": config.min_votes,
        "prior_strength": params.prior_strength,
        "gold_rate": rules.gold_rate,
        "newcomer_gold_rate": rules.newcomer_gold_rate,
        "newcomer_gold_answers": rules.newcomer_gold_answers,
        "established_gold_answers": rules.accuracy.established_gold_answers,
        "probation_floor": rules.accuracy.probation_floor,
        "probation_min_gold_answers": rules.accuracy.probation_min_gold_answers,
        "sessions_at_once": params.sessions_at_once,
        "page_size": params.page_size,
        "open_clips": params.open_clips,
        "refit_every": params.refit_every,
    }


def _point_fields(point: SweepPoint) -> dict[str, Any]:
    return {
        "policy": point.policy.value,
        "accept_threshold": point.accept_threshold,
        "label_accuracy": point.label_accuracy,
        "decided_label_accuracy": point.decided_label_accuracy,
        "votes_per_clip": point.votes_per_clip,
        "gold_per_clip": point.gold_per_clip,
        "disputed_share": point.disputed_share,
        "late_share": point.late_share,
        "seeds": [result.seed for result in point.results],
        "errors_per_seed": [result.clips - result.correct for result in point.results],
    }


def _point_document(kind: CrowdKind, point: SweepPoint) -> dict[str, Any]:
    return {"crowd": kind.value, **_point_fields(point)}


def _at_document(at: AtVotes | None) -> dict[str, Any] | None:
    if at is None:
        return None
    return {
        "error_rate": at.error_rate,
        "votes_per_clip": at.votes_per_clip,
        "between": list(at.between),
        "interpolated": at.interpolated,
    }


def _sweep_document(sweep: Sweep) -> dict[str, Any]:
    plain = sweep.common_voice
    return {
        "crowd": sweep.kind.value,
        "majority": _point_fields(sweep.majority),
        "common_voice": None if plain is None else _point_fields(plain),
        "curves": {
            policy.value: [_point_fields(point) for point in curve]
            for policy, curve in sweep.curves.items()
        },
        "at_majority_votes": {
            policy.value: _at_document(sweep.at_majority_votes(policy)) for policy in sweep.curves
        },
        "relative_errors": {policy.value: sweep.relative_errors(policy) for policy in sweep.curves},
        "at_common_voice_votes": {
            policy.value: _at_document(sweep.at_majority_votes(policy, plain=True))
            for policy in sweep.curves
            if plain is not None
        },
        "relative_to_common_voice": {
            policy.value: sweep.relative_errors(policy, plain=True)
            for policy in sweep.curves
            if plain is not None
        },
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


_COLORS = {PolicyName.DAWID_SKENE: "C0", PolicyName.WEIGHTED: "C1"}


def _write_plot(
    figure_class: type[Figure],
    path: Path,
    params: SimulationParams,
    seeds: Sequence[int],
    sweeps: Sequence[Sweep],
) -> None:
    columns = min(3, len(sweeps))
    rows = -(-len(sweeps) // columns)
    figure = figure_class(figsize=(5.2 * columns, 4.4 * rows + 0.8), dpi=100, layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, sweep in enumerate(sweeps):
        _plot_sweep(grid[index // columns][index % columns], sweep)
    for index in range(len(sweeps), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    config = params.rules.policy.config
    figure.suptitle(
        f"chorus consensus simulate — {params.clips} clips, {params.validators} validators, "
        f"seeds {seeds[0]}–{seeds[-1]} (means), cap {config.vote_cap}, prior strength "
        f"{params.prior_strength:g}\n"
        "points: accept thresholds; ★ CV rule (majority) under production's rules; "
        "☆ plain Common Voice\n"
        "◆ each policy read at the CV rule's votes per clip; titles: its errors relative "
        "to the CV rule's"
    )
    try:
        figure.savefig(path, format="png")
    except OSError as error:
        raise click.ClickException(f"Could not write the plot to {path}: {error}") from None


def _plot_sweep(axes: Axes, sweep: Sweep) -> None:
    majority = sweep.majority
    title = [sweep.kind.value]
    for policy, curve in sweep.curves.items():
        color = _COLORS.get(policy, "C2")
        axes.plot(
            [point.votes_per_clip for point in curve],
            [100 * point.error_rate for point in curve],
            marker="o",
            color=color,
            label=policy.value,
        )
        for point in curve:
            axes.annotate(
                f"{point.accept_threshold:g}",
                (point.votes_per_clip, 100 * point.error_rate),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize="x-small",
                color=color,
            )
        at = sweep.at_majority_votes(policy)
        if at is not None:
            axes.plot(
                at.votes_per_clip, 100 * at.error_rate, marker="D", color=color, linestyle="none"
            )
        short = "DS" if policy is PolicyName.DAWID_SKENE else policy.value
        title.append(f"{short} {_ratio(sweep.relative_errors(policy))}")
    axes.plot(
        majority.votes_per_clip,
        100 * majority.error_rate,
        marker="*",
        markersize=15,
        color="black",
        linestyle="none",
        label="CV rule (majority)",
    )
    if sweep.common_voice is not None:
        axes.plot(
            sweep.common_voice.votes_per_clip,
            100 * sweep.common_voice.error_rate,
            marker="*",
            markersize=13,
            markerfacecolor="none",
            color="black",
            linestyle="none",
            label="plain Common Voice",
        )
    axes.axvline(majority.votes_per_clip, color="grey", linestyle=":", linewidth=1)
    axes.set_title(" · ".join(title), fontsize="medium")
    axes.set_xlabel("real votes per clip")
    axes.set_ylabel("errors, % of clips (disputed count)")
    axes.set_ylim(bottom=0)
    axes.grid(visible=True, alpha=0.3)
    axes.legend(loc="upper right", fontsize="small")
