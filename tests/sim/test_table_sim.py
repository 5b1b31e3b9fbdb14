"""Tables in the testbench: the corner vectors hit every table entry an input can reach, and a
random table spec runs bit-exactly under cocotb (issue 13, item 1)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.reference import input_bounds
from hgq_hw.spec import ModelSpec
from sim.design import generate_design
from sim.runner import run_regression
from sim.vectors import build_vectors, table_entry_hits
from tests.hw.test_table_hw import exhaustive_spec


def all_inputs(spec: ModelSpec) -> np.ndarray:
    """Every raw input vector of a small input space."""
    lo, hi = input_bounds(spec)
    ranges = [range(int(a), int(b) + 1) for a, b in zip(lo, hi)]
    return np.array(list(itertools.product(*ranges)), dtype=object)


def reachable_entries(spec: ModelSpec) -> int:
    return int(np.count_nonzero(table_entry_hits(spec, all_inputs(spec)).any(axis=0)))


def test_every_entry_of_a_table_on_the_input_is_hit() -> None:
    spec = exhaustive_spec()
    vectors = build_vectors(spec, samples=0, seed=1)
    hit, total = vectors.table_coverage
    assert total == 16 + 8 + 16 and hit == total
    assert hit == reachable_entries(spec)


@pytest.mark.parametrize("seed", range(8))
def test_every_reachable_entry_is_hit(seed: int) -> None:
    """Input -> Requantize -> table input requantizer -> Table: the entries that some input
    reaches (found by enumerating the whole input space) are all hit by the vectors."""
    spec = random_spec(
        500 + seed, depth=0, width=(1, 3), input_bits=(1, 4), table=1.0, table_bits=5
    )
    vectors = build_vectors(spec, samples=0, seed=seed, edges=False)
    hit, total = vectors.table_coverage
    reachable = reachable_entries(spec)
    print(f"seed {500 + seed}: {hit} of {total} entries hit, {reachable} reachable")
    assert hit == reachable and total >= reachable
    assert vectors.sources.count("table") <= 256


@pytest.mark.sim
def test_random_table_spec_on_verilator(tmp_path: Path) -> None:
    """(Every entry of the hand-made tables is checked in Amaranth's simulator and the vectors
    above cover them; one Verilator build here keeps the suite short.)"""
    from tests.sim.conftest import require
    from tests.sim.vary import assert_vectors_vary

    require("verilator")
    seed = 217  # a draw whose outputs vary (tests.sim.vary.assert_vectors_vary)
    spec = random_spec(seed, depth=2, width=(2, 5), table=1.0, table_bits=4)
    print(f"random_spec seed {seed}: {[layer.kind for layer in spec.layers]}")
    vectors = assert_vectors_vary(spec, samples=100, seed=7)
    design = generate_design(spec, tmp_path / "gen", pipeline_levels=2)
    result = run_regression(
        spec, design, work_dir=tmp_path / "w", simulator="verilator", vectors=vectors, seed=7
    )
    print(result.summary())
    assert result.passed, result.summary()
    assert result.checked >= result.vectors and result.table_coverage[0] > 0
