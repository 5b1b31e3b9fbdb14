"""Merge kinds (Add, Subtract, Multiply, Concatenate): validation, JSON, exact reference."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest

from hgq_hw.lowering import concat_sources, flat_layer
from hgq_hw.reference import evaluate, infer_types, rule_for
from hgq_hw.spec import (
    AddSpec,
    ConcatenateSpec,
    InputSpec,
    ModelSpec,
    MultiplySpec,
    OutputSpec,
    ReshapeSpec,
    SpecError,
    SubtractSpec,
    dumps,
    loads,
)
from tests.hw.conftest import random_raw_inputs

K = np.array([[1, 0], [1, 1], [0, 0]])
I = np.array([[2, 1], [0, 3], [1, -1]])  # noqa: E741
F = np.array([[1, 2], [3, 0], [0, 2]])
X = InputSpec(name="x", k=K, i=I, f=F)


def _real(raw: np.ndarray, f: np.ndarray) -> np.ndarray:
    scale = np.vectorize(lambda r, e: Fraction(int(r)) / 2 ** int(e), otypes=[object])
    return scale(raw, np.broadcast_to(f, raw.shape))


def _merge_spec() -> ModelSpec:
    return ModelSpec(
        "merges",
        [
            X,
            AddSpec(name="a", inputs=("x", "x")),
            SubtractSpec(name="s", inputs=("a", "x")),
            MultiplySpec(name="m", inputs=("s", "x")),
            ConcatenateSpec(name="c", inputs=("m", "x"), axis=0),
            ConcatenateSpec(name="c2", inputs=("c", "c"), axis=-1),
            OutputSpec(name="o", inputs=("c2",)),
        ],
    )


def test_merges_are_exact_and_round_trip() -> None:
    spec = _merge_spec()
    assert spec.output_shape == (6, 4)
    assert spec.required_version == 2
    assert loads(dumps(spec)) == spec
    types = infer_types(spec)
    x = random_raw_inputs(spec, 50, 1)
    v = evaluate(spec, x, all_tensors=True)
    real = {name: _real(v[name], types[name].f) for name in v}
    assert np.array_equal(real["a"], real["x"] + real["x"])
    assert np.array_equal(real["s"], real["x"])
    assert np.array_equal(real["m"], real["x"] * real["x"])
    assert np.array_equal(real["c"], np.concatenate([real["m"], real["x"]], axis=1))
    assert np.array_equal(real["c2"], np.concatenate([real["c"], real["c"]], axis=2))
    # types are exact: every value lies in its type, and each type's range is reached
    for name in ("a", "s", "m"):
        lo, hi = types[name].raw_bounds()
        assert np.all((v[name] >= lo) & (v[name] <= hi)), name
    # f rules: Add takes the larger f, Multiply the sum
    assert np.array_equal(types["a"].f, F)
    assert np.array_equal(types["m"].f, np.where(K + I + F > 0, 2 * F, 0))


def test_product_type_is_the_smallest_holding_the_corner_products() -> None:
    """Operands are taken as independent: the type of ``x * r`` holds the four corner
    products, no fewer bits (checked against hand-computed corners)."""
    x = InputSpec(name="x", k=np.array([1, 0, 1]), i=np.array([2, 2, 0]), f=np.array([1, 0, 3]))
    spec = ModelSpec(
        "corners",
        [
            x,
            ReshapeSpec(name="r", inputs=("x",), shape=(3,)),
            MultiplySpec(name="m", inputs=("x", "r")),
            SubtractSpec(name="d", inputs=("m", "x")),
            OutputSpec(name="o", inputs=("d",)),
        ],
    )
    types = infer_types(spec)
    # element 0: raw -8..7 at f=1, products -56..64 at f=2: 8 bits signed (i = 5)
    # element 1: raw 0..3 at f=0, products 0..9: 4 bits unsigned
    # element 2: raw -8..7 at f=3, products -56..64 at f=6: 8 bits signed (i = 1)
    assert types["m"].k.tolist() == [1, 0, 1]
    assert types["m"].width.tolist() == [8, 4, 8]
    assert types["m"].f.tolist() == [2, 0, 6]
    lo, hi = x.type.raw_bounds()
    corners = np.array([[int(a) for a in lo], [int(b) for b in hi]], dtype=np.int64)
    got = evaluate(spec, corners, all_tensors=True)["m"]
    assert got.tolist() == [[64, 0, 64], [49, 9, 49]]
    # Subtract aligns to the larger f: m - x at f = max(f_m, f_x)
    assert types["d"].f.tolist() == [2, 0, 6]


@pytest.mark.parametrize(
    ("layer", "field", "words"),
    [
        (AddSpec(name="bad", inputs=("x", "r")), "inputs", "of shape [3, 2] and 'r' of shape [6]"),
        (MultiplySpec(name="bad", inputs=("r", "x")), "inputs", "differ"),
        (ConcatenateSpec(name="bad", inputs=("x", "x"), axis=2), "axis", "outside"),
        (ConcatenateSpec(name="bad", inputs=("x", "r"), axis=0), "inputs", "dimensions"),
        (ConcatenateSpec(name="bad", inputs=("x", "t"), axis=-1), "inputs", "outside axis -1"),
    ],
)
def test_shape_clashes_name_layer_and_field(layer, field: str, words: str) -> None:
    layers = [
        X,
        ReshapeSpec(name="r", inputs=("x",), shape=(6,)),
        ReshapeSpec(name="t", inputs=("x",), shape=(2, 3)),
        layer,
        OutputSpec(name="o", inputs=("bad",)),
    ]
    with pytest.raises(SpecError, match=re.escape(words)) as err:
        ModelSpec("bad", layers)
    assert (err.value.layer, err.value.field) == ("bad", field)


def test_arity_and_axis_field_checked_on_load() -> None:
    with pytest.raises(SpecError, match="takes 2 input") as err:
        AddSpec(name="a", inputs=("x",))
    assert err.value.field == "inputs"
    text = dumps(_merge_spec()).replace('"axis": 0', '"axis": "0"')
    with pytest.raises(SpecError, match="integer axis") as err:
        loads(text)
    assert (err.value.layer, err.value.field) == ("c", "axis")
    text = dumps(_merge_spec()).replace('"version": 2', '"version": 1')
    with pytest.raises(SpecError, match="needs schema version 2"):
        loads(text)


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
def test_flat_concatenate_equals_the_nd_one(axis: int) -> None:
    a, b = (2, 3, 2), (2, 3, 2)
    shapes = [list(a), list(b)]
    shapes[0][axis % 3] = 1
    sources = concat_sources(shapes, axis)
    pa = np.arange(np.prod(shapes[0])).reshape(shapes[0])
    pb = 100 + np.arange(np.prod(shapes[1])).reshape(shapes[1])
    want = np.concatenate([pa, pb], axis=axis).ravel()
    flat = [pa.ravel(), pb.ravel()]
    assert [flat[n][e] for n, e in sources] == want.tolist()
    layer = flat_layer(ConcatenateSpec(name="c", inputs=("p", "q"), axis=axis), shapes)
    assert layer.sources == sources
    assert rule_for(layer) is not rule_for(ConcatenateSpec(name="c", inputs=("p", "q")))
