"""Shared helpers for the hardware-side tests."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.reference import input_bounds
from hgq_hw.spec import ModelSpec


def random_raw_inputs(spec: ModelSpec, n: int, seed: int, corners: bool = True) -> np.ndarray:
    """``n`` random raw inputs over the full input types, plus min / max / 0 rows (object ints)."""
    rng = np.random.default_rng(seed)
    lo, hi = input_bounds(spec)
    shape = spec.input_shape
    rows = []
    if corners:
        rows += [lo, hi, np.zeros(shape, dtype=object)]
    for _ in range(n):
        row = np.empty(shape, dtype=object)
        for index in np.ndindex(*shape):
            a, b = int(lo[index]), int(hi[index])
            # Python ints: the type may be wider than int64 can draw from.
            row[index] = a + int(rng.integers(0, 1 << 62)) % (b - a + 1)
        rows.append(row)
    return np.array(rows, dtype=object).reshape(len(rows), *shape)


@pytest.fixture
def raw_inputs():
    return random_raw_inputs


def non_chain_spec() -> ModelSpec:
    """``Input x -> Dense d(x) -> Requantize q(x) -> Output(q)``: q reads x, not d (issue 10).

    The Dense layer is a dead branch with another width than x, so hardware that wired layer
    ``i - 1`` to layer ``i`` would compute something else (or fail to connect).
    """
    from hgq_hw.fixed import Overflow, Round
    from hgq_hw.spec import DenseSpec, InputSpec, OutputSpec, RequantizeSpec

    return ModelSpec(
        "non_chain",
        [
            InputSpec(name="x", k=[1, 1, 0, 1], i=[3, 2, 3, 1], f=[1, 2, 0, 3]),
            DenseSpec(
                name="d",
                inputs=("x",),
                weight_raw=np.array([[3, 0, -1], [1, 2, 0], [0, 0, 5], [-7, 1, 1]]),
                weight_f=np.zeros((4, 3), dtype=np.int64),
                bias_raw=np.array([1, 0, -2]),
                bias_f=np.zeros(3, dtype=np.int64),
            ),
            RequantizeSpec(
                name="q",
                inputs=("x",),
                k=[1, 0, 1, 1],
                i=[2, 2, 2, 0],  # element 2 saturates x's 0..7 at 3: each output varies
                f=[0, 1, 0, 2],
                round=Round.RND,
                overflow=Overflow.SAT,
            ),
            OutputSpec(name="out", inputs=("q",)),
        ],
    )
