"""Bus packing: pack/unpack round-trip, widths, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from tests.hw.conftest import random_raw_inputs


def test_layout_offsets_and_width() -> None:
    t = TensorType([1, 0, 1, 0], [2, 3, -1, 0], [1, 0, 1, 0])  # widths 4, 3, 1, 0
    layout = BusLayout.of(t)
    assert [(f.offset, f.width, f.signed) for f in layout.fields] == [
        (0, 4, True),
        (4, 3, False),
        (7, 1, True),
        (8, 0, False),
    ]
    assert layout.width == 8
    assert layout.pack(np.array([[-8, 7, -1, 0]])) == [0b1_111_1000]
    with pytest.raises(ValueError, match="does not fit"):
        layout.pack(np.array([[8, 0, 0, 0]]))
    with pytest.raises(ValueError, match="width 0"):
        layout.pack(np.array([[0, 0, 0, 1]]))


@pytest.mark.parametrize("seed", range(10))
def test_pack_unpack_round_trip(seed: int) -> None:
    spec = random_spec(seed, depth=2)
    x = random_raw_inputs(spec, 20, seed)
    for name, raw in [(spec.input.name, x), (spec.output.name, evaluate(spec, x))]:
        layout = BusLayout.of(infer_types(spec)[name])
        words = layout.pack(raw)
        assert all(0 <= w < (1 << max(layout.width, 1)) for w in words)
        assert np.array_equal(layout.unpack(words), np.asarray(raw, dtype=object))
