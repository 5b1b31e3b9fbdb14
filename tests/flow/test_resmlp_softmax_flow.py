"""`hgq flow --model resmlp-softmax` end to end on both simulators (issue 13's done-when model).

The preset is QDense 16 -> tanh table -> QDense 16 -> tanh table -> ``Add`` skip -> QDense 10
-> QSoftmax. One tiny flow per simulator (1 epoch, 5 random samples, no synthesis; seed 0 and
TensorFlow's op determinism, so both simulators see the same spec and the same vectors) must
train, export, generate and pass the cocotb regression with 0 mismatches on a known number of
samples, hitting table entries; the exported spec must hold the tables, the skip ``Add`` and
the softmax's block, in graph order. The Verilator case (about 140 s on the loaded 2-core
machine) is ``extended``: it runs with ``HGQ_EXTENDED=1``; the Icarus one runs in the default
suite, and Verilator covers random specs with tables, merges and softmax in ``tests/sim``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.spec import load
from hgqflow.cli import main
from tests.sim.conftest import require

pytestmark = pytest.mark.sim

SEED = 0
TABLE_COVERAGE = (1228, 1584)
CHECKED = 727

# The layers the preset exports, in order (kinds as in spec.json): the two tanh tables, the
# skip Add and the QSoftmax block (max by a MaxPool, subtract, exp table, sum, reciprocal
# table, two-variable multiply).
EXPECTED_LAYERS = [
    ("inp_q", "Input"),
    ("dense0", "Dense"),
    ("tanh0_in", "Requantize"),
    ("tanh0", "Table"),
    ("dense1", "Dense"),
    ("tanh1_in", "Requantize"),
    ("tanh1", "Table"),
    ("skip1", "Add"),
    ("logits", "Dense"),
    ("softmax_in", "Requantize"),
    ("softmax_col", "Reshape"),
    ("softmax_maxpool", "MaxPool"),
    ("softmax_max", "Reshape"),
    ("softmax_max_b", "Dense"),
    ("softmax_diff", "Subtract"),
    ("softmax_exp_in", "Requantize"),
    ("softmax_exp", "Table"),
    ("softmax_sum", "Dense"),
    ("softmax_recip_in", "Requantize"),
    ("softmax_recip", "Table"),
    ("softmax_recip_b", "Dense"),
    ("softmax_mul", "Multiply"),
    ("softmax", "Requantize"),
    ("output", "Output"),
]


def _flow(out: Path, simulator: str) -> dict:
    """Runs the tiny flow into ``out`` and returns its report.json."""
    print(f"resmlp-softmax flow on {simulator}, seed {SEED}")
    status = main(
        [
            "flow",
            "--model",
            "resmlp-softmax",
            "--out",
            str(out),
            "--epochs",
            "1",
            "--target",
            "none",
            "--simulator",
            simulator,
            "--samples",
            "5",
            "--seed",
            str(SEED),
            "--verbose",
            "0",
            "--no-jit",  # XLA's compilation is most of a 1-epoch run (train 197 s vs 63 s)
        ]
    )
    assert status == 0
    return json.loads((out / "report.json").read_text())


@pytest.mark.parametrize(
    "simulator",
    ["icarus", pytest.param("verilator", marks=[pytest.mark.slow, pytest.mark.extended])],
)
def test_resmlp_softmax_flow_is_bit_exact(simulator: str, tmp_path: Path) -> None:
    require(simulator)
    report = _flow(tmp_path / "run", simulator)
    statuses = {s["stage"]: s["status"] for s in report["stages"]}
    for stage in ("train", "export", "gen", "sim"):
        assert statuses[stage] == "ok", (stage, statuses[stage])

    spec = load(tmp_path / "run" / "spec.json")
    layers = [(layer.name, layer.kind) for layer in spec.layers]
    assert layers == EXPECTED_LAYERS
    by_name = {layer.name: layer for layer in spec.layers}
    assert by_name["skip1"].inputs == ("tanh0", "tanh1")  # the skip connection
    assert by_name["softmax_diff"].inputs == ("softmax_in", "softmax_max_b")
    assert by_name["softmax_mul"].inputs == ("softmax_exp", "softmax_recip_b")
    for name in ("tanh0", "tanh1"):  # tanh, tabulated from the smallest raw input up
        for table in by_name[name].tables:
            assert len(table) > 1 and (np.diff(table) >= 0).all(), name

    sim = report["sim"]
    assert sim["simulator"] == simulator
    assert sim["mismatches"] == 0
    # Seed 0 and op determinism give the same spec, so the same vectors, on every run (and on
    # both simulators): 692 vectors, 727 samples checked, 1,228 of the 1,584 table entries hit.
    # Other counts mean the preset, the training or the vectors changed.
    assert sim["checked"] == CHECKED
    assert tuple(sim["table_coverage"]) == TABLE_COVERAGE
    assert report["gen"]["latency"] == sim["latency"] > 0
