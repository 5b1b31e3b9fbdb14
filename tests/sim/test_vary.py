"""The regressions' precondition (:mod:`tests.sim.vary`) without a simulator: it refuses
specs whose outputs are constant, and the specs the parallel regressions run satisfy it."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import InputSpec, ModelSpec, OutputSpec
from tests.sim.test_regressions import CONV_SPECS, SPECS
from tests.sim.vary import assert_order_matters, assert_vectors_vary, reverse_positions


@pytest.mark.parametrize("name", list(SPECS) + list(CONV_SPECS))
def test_the_regression_specs_vary(name: str) -> None:
    """What each parallel regression asserts first, on the vectors it sends."""
    spec = {**SPECS, **CONV_SPECS}[name]()
    assert_vectors_vary(spec, samples=60 if name in CONV_SPECS else 150, seed=7)


OLD_DRAWS = [  # what the regressions ran before: every output constant
    {"seed": 104, "depth": 4, "width": (1, 5)},
    {"seed": 5, "spatial": 1, "conv_depth": 2, "depth": 1, "width": (1, 4), "pool": 0.8},
    {"seed": 77, "depth": 2, "width": (2, 5), "merges": 4},
]


@pytest.mark.parametrize("draw", OLD_DRAWS)
def test_constant_outputs_are_refused(draw: dict) -> None:
    spec = random_spec(**draw)
    with pytest.raises(AssertionError, match="take fewer than 3 values"):
        assert_vectors_vary(spec, samples=60, seed=7)


def test_an_input_order_the_outputs_ignore_is_refused() -> None:
    """Input -> Output of one value per element, all of one type, checked on inputs that are
    palindromes: every output varies, but reversing the positions changes nothing."""
    shape = (3, 2)
    spec = ModelSpec(
        "ident",
        [
            InputSpec(name="x", k=np.ones(shape, int), i=np.full(shape, 2), f=np.zeros(shape, int)),
            OutputSpec(name="y", inputs=("x",)),
        ],
    )
    x = np.array([[[a, b], [c, d], [a, b]] for a, b, c, d in np.ndindex(2, 2, 2, 2)], dtype=object)
    with pytest.raises(AssertionError, match="changes 0 of 16"):
        assert_order_matters("ident", spec, x, x.reshape(16, -1))
    assert assert_order_matters("ident", spec, x[:, [0, 2, 1]], x[:, [0, 2, 1]].reshape(16, -1))


def test_reverse_positions_keeps_channels_and_wraps_into_types() -> None:
    """Positions reversed, channels in order; a value outside its new element's type wraps."""
    k, i, f = np.array([[0, 0], [0, 0]]), np.array([[3, 3], [1, 1]]), np.zeros((2, 2), int)
    spec = ModelSpec("t", [InputSpec(name="x", k=k, i=i, f=f), OutputSpec(name="y", inputs=("x",))])
    x = np.array([[[5, 6], [1, 2]]], dtype=object)  # position 0: 0..7, position 1: 0..1
    assert reverse_positions(spec, x).tolist() == [[[1, 2], [5 % 2, 6 % 2]]]
    assert reverse_positions(spec, x.reshape(1, 4)).tolist() == [[1, 2, 1, 0]]
    one_d = ModelSpec(
        "u",
        [
            InputSpec(name="x", k=[1, 1, 1], i=[2, 2, 2], f=[0, 0, 0]),
            OutputSpec(name="y", inputs=("x",)),
        ],
    )
    assert reverse_positions(one_d, np.array([[1, -2, 3]], dtype=object)).tolist() == [[3, -2, 1]]
