"""The integer reference against a slow rational model, on random specs and exhaustive edges."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from hgq_hw.fixed import Overflow, Round, TensorType
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types, quantize_inputs
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec, ReLUSpec, RequantizeSpec
from tests.hw.conftest import random_raw_inputs
from tests.hw.slow_reference import quantize_real, slow_evaluate

SMALL = dict(depth=2, width=(1, 6))
WIDE = dict(
    depth=3,
    width=(1, 5),
    input_bits=(20, 48),
    act_bits=(20, 60),
    weight_bits=(20, 40),
    f_range=(-20, 30),
)
NEGATIVE = dict(depth=2, width=(1, 6), f_range=(-8, -1))


CONV1D = dict(spatial=1, conv_depth=2, depth=1, width=(1, 4))
CONV2D = dict(spatial=2, conv_depth=2, depth=1, width=(1, 4))
CONV_WIDE = dict(
    spatial=2,
    conv_depth=1,
    depth=0,
    input_bits=(20, 48),
    act_bits=(20, 60),
    weight_bits=(20, 40),
    f_range=(-20, 30),
    zero_width=0.15,
)


def _check_against_slow(spec: ModelSpec, x_raw: np.ndarray) -> None:
    types = infer_types(spec)
    tensors = evaluate(spec, x_raw, all_tensors=True)
    for name, t in types.items():
        assert tensors[name].shape == (len(x_raw), *spec.shape(name)) == (len(x_raw), *t.shape)
    x_flat = x_raw.reshape(len(x_raw), -1)
    for n, sample in enumerate(x_flat):
        slow = slow_evaluate(spec, [int(v) for v in sample])
        for name, nd_type in types.items():
            t = nd_type.flat()
            flat = tensors[name].reshape(len(x_raw), -1)
            lo, hi = t.raw_bounds()
            for e in range(t.shape[0]):
                raw = int(flat[n, e])
                got = Fraction(raw) / Fraction(2) ** int(t.f[e])
                assert got == slow[name][e], (
                    f"spec {spec.name} seed-sample {n}: tensor {name}[{e}] reference {got} "
                    f"!= slow {slow[name][e]}"
                )
                assert lo[e] <= raw <= hi[e], f"{name}[{e}]={raw} outside inferred type {t}"


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("params", [SMALL, WIDE, NEGATIVE], ids=["small", "wide", "negative"])
def test_reference_matches_slow_model(seed: int, params: dict) -> None:
    print(f"random_spec seed {seed}")
    spec = random_spec(seed, **params)
    _check_against_slow(spec, random_raw_inputs(spec, 12, seed))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(
    "params", [CONV1D, CONV2D, CONV_WIDE], ids=["conv1d", "conv2d", "conv-wide"]
)
def test_reference_matches_slow_model_on_conv_specs(seed: int, params: dict) -> None:
    print(f"random_spec seed {seed} {params}")
    spec = random_spec(seed, **params)
    _check_against_slow(spec, random_raw_inputs(spec, 6, seed))


def test_flattened_inputs_are_accepted() -> None:
    spec = random_spec(3, **CONV2D)
    x = random_raw_inputs(spec, 5, 3)
    assert x.ndim == 4
    same = evaluate(spec, x.reshape(len(x), -1))
    assert np.array_equal(evaluate(spec, x), same)
    with pytest.raises(ValueError, match=r"or \(batch, \d+\)"):
        evaluate(spec, x.reshape(len(x), -1)[:, 1:])


def test_maxpool_type_covers_its_window_and_avgpool_grows_f() -> None:
    from hgq_hw.spec import AvgPoolSpec, MaxPoolSpec, ReshapeSpec

    k = np.array([[1], [0], [1], [0]])
    i = np.array([[2], [3], [0], [0]])
    f = np.array([[1], [0], [4], [0]])  # element 3 has width 0
    layers = [InputSpec(name="x", k=k, i=i, f=f)]
    mp = ModelSpec(
        "mp",
        [
            *layers,
            MaxPoolSpec(name="p", inputs=("x",), pool_size=[2], strides=[2]),
            OutputSpec(name="y", inputs=("p",)),
        ],
    )
    t = infer_types(mp)["p"]
    # window (0, 1): [-4, 3.5] and [0, 7] at f = 1 -> [-8, 14] raw -> (1, 3, 1)
    # window (2, 3): [-1, 0.9375] and the constant 0 at f = 4 -> (1, 0, 4)
    assert t == TensorType(np.array([[1], [1]]), np.array([[3], [0]]), np.array([[1], [4]]))
    x = np.array([[[-8], [7], [-16], [0]], [[5], [2], [15], [0]]])
    assert evaluate(mp, x).tolist() == [[[14], [0]], [[5], [15]]]
    ap = ModelSpec(
        "ap",
        [
            *layers,
            AvgPoolSpec(name="p", inputs=("x",), pool_size=[2], strides=[2]),
            ReshapeSpec(name="r", inputs=("p",), shape=[2]),
            OutputSpec(name="y", inputs=("r",)),
        ],
    )
    t = infer_types(ap)["r"]
    assert t.f.tolist() == [2, 5]  # max live f + log2(2)
    # (-8/2 + 7) / 2 = 1.5 -> raw 6 at f = 2; (-16/16 + 0) / 2 = -0.5 -> raw -16 at f = 5
    assert evaluate(ap, x).tolist() == [[6, -16], [9, 15]]


def test_wide_specs_use_python_ints() -> None:
    spec = random_spec(7, **WIDE)
    out = evaluate(spec, random_raw_inputs(spec, 4, 7), all_tensors=True)
    assert any(v.dtype == object for v in out.values()), "expected some tensor beyond int64"


def _requantize_model(
    src: tuple[int, int, int], dst: tuple[int, int, int], r: Round, o: Overflow
) -> ModelSpec:
    return ModelSpec(
        "edges",
        [
            InputSpec(name="x", k=[src[0]], i=[src[1]], f=[src[2]]),
            RequantizeSpec(
                name="q", inputs=("x",), k=[dst[0]], i=[dst[1]], f=[dst[2]], round=r, overflow=o
            ),
            OutputSpec(name="y", inputs=("q",)),
        ],
    )


SOURCE_TYPES = [(1, 3, 2), (0, 4, 1), (1, -1, 4), (1, 5, -2)]
TARGET_TYPES = [
    (1, 1, 1),
    (0, 2, 0),
    (1, 0, 0),
    (0, 0, 1),
    (1, 2, -1),
    (1, -2, 3),
    (0, 3, 3),
    (1, -1, 1),
    (0, 1, -1),
]


@pytest.mark.parametrize("r", list(Round))
@pytest.mark.parametrize("o", list(Overflow))
@pytest.mark.parametrize("src", SOURCE_TYPES)
def test_requantize_exhaustive_edges(src: tuple, r: Round, o: Overflow) -> None:
    """Every raw value of small types into narrower types: WRAP and SAT at all their edges."""
    t = TensorType([src[0]], [src[1]], [src[2]])
    lo, hi = t.raw_bounds()
    x_raw = np.arange(int(lo[0]), int(hi[0]) + 1).reshape(-1, 1)
    for dst in TARGET_TYPES:
        spec = _requantize_model(src, dst, r, o)
        got = evaluate(spec, x_raw)
        for raw, out in zip(x_raw[:, 0], got[:, 0]):
            value = Fraction(int(raw)) / 2 ** src[2]
            expected = quantize_real(value, *dst, r, o) * Fraction(2) ** dst[2]
            assert int(out) == expected, (src, dst, r, o, int(raw))


def test_relu_drops_sign_and_dense_bias_only_column() -> None:
    spec = ModelSpec(
        "m",
        [
            InputSpec(name="x", k=[1, 1], i=[1, 1], f=[1, 0]),
            DenseSpec(
                name="d",
                inputs=("x",),
                weight_raw=[[1, 0], [-3, 0]],
                weight_f=[[0, 0], [2, 0]],
                bias_raw=[0, 5],
                bias_f=[0, -1],
            ),
            ReLUSpec(name="r", inputs=("d",)),
            OutputSpec(name="y", inputs=("r",)),
        ],
    )
    types = infer_types(spec)
    assert types["d"].element(1).width > 0 and types["r"].k.tolist() == [0, 0]
    x = np.array([[-4, -2], [3, 1], [0, 0]])
    y = evaluate(spec, x)
    # column 0: x0/2 - 3*x1/4 at f=2 -> raw = 2*x0 - 3*x1; column 1: only the bias 5*2**1,
    # kept at the bias's own f = -1 -> raw 5.
    assert y.tolist() == [[0, 5], [3, 5], [0, 5]]
    assert infer_types(spec)["r"].f.tolist() == [2, -1]


def test_input_outside_type_is_refused() -> None:
    spec = random_spec(0, depth=1)
    _, hi = spec.input.type.raw_bounds()
    x = np.array([[int(v) for v in hi]], dtype=object)
    x[0, 0] = int(hi[0]) + 1
    with pytest.raises(ValueError, match="sample 0, element \\[0\\]"):
        evaluate(spec, x)
    with pytest.raises(ValueError, match="shape"):
        evaluate(spec, np.zeros((1, spec.input_shape[0] + 1), dtype=np.int64))


def _exact_quantize(x: float, f: int, k: int, i: int, r: Round, o: Overflow) -> int:
    q = quantize_real(Fraction(x), k, i, f, r, o)
    return int(q * Fraction(2) ** f)


@pytest.mark.parametrize("r", list(Round))
@pytest.mark.parametrize("o", list(Overflow))
def test_quantize_inputs_is_exact(r: Round, o: Overflow) -> None:
    rng = np.random.default_rng(3)
    k, i, f = [1, 0, 1, 1, 0, 1], [3, 4, -2, 10, 60, 1], [4, 0, 6, -3, 2, 62]
    spec = ModelSpec(
        "q",
        [
            InputSpec(name="x", k=k, i=i, f=f, round=r, overflow=o),
            OutputSpec(name="y", inputs=("x",)),
        ],
    )
    ties = [(n + 0.5) * 2.0**-fe for n, fe in zip(range(-3, 3), f)]
    near = [np.nextafter(t, np.inf) for t in ties] + [np.nextafter(t, -np.inf) for t in ties]
    values = np.array(
        [
            rng.normal(0, 8, 6),
            rng.normal(0, 1e3, 6),
            ties,
            near[:6],
            near[6:],
            [-1e-300, 1e300, -1e300, 1e-320, -0.0, 5e-324],
            [2.0**70, -(2.0**70), 1e19, -1e19, 3, 7],
        ]
    )
    got = quantize_inputs(spec, values)
    for n, row in enumerate(values):
        for e, x in enumerate(row):
            assert int(got[n, e]) == _exact_quantize(float(x), f[e], k[e], i[e], r, o), (n, e, x)
    with pytest.raises(ValueError, match="NaN"):
        quantize_inputs(spec, np.full((1, 6), np.nan))


def test_int64_and_object_paths_agree() -> None:
    spec = random_spec(11, depth=2, width=(3, 6))
    x = random_raw_inputs(spec, 30, 11)
    a = evaluate(spec, x.astype(np.int64))
    b = evaluate(spec, x.astype(object))
    assert np.array_equal(a.astype(object), b.astype(object))


@pytest.mark.parametrize("combo", list(itertools.product(list(Round), list(Overflow))))
def test_random_specs_cover_modes(combo: tuple) -> None:
    seen = set()
    for seed in range(30):
        for layer in random_spec(seed).layers:
            if isinstance(layer, RequantizeSpec):
                seen.add((layer.round, layer.overflow))
    assert combo in seen


def test_predict_compares_real_values_not_raw() -> None:
    """Outputs with different f: raw 3 at f=0 is larger than raw 5 at f=2."""
    spec = ModelSpec(
        "p",
        [
            InputSpec(name="x", k=[0, 0], i=[3, 1], f=[0, 2]),
            OutputSpec(name="y", inputs=("x",)),
        ],
    )
    from hgq_hw.reference import predict

    y = predict(spec, np.array([[3.0, 1.25]]))
    assert y.tolist() == [[3.0, 1.25]]
    assert int(np.argmax(y[0])) == 0


@pytest.mark.parametrize("seed", range(8))
def test_windowed_rules_equal_the_dense_rule_on_their_im2col_form(seed: int) -> None:
    """Conv and AvgPool over window taps give the types and values the Dense rule gives
    their flattened Dense form (what the planner builds)."""
    from hgq_hw.lowering import flat_layer
    from hgq_hw.reference import rule_for
    from hgq_hw.spec import AvgPoolSpec, ConvSpec

    spec = random_spec(seed, spatial=1 + seed % 2, conv_depth=2, depth=0, pool=1.0)
    types = infer_types(spec)
    tensors = evaluate(spec, random_raw_inputs(spec, 6, seed), all_tensors=True)
    checked = 0
    for layer in spec.layers:
        if not isinstance(layer, ConvSpec | AvgPoolSpec):
            continue
        src = types[layer.inputs[0]]
        flat_src = src.flat()
        dense = flat_layer(layer, [src.shape])
        rule = rule_for(dense)
        got = types[layer.name]
        assert rule.infer(dense, [flat_src]) == got.flat()
        x = tensors[layer.inputs[0]]
        want = rule.evaluate(dense, [x.reshape(len(x), -1)], [flat_src])
        assert tensors[layer.name].reshape(len(x), -1).tolist() == np.asarray(want).tolist()
        checked += 1
    assert checked
