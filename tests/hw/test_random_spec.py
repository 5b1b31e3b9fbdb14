"""random_spec: valid, deterministic, and covering the corners it promises."""

from __future__ import annotations

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.reference import infer_types
from hgq_hw.spec import DenseSpec, ReLUSpec, RequantizeSpec


def _corners(seeds: range, **params) -> set[str]:
    seen: set[str] = set()
    for seed in seeds:
        spec = random_spec(seed, **params)
        types = infer_types(spec)
        if np.any(spec.input.type.width == 0):
            seen.add("width-0 input")
        if np.any(spec.input.f < 0) or np.any(spec.input.i < 0):
            seen.add("negative input i/f")
        for layer in spec.layers:
            if isinstance(layer, DenseSpec):
                w = layer.weight_raw
                if np.any(w == 0):
                    seen.add("pruned weight")
                if layer.n_in > 1 and np.any(np.all(w == 0, axis=1)):
                    seen.add("pruned row")
                if layer.n_out > 1 and np.any(np.all(w == 0, axis=0)):
                    seen.add("bias-only column")
                if np.any(layer.weight_f < 0):
                    seen.add("negative weight f")
                if layer.n_out == 1:
                    seen.add("1-element layer")
            if isinstance(layer, RequantizeSpec):
                src = types[layer.inputs[0]]
                if np.any(layer.f < src.f):
                    seen.add("rounding drops bits")
                if np.any(layer.type.width < src.width):
                    seen.add("narrower than input")
                if np.any((layer.k == 0) & (src.k == 1) & (layer.type.width > 0)):
                    seen.add("unsigned from signed")
            if isinstance(layer, ReLUSpec):
                seen.add("relu")
    return seen


def test_corners_are_covered() -> None:
    expected = {
        "width-0 input",
        "negative input i/f",
        "pruned weight",
        "pruned row",
        "bias-only column",
        "negative weight f",
        "1-element layer",
        "rounding drops bits",
        "narrower than input",
        "unsigned from signed",
        "relu",
    }
    seen = _corners(range(40), depth=3, width=(1, 6))
    assert expected <= seen, f"never generated: {expected - seen}"


@pytest.mark.parametrize("depth", [0, 1, 4])
def test_shapes_and_depth(depth: int) -> None:
    spec = random_spec(1, depth=depth, width=(3, 3))
    assert len(spec.dense_layers()) == depth
    assert all(spec.shape(layer.name) == (3,) for layer in spec.layers)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="width"):
        random_spec(0, width=(0, 3))
    with pytest.raises(ValueError, match="depth"):
        random_spec(0, depth=-1)
    with pytest.raises(ValueError, match="act_bits"):
        random_spec(0, act_bits=(3, 65))


def test_sizes_fix_every_layer_width() -> None:
    spec = random_spec(2, sizes=[16, 64, 32, 32, 5])
    assert spec.input_shape == (16,)
    assert [layer.n_out for layer in spec.dense_layers()] == [64, 32, 32, 5]
    assert spec.output_shape == (5,)
    with pytest.raises(ValueError, match="sizes"):
        random_spec(0, sizes=[4, 0])


def test_jet_like_spec_is_the_preset() -> None:
    from hgq_hw.random_spec import JET_LIKE, jet_like_spec

    spec = jet_like_spec(3)
    assert [layer.to_json() for layer in spec.layers] == [
        layer.to_json() for layer in random_spec(3, **JET_LIKE).layers
    ]
    assert [layer.n_out for layer in spec.dense_layers()] == [64, 32, 32, 5]
