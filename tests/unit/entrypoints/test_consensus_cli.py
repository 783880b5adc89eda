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
# The weighted-vs-majority win at the same vote budget needs the crowd's accuracies to be
# learned first: it holds from ≈ 2,000 clips (the default), not on a few hundred. Two runs of
# 2,000 clips take ≈ 0.3 s, so that test keeps them; the others use a few hundred.
FEW_CLIPS = ["--clips", "300"]


def simulate(*args: str) -> Result:
    return CliRunner().invoke(cli, ["consensus", "simulate", *args])


def json_results(*args: str) -> dict[str, dict[str, Any]]:
    result = simulate("--format", "json", *args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    return {run["policy"]: run for run in document["results"]}


def test_the_command_is_listed():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "consensus" in result.output
    result = CliRunner().invoke(cli, ["consensus", "--help"])
    assert result.exit_code == 0
    assert "simulate" in result.output


def test_table_shows_both_policies_with_every_figure():
    result = simulate(*FEW_CLIPS)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("300 clips, 200 validators: 60% honest")
    header = next(line for line in lines if line.startswith("| policy"))
    for column in ("accept", "reject", "cap", "accuracy (overall)", "accuracy (decided)"):
        assert column in header
    assert "votes / clip" in header
    assert "disputed" in header
    rows = [line for line in lines if line.startswith(("| majority", "| weighted"))]
    assert len(rows) == 2
    majority = [cell.strip() for cell in rows[0].strip("|").split("|")]
    weighted = [cell.strip() for cell in rows[1].strip("|").split("|")]
    assert majority[:4] == ["majority", "—", "—", "5"]
    assert weighted[:4] == ["weighted", "0.95", "0.05", "5"]
    assert weighted[-1].endswith("%")


def test_one_policy_only():
    result = simulate(*FEW_CLIPS, "--policy", "majority")
    assert result.exit_code == 0, result.output
    assert "| majority" in result.output
    assert "| weighted" not in result.output


def test_json_matches_the_table_and_is_reproducible():
    args = (*FEW_CLIPS, "--seed", "3", "--vote-cap", "7", "--accept-threshold", "0.9")
    first = json_results(*args)
    assert json_results(*args) == first
    assert set(first) == {"majority", "weighted"}
    weighted, majority = first["weighted"], first["majority"]
    assert weighted["accept_threshold"] == 0.9
    assert weighted["reject_threshold"] == pytest.approx(0.1)
    assert majority["accept_threshold"] is None
    assert weighted["vote_cap"] == majority["vote_cap"] == 7
    for run in first.values():
        assert run["clips"] == 300
        assert run["accepted"] + run["rejected"] + run["disputed"] + run["unsettled"] == 300
        assert run["votes_per_clip"] == pytest.approx(run["votes_cast"] / 300)
        assert 0.0 <= run["label_accuracy"] <= run["decided_label_accuracy"] <= 1.0
    table = simulate(*args).output
    assert f"{weighted['votes_per_clip']:.2f}" in table
    assert f"{weighted['decided_label_accuracy']:.3f}" in table


def test_json_echoes_the_params():
    result = simulate(*FEW_CLIPS, "--format", "json", "--spammers", "0.3", "--noisy", "0.1")
    assert result.exit_code == 0, result.output
    params = json.loads(result.stdout)["params"]
    assert params["spammers"] == 0.3
    assert params["noisy"] == 0.1
    assert params["accept_threshold"] == 0.95
    assert params["reject_threshold"] == 0.05


@pytest.mark.parametrize(
    "args",
    [
        ["--spammers", "0.3"],  # 0.6 + 0.2 + 0.3
        ["--honest", "0.5", "--noisy", "0.1", "--spammers", "0.1"],
    ],
)
def test_shares_not_summing_to_one_are_a_usage_error(args: list[str]):
    result = simulate(*FEW_CLIPS, *args)
    assert result.exit_code == 2
    assert "--honest, --noisy and --spammers must sum to 1" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spammers", "-0.1"], "--spammers"),
        (["--clips", "0"], "--clips"),
        (["--accept-threshold", "0.4", "--reject-threshold", "0.6"], "Thresholds"),
        (["--vote-cap", "1"], "min_votes"),
        (["--gold-rate", "0.5"], "--gold-rate"),
        (["--policy", "unanimity"], "--policy"),
        (["--plot", "sweep.svg"], ".png"),
        (["--plot", "no/such/dir/sweep.png"], "does not exist"),
    ],
)
def test_bad_values_exit_2_with_a_clear_message(args: list[str], message: str):
    result = simulate(*FEW_CLIPS, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_weighted_beats_majority_against_20_percent_spammers_at_no_more_votes():
    """The issue's check, at the thresholds docs/consensus.md gives (0.75 / 0.25)."""
    same_budget = json_results(
        "--spammers", "0.2", "--accept-threshold", "0.75", "--reject-threshold", "0.25"
    )
    majority, weighted = same_budget["majority"], same_budget["weighted"]
    assert weighted["label_accuracy"] > majority["label_accuracy"]
    assert weighted["decided_label_accuracy"] > majority["decided_label_accuracy"]
    assert weighted["votes_per_clip"] <= majority["votes_per_clip"]


def test_default_thresholds_trade_votes_and_disputes_for_surer_decisions():
    defaults = json_results("--spammers", "0.2")
    majority, weighted = defaults["majority"], defaults["weighted"]
    assert weighted["decided_label_accuracy"] > majority["decided_label_accuracy"] + 0.05
    assert weighted["disputed"] > 0
    assert majority["disputed"] == 0


def test_plot_writes_a_png_and_prints_the_sweep(tmp_path: Path):
    path = tmp_path / "sweep.png"
    result = simulate(*FEW_CLIPS, "--plot", str(path))
    assert result.exit_code == 0, result.output
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 600
    assert height > 400
    assert len(data) > 20_000
    assert "Sweep" in result.stdout
    sweep_rows = [
        line for line in result.stdout.splitlines() if line.startswith(("| 3 ", "| 5 ", "| 7 "))
    ]
    assert len(sweep_rows) == 3 * (1 + 5)  # caps x (majority + weighted at 5 thresholds)
    assert f"Plot written to {path}" in result.stderr


def test_plot_with_json_keeps_stdout_valid_json(tmp_path: Path):
    path = tmp_path / "sweep.png"
    result = simulate(
        "--clips", "100", "--format", "json", "--vote-cap", "4", "--accept-threshold", "0.85",
        "--plot", str(path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["plot"] == str(path)
    sweep = document["sweep"]
    assert {row["vote_cap"] for row in sweep} == {3, 4, 5, 7}  # the run's own cap is added
    assert {row["accept_threshold"] for row in sweep} == {None, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99}
    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_plot_without_matplotlib_exits_2_and_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    path = tmp_path / "sweep.png"
    result = simulate(*FEW_CLIPS, "--plot", str(path))
    assert result.exit_code == 2
    assert "install chorus[plot]" in result.output
    assert not path.exists()
