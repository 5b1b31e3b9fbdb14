"""cocotb regression of a graph-shaped network (skip connections and merges) on Verilator."""

from __future__ import annotations

from pathlib import Path

import pytest

from hgq_hw.plan import DelayPlan, MergePlan, plan_network
from hgq_hw.random_spec import random_spec
from sim.design import generate_design
from sim.runner import run_regression
from tests.sim.conftest import require
from tests.sim.vary import assert_vectors_vary

pytestmark = pytest.mark.sim

SEED = 25
"""A merges=4 draw whose outputs vary (:func:`tests.sim.vary.assert_vectors_vary`)."""


def test_graph_network_is_bit_exact_on_verilator(tmp_path: Path) -> None:
    require("verilator")
    spec = random_spec(SEED, depth=2, width=(2, 5), merges=4)
    print(f"random_spec seed {SEED}: {[layer.kind for layer in spec.layers]}")
    plan = plan_network(spec, pipeline_levels=2)
    merges = [p for p in plan.layers if isinstance(p, MergePlan)]
    assert any(max(p.delays) > 0 for p in merges)  # a merge's own delay chain
    assert any(isinstance(p, DelayPlan) for p in plan.layers)  # a shared delay line
    vectors = assert_vectors_vary(spec, samples=150, seed=7)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=2)
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="verilator", vectors=vectors, seed=7
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.checked >= result.vectors
