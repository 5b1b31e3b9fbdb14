"""cocotb regressions of generated networks on Verilator and Icarus, and a planted bug.

Every regression first checks :func:`tests.sim.vary.assert_vectors_vary` on the vectors it
sends: each output takes several values, and reversing the input positions changes them (a
spec whose outputs are constant passes on a design that drops or reorders its inputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate
from hgq_hw.spec import DenseSpec, ModelSpec, load
from sim.design import generate_design
from sim.runner import run_regression
from tests.hw.conftest import non_chain_spec
from tests.sim.conftest import require
from tests.sim.vary import assert_vectors_vary

pytestmark = pytest.mark.sim

ROOT = Path(__file__).resolve().parents[2]

SPECS = {  # random_spec seeds whose outputs vary (tests.sim.vary.assert_vectors_vary)
    "tiny": lambda: load(ROOT / "examples" / "specs" / "tiny.json"),
    "depth1": lambda: random_spec(101, depth=1, width=(1, 4)),
    "depth2-pruned": lambda: random_spec(3, depth=2, width=(2, 8), prune=0.6),
    "depth3-negative-f": lambda: random_spec(103, depth=3, width=(1, 6), f_range=(-4, 2)),
    "depth4": lambda: random_spec(4, depth=4, width=(1, 5)),
    "width64": lambda: random_spec(  # no ReLU, 2..6-bit activations: each output varies
        403,
        depth=1,
        width=(64, 64),
        input_bits=(1, 3),
        weight_bits=(1, 2),
        act_bits=(2, 6),
        prune=0.7,
        relu=0.0,
    ),
    "wide-bits": lambda: random_spec(
        3, depth=1, width=(2, 3), input_bits=(30, 40), weight_bits=(10, 20), act_bits=(40, 64)
    ),
    "requantize-only": lambda: random_spec(10, depth=0, width=(8, 8)),
    "non-chain": non_chain_spec,  # q reads x, not the Dense layer before it (issue 10)
}

CONV_SPECS = {  # Conv1D / Conv2D with both pools and a Reshape before the Dense (issue 12)
    "conv1d": lambda: random_spec(88, spatial=1, conv_depth=2, depth=1, width=(1, 4), pool=0.8),
    "conv2d": lambda: random_spec(32, spatial=2, conv_depth=2, depth=1, width=(1, 4), pool=0.8),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_generated_network_is_bit_exact(name: str, simulator: str, tmp_path: Path) -> None:
    spec = SPECS[name]()
    vectors = assert_vectors_vary(spec, samples=150, seed=7)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=2)
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator=simulator, vectors=vectors, seed=7
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.checked >= result.vectors


@pytest.mark.parametrize("name", list(CONV_SPECS))
def test_generated_conv_network_is_bit_exact_on_verilator(name: str, tmp_path: Path) -> None:
    """Icarus runs these specs through both writers in tests/hw/test_netlist.py."""
    require("verilator")
    spec = CONV_SPECS[name]()
    assert {"Conv", "Reshape", "MaxPool", "AvgPool"} <= {layer.kind for layer in spec.layers}
    vectors = assert_vectors_vary(spec, samples=60, seed=7)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=2)
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="verilator", vectors=vectors, seed=7
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.checked >= result.vectors


def _plant_bug(spec: ModelSpec, x_raw: np.ndarray) -> tuple[ModelSpec, str]:
    """Flip one bit of one weight such that the outputs change on ``x_raw``."""
    expected = evaluate(spec, x_raw)
    for index, layer in enumerate(spec.layers):
        if not isinstance(layer, DenseSpec):
            continue
        for (i, j), raw in np.ndenumerate(layer.weight_raw):
            if raw == 0:
                continue
            w = layer.weight_raw.copy()
            w[i, j] = raw ^ 1
            bad = DenseSpec(
                name=layer.name,
                inputs=layer.inputs,
                weight_raw=w,
                weight_f=layer.weight_f,
                bias_raw=layer.bias_raw,
                bias_f=layer.bias_f,
            )
            layers = list(spec.layers)
            layers[index] = bad
            mutated = ModelSpec(spec.name, layers, spec.metadata)
            if not np.array_equal(evaluate(mutated, x_raw), expected):
                return mutated, f"{layer.name}[{i},{j}]: {raw} -> {raw ^ 1}"
    raise AssertionError("no single weight bit changes the outputs")


def test_planted_bug_is_caught(simulator: str, tmp_path: Path) -> None:
    spec = SPECS["depth2-pruned"]()
    vectors = assert_vectors_vary(spec, samples=100, seed=3)
    mutated, where = _plant_bug(spec, vectors.x_raw)
    print(f"planted bug: weight {where}")
    design = generate_design(mutated, tmp_path / "gen", name=spec.name)
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator=simulator, vectors=vectors, seed=3
    )
    print(result.summary())
    assert not result.passed
    assert result.mismatch_count > 0 and result.mismatches
    assert "MISMATCH sample" in result.summary()


def test_hgq_sim_cli_passes_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hgq_hw.reports import spec_digest
    from hgq_hw.spec import save
    from hgqflow.cli import main
    from tests.sim.conftest import require

    require("icarus")
    spec = SPECS["depth2-pruned"]()
    spec_path = save(spec, tmp_path / "spec.json")
    args = ["sim", str(spec_path), "--simulator", "icarus", "--samples", "40", "--seed", "2"]
    assert main([*args, "--work", str(tmp_path / "ok")]) == 0
    out = capsys.readouterr().out
    assert "mismatches:      0" in out and "PASS" in out and "latency:" in out

    vectors = assert_vectors_vary(spec, samples=40, seed=2)
    mutated, _ = _plant_bug(spec, vectors.x_raw)
    generate_design(mutated, tmp_path / "bad-gen", name=spec.name)
    report = tmp_path / "bad-gen" / "report.json"  # a generator bug: the report claims `spec`
    report.write_text(report.read_text().replace(spec_digest(mutated), spec_digest(spec)))
    status = main([*args, "--design", str(tmp_path / "bad-gen"), "--work", str(tmp_path / "bad")])
    out = capsys.readouterr().out
    assert status == 1
    assert "MISMATCH sample" in out and "FAIL" in out
