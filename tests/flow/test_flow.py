"""`hgq flow` end to end on digits (tiny settings), and the stages re-run alone from its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hgq_hw.spec import load
from hgqflow.cli import main
from tests.sim.conftest import require

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("icarus")
    run = tmp_path_factory.mktemp("flow") / "run"
    status = main(
        [
            "flow",
            "--out",
            str(run),
            "--epochs",
            "3",
            "--target",
            "none",
            "--simulator",
            "icarus",
            "--samples",
            "20",
            "--verbose",
            "0",
        ]
    )
    assert status == 0
    return run


def test_flow_writes_report_plots_and_verified_netlist(flow_run: Path) -> None:
    report = json.loads((flow_run / "report.json").read_text())
    assert report["sim"]["mismatches"] == 0 and report["sim"]["checked"] > 0
    assert report["front"]["points"] >= 1
    statuses = {s["stage"]: s["status"] for s in report["stages"]}
    assert statuses["train"] == "ok" and statuses["sim"] == "ok"
    assert statuses["synth"].startswith("skipped")
    text = (flow_run / "report.md").read_text()
    for heading in ("## Chosen model", "## Pareto front", "## Plots", "## Stages"):
        assert heading in text
    for png in (
        "pareto_ebops",
        "pareto_luts",
        "training",
        "bitwidth_histograms",
        "bitwidth_heatmaps",
    ):
        path = flow_run / "plots" / f"{png}.png"
        assert path.exists() and path.stat().st_size > 2000, png
        assert f"plots/{png}.png" in text
    spec = load(flow_run / "spec.json")
    gen = json.loads((flow_run / "gen" / "report.json").read_text())
    assert (flow_run / "gen" / gen["verilog"]).exists()
    assert gen["latency"] == report["gen"]["latency"]
    assert spec.metadata["dataset"] == "digits"


def test_stages_rerun_alone_from_flow_files(flow_run: Path, tmp_path: Path) -> None:
    assert main(["gen", str(flow_run / "spec.json"), "-o", str(tmp_path / "gen")]) == 0
    assert (
        main(
            [
                "sim",
                str(flow_run / "spec.json"),
                "--design",
                str(flow_run / "gen"),
                "--simulator",
                "icarus",
                "--samples",
                "10",
                "--work",
                str(tmp_path / "sim"),
            ]
        )
        == 0
    )
    front = json.loads((flow_run / "front.json").read_text())
    model = flow_run / "train" / "pareto" / front["chosen"]["file"]
    assert main(["export", str(model), "-o", str(tmp_path / "spec.json")]) == 0
    again, original = load(tmp_path / "spec.json"), load(flow_run / "spec.json")
    assert [layer.to_json() for layer in again.layers] == [
        layer.to_json() for layer in original.layers
    ]
