"""cocotb regressions of an exported QSoftmax (issue 13, item 2) on Verilator and Icarus (the
exp table of the largest logit reads ``d = 0``, the table ROM register's initial value, from
the first vector on: Icarus needs :func:`sim.icarus.icarus_kick`'s ``always_comb``)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from hgq_hw.spec import ModelSpec
from hgq_train.export import export_with_model, verify
from hgq_train.layers import QInput, QSoftmax
from sim.design import generate_design
from sim.runner import run_regression
from tests.sim.conftest import require
from tests.sim.vary import assert_vectors_vary

pytestmark = pytest.mark.sim

SEED = 31


@pytest.fixture(scope="module")
def softmax_spec() -> ModelSpec:
    """``QInput -> QSoftmax`` over 6 logits, calibrated on random logits (3 fractional bits in
    every quantizer of the softmax)."""
    print(f"seed {SEED}")
    keras.utils.set_random_seed(SEED)
    common = {"gamma": 0.0, "overflow": "SAT"}
    kw = {name: 3.0 for name in ("f_init", "exp_in_f_init", "exp_out_f_init", "sum_f_init")}
    model = keras.Sequential(
        [
            keras.Input(shape=(6,)),
            QInput(f_init=2.0, name="logits", **common),
            QSoftmax(name="sm", recip_f_init=4.0, out_f_init=4.0, **kw, **common),
        ]
    )
    x = np.random.default_rng(SEED).normal(scale=2.0, size=(500, 6))
    result = export_with_model(model, x)
    assert verify(result.model64, result.spec, x) == 500
    return result.spec


@pytest.mark.parametrize("simulator", ["verilator", "icarus"])
def test_softmax_is_bit_exact_in_simulation(
    softmax_spec: ModelSpec, simulator: str, tmp_path: Path
) -> None:
    require(simulator)
    vectors = assert_vectors_vary(softmax_spec, samples=100, seed=7)
    design = generate_design(softmax_spec, tmp_path / "gen", pipeline_levels=2)
    result = run_regression(
        softmax_spec, design, work_dir=tmp_path / "w", simulator=simulator, vectors=vectors, seed=7
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.checked >= result.vectors and result.table_coverage[0] > 0


RANDOM_SEED = 111
RANDOM_DRAW = {"zero_width": 0.0, "act_bits": (4, 10), "table_bits": 6}
"""No width-0 elements and 4..10-bit activations. Of seeds 0..399 of this draw, 111 is the one
that has all these kinds and whose outputs each vary
(:func:`tests.sim.vary.assert_vectors_vary`): most random networks in front of a softmax have
logits that barely move, or one that always wins."""


def test_random_graph_with_tables_merges_and_a_softmax(simulator: str, tmp_path: Path) -> None:
    """``random_spec`` with a table, a Concatenate and an Add, ending in the softmax block."""
    from hgq_hw.random_spec import random_spec

    spec = random_spec(
        RANDOM_SEED, depth=2, width=(2, 5), table=0.5, merges=2, softmax=1.0, **RANDOM_DRAW
    )
    kinds = [layer.kind for layer in spec.layers]
    print(f"random_spec seed {RANDOM_SEED}: {kinds}")
    assert {"Table", "Concatenate", "Add", "MaxPool", "Multiply"} <= set(kinds)
    vectors = assert_vectors_vary(spec, samples=100, seed=7)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=2)
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator=simulator, vectors=vectors, seed=7
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.checked >= result.vectors and result.table_coverage[0] > 0
