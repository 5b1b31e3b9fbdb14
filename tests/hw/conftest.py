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
