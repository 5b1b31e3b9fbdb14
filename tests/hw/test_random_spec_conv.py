"""random_spec(spatial=1|2): valid Conv1D / Conv2D specs covering the corners they promise."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.fixed import Overflow
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import infer_types
from hgq_hw.spec import AvgPoolSpec, ConvSpec, MaxPoolSpec, Padding, RequantizeSpec, dumps


def _corners(spatial: int, seeds: range) -> set[str]:
    seen: set[str] = set()
    for seed in seeds:
        spec = random_spec(seed, spatial=spatial, conv_depth=2, depth=1, pool=0.7)
        types = infer_types(spec)
        assert len(spec.input_shape) == spatial + 1
        if np.any(np.all(spec.input.type.width.reshape(-1, spec.input_shape[-1]) == 0, axis=0)):
            seen.add("zero-width input channel")
        for layer in spec.layers:
            if isinstance(layer, ConvSpec):
                seen.add(f"padding {layer.padding.value}")
                if max(layer.strides) > 1:
                    seen.add("stride > 1")
                if np.any(layer.kernel_raw == 0):
                    seen.add("pruned weight")
                taps = layer.kernel_raw.reshape(-1, layer.c_out)
                if np.any(np.all(taps == 0, axis=1)):
                    seen.add("whole pruned tap")
                if layer.padding is Padding.SAME and max(layer.window) > 1:
                    seen.add("same padding with a border")
            if isinstance(layer, MaxPoolSpec):
                seen.add("maxpool")
            if isinstance(layer, AvgPoolSpec):
                seen.add("avgpool")
            if isinstance(layer, RequantizeSpec):
                src = types[layer.inputs[0]]
                seen.add(f"overflow {layer.overflow.value}")
                if np.any(layer.type.width < src.width):
                    seen.add("narrower than input")
                if layer.k.ndim > 1 and np.any(
                    np.all(layer.type.width.reshape(-1, layer.k.shape[-1]) == 0, axis=0)
                ):
                    seen.add("zero-width channel")
    return seen


@pytest.mark.parametrize("spatial", [1, 2])
def test_conv_specs_cover_their_corners(spatial: int) -> None:
    seen = _corners(spatial, range(60))
    want = {
        "padding valid",
        "padding same",
        "same padding with a border",
        "stride > 1",
        "pruned weight",
        "whole pruned tap",
        "maxpool",
        "avgpool",
        f"overflow {Overflow.SAT.value}",
        f"overflow {Overflow.WRAP.value}",
        "narrower than input",
        "zero-width channel",
    }
    assert want <= seen, want - seen


def test_conv_specs_are_deterministic_and_checked() -> None:
    a = random_spec(9, spatial=2, conv_depth=2)
    assert dumps(a) == dumps(random_spec(9, spatial=2, conv_depth=2))
    assert a.layers[-2].kind in ("Requantize", "ReLU")
    with pytest.raises(ValueError, match="spatial must be 0, 1 or 2"):
        random_spec(0, spatial=3)
    with pytest.raises(ValueError, match="cannot be combined"):
        random_spec(0, spatial=1, sizes=[4, 2])
    with pytest.raises(ValueError, match="conv_depth"):
        random_spec(0, spatial=1, conv_depth=0)
