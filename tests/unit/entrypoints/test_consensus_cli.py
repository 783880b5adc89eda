"""``chorus consensus simulate``: the operator tool wrapping ``core.domain.simulation``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from entrypoints.cli.main import cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ["--clips", "120", "--validators", "30", "--refit-every", "60"]


def simulate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["consensus", "simulate", *SMALL, *args])


def json_document(*args: str) -> dict[str, Any]:
    result = simulate("--format", "json", *args)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def table_rows(output: str, first_cell: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in output.splitlines()
        if line.startswith(f"| {first_cell} ")
    ]


def test_the_command_is_listed() -> None:
    result = CliRunner().invoke(cli, ["consensus", "--help"])
    assert result.exit_code == 0
    assert "simulate" in result.output


def test_table_shows_the_three_policies_with_every_figure() -> None:
    result = simulate()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("120 clips, 30 validators, valid share 0.8; accept threshold 0.85")
    header = next(line for line in lines if line.startswith("| crowd"))
    for column in ("policy", "accept", "accuracy (decided)", "votes / clip", "gold / clip"):
        assert column in header
    assert "disputed" in header
    assert "late votes" in header
    rows = table_rows(result.output, "standard")
    assert [row[:3] for row in rows] == [
        ["standard", "majority", "—"],
        ["standard", "dawid_skene", "0.85"],
        ["standard", "weighted", "0.85"],
    ]


def test_json_is_reproducible_and_matches_the_table() -> None:
    args = ("--crowd", "one_sided", "--policy", "dawid_skene", "--seed", "3", "--seeds", "2")
    first = json_document(*args)
    assert json_document(*args) == first
    (run,) = first["results"]
    assert run["crowd"] == "one_sided"
    assert run["policy"] == "dawid_skene"
    assert run["seeds"] == [3, 4]
    assert 0.0 <= run["label_accuracy"] <= run["decided_label_accuracy"] <= 1.0
    assert first["params"]["seeds"] == [3, 4]
    table = simulate(*args).output
    assert f"{run['votes_per_clip']:.2f}" in table
    assert f"{run['label_accuracy']:.4f}" in table


def test_options_reach_the_rules() -> None:
    params = json_document(
        "--policy", "majority", "--accept-threshold", "0.9", "--vote-cap", "7",
        "--prior-strength", "2", "--gold-rate", "0.2", "--newcomer-gold-rate", "0.4",
        "--newcomer-gold-answers", "3", "--established-gold-answers", "1",
        "--probation-floor", "0.6", "--gold-valid-share", "0.5", "--sessions", "2",
    )["params"]  # fmt: skip
    assert params["accept_threshold"] == 0.9
    assert params["reject_threshold"] == pytest.approx(0.1)
    assert params["vote_cap"] == 7
    assert params["prior_strength"] == 2
    assert params["gold_rate"] == 0.2
    assert params["newcomer_gold_rate"] == 0.4
    assert params["newcomer_gold_answers"] == 3
    assert params["established_gold_answers"] == 1
    assert params["probation_floor"] == 0.6
    assert params["gold_valid_share"] == 0.5
    assert params["sessions_at_once"] == 2


def test_all_crowds() -> None:
    results = json_document("--crowd", "all", "--policy", "majority")["results"]
    assert [run["crowd"] for run in results] == [
        "standard",
        "coin_flippers",
        "one_sided",
        "cold_start",
        "language",
        "drift",
    ]


def test_sweep_prints_every_point_and_the_reading_at_the_cv_rules_votes() -> None:
    result = simulate("--sweep", "--thresholds", "0.7,0.99")
    assert result.exit_code == 0, result.output
    rows = table_rows(result.output, "standard")
    policies = [(row[1], row[2]) for row in rows[:6]]
    assert policies == [
        ("majority", "—"),
        ("common voice (plain)", "—"),
        ("dawid_skene", "0.7"),
        ("dawid_skene", "0.99"),
        ("weighted", "0.7"),
        ("weighted", "0.99"),
    ]
    assert "Errors at the votes per clip of the CV rule (`majority`)" in result.output
    assert "Errors at the votes per clip of the plain Common Voice" in result.output
    summaries = rows[6:]
    assert len(summaries) == 2
    assert all(len(row) == 7 for row in summaries)


def test_sweep_json_gives_the_reading_and_the_ratio() -> None:
    (swept,) = json_document("--sweep", "--thresholds", "0.6,0.99")["sweeps"]
    majority = swept["majority"]
    curve = swept["curves"]["dawid_skene"]
    assert [point["accept_threshold"] for point in curve] == [0.6, 0.99]
    at = swept["at_majority_votes"]["dawid_skene"]
    ratio = swept["relative_errors"]["dawid_skene"]
    if at is not None:
        assert ratio == pytest.approx(at["error_rate"] / (1 - majority["label_accuracy"]))
    assert swept["common_voice"]["policy"] == "majority"


def test_plot_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "sweep.png"
    crowds = ("--crowd", "standard", "--crowd", "drift")
    result = simulate(*crowds, "--plot", str(path), "--thresholds", "0.7,0.95")
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 600
    assert height > 400
    assert f"Plot written to {path}" in result.stderr


def test_crowdkit_comparison_is_skipped_with_a_message_when_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "crowdkit", None)  # makes `import crowdkit` fail
    monkeypatch.setitem(sys.modules, "crowdkit.aggregation", None)
    result = simulate("--crowdkit", "--policy", "majority")
    assert result.exit_code == 0, result.output
    assert "crowd-kit is not installed" in result.stderr
    (row,) = table_rows(result.output, "standard")[1:]
    assert row[-1] == "not installed"
    assert float(row[3]) > 0.5  # this domain's offline EM still ran


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clips", "0"], "--clips"),
        (["--accept-threshold", "0.4"], "--accept-threshold"),
        (["--crowd", "everyone"], "--crowd"),
        (["--policy", "unanimity"], "--policy"),
        (["--thresholds", "0.7"], "at least two thresholds"),
        (["--thresholds", "0.7,abc"], "comma-separated"),
        (["--gold-rate", "1"], "--gold-rate"),
        (["--plot", "sweep.svg"], ".png"),
        (["--plot", "no/such/dir/sweep.png"], "does not exist"),
    ],
)
def test_bad_values_exit_2_with_a_clear_message(args: list[str], message: str) -> None:
    result = simulate(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_plot_without_matplotlib_exits_2_and_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "sweep.png"
    result = simulate("--plot", str(path))
    assert result.exit_code == 2
    assert "install chorus[plot]" in result.output
    assert not path.exists()


def test_crowdkit_aggregates_the_same_votes_when_installed() -> None:
    pytest.importorskip("crowdkit.aggregation")
    result = simulate("--crowdkit", "--policy", "majority")
    assert result.exit_code == 0, result.output
    (row,) = table_rows(result.output, "standard")[1:]
    offline, crowdkit = float(row[3]), float(row[4])
    assert abs(offline - crowdkit) < 0.05  # two Dawid–Skene fits of the very same votes


def test_several_processes_give_the_same_figures_in_the_same_order() -> None:
    args = ("--crowd", "standard", "--crowd", "drift", "--policy", "dawid_skene", "--seeds", "2")
    assert json_document(*args, "--jobs", "2") == json_document(*args)
