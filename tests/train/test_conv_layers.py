"""Quantized convolutions and pools on the Keras side: forward values against loops written
from the spec's formulas, QDense's quantizer math, fused batch norm, EBOPs, serialization."""

from __future__ import annotations

import itertools
import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from hgq_hw.fixed import Round
from hgq_train.ebops import ebops_per_layer, ebops_tensor, layer_costs
from hgq_train.layers import (
    QActivation,
    QAvgPool1D,
    QAvgPool2D,
    QConv1D,
    QConv1DBatchNorm,
    QConv2D,
    QConv2DBatchNorm,
    QDense,
    QInput,
    QMaxPool1D,
    QMaxPool2D,
)
from hgq_train.layers.base import Bits
from hgq_train.quantizers import fixed_np

SEED = 20261202


def _loop_conv(x, kernel, bias, strides, padding):
    """``y[o, co] = sum_{d, ci} x[o*s + d - lo, ci] * K[d, ci, co] + b[co]`` (contract text),
    by loops over positions; ``x`` is one sample ``(*spatial, c_in)``."""
    window, spatial = kernel.shape[:-2], x.shape[:-1]
    geometry = []
    for n, w, s in zip(spatial, window, strides):
        out = math.ceil((n - w + 1) / s) if padding == "valid" else math.ceil(n / s)
        lo = 0 if padding == "valid" else max((out - 1) * s + w - n, 0) // 2
        geometry.append((out, lo))
    y = np.zeros((*(g[0] for g in geometry), kernel.shape[-1]))
    for o in itertools.product(*(range(g[0]) for g in geometry)):
        acc = bias.astype(np.float64).copy()
        for d in itertools.product(*(range(w) for w in window)):
            pos = tuple(oi * s + di - lo for oi, s, di, (_, lo) in zip(o, strides, d, geometry))
            if all(0 <= p < n for p, n in zip(pos, spatial)):
                acc += x[pos] @ kernel[d]
        y[o] = acc
    return y


CONV_CASES = [
    (QConv1D, (9, 2), 3, 1, "valid"),
    (QConv1D, (9, 2), 4, 2, "same"),
    (QConv2D, (7, 6, 2), (3, 2), (2, 1), "same"),
    (QConv2D, (8, 8, 1), 3, 1, "valid"),
    (QConv2D, (5, 5, 3), 2, 3, "same"),
]


def _conv_model(cls, shape, kernel_size, strides, padding, dtype="float64"):
    layer = cls(
        3, kernel_size, strides=strides, padding=padding, f_init=4, name="conv", dtype=dtype
    )
    model = keras.Sequential([keras.Input(shape, dtype=dtype), layer])
    rng = np.random.default_rng(SEED)
    layer.kernel_f.assign(rng.integers(-1, 6, size=layer.kernel_f.shape).astype(dtype))
    layer.bias.assign(rng.normal(size=layer.bias.shape).astype(dtype))
    return model, layer


@pytest.mark.parametrize(("cls", "shape", "kernel_size", "strides", "padding"), CONV_CASES)
def test_conv_is_the_contract_formula_with_qdense_quantized_weights(
    cls, shape, kernel_size, strides, padding
) -> None:
    print(f"seed {SEED}")
    model, layer = _conv_model(cls, shape, kernel_size, strides, padding)
    rng = np.random.default_rng(SEED + 1)
    x = np.ldexp(rng.integers(-64, 64, size=(3, *shape)), -4).astype(np.float64)
    weight_raw, weight_f, bias_raw, bias_f = layer.integer_weights()
    kernel = np.ldexp(weight_raw.astype(np.float64), -weight_f)
    bias = np.ldexp(bias_raw.astype(np.float64), -bias_f)
    # QDense's math: round_bits of kernel_f, RND of the real kernel
    expected_f = fixed_np.round_bits(layer.kernel_f.numpy(), layer.f_min, layer.f_max)
    assert np.array_equal(weight_f, np.broadcast_to(expected_f, layer.kernel_shape))
    assert np.array_equal(kernel, fixed_np.quantize(layer.kernel.numpy(), weight_f, Round.RND))
    assert np.any(weight_raw == 0)  # some weights pruned at f = -1
    got = np.asarray(model.predict(x, verbose=0))
    for n in range(len(x)):
        want = _loop_conv(x[n], kernel, bias, layer.strides, padding)
        assert got[n].shape == want.shape
        assert np.array_equal(got[n], want), f"sample {n}"
    assert model.output_shape[1:] == got.shape[1:]


def test_conv_channel_granularity_shares_one_width_per_filter() -> None:
    layer = QConv2D(5, 3, granularity="channel", name="c")
    layer.build((None, 6, 6, 2))
    assert tuple(layer.kernel_f.shape) == (1, 1, 1, 5)
    assert layer.kernel_shape == (3, 3, 2, 5)


@pytest.mark.parametrize(
    ("make", "shape", "match"),
    [
        (lambda: QConv2D(2, 3), (None, 8, 8), "needs inputs of shape"),
        (lambda: QConv1D(2, 5), (None, 4, 1), "spatial axis 0: a window of 5 does not fit"),
        (lambda: QConv2D(2, (3, 3, 3)), None, "kernel_size must be"),
        (lambda: QConv2D(2, 3, strides=0), None, "strides must be"),
        (lambda: QConv2D(2, 3, padding="causal"), None, "padding must be one of valid, same"),
    ],
)
def test_conv_refuses_bad_arguments_with_their_name(make, shape, match) -> None:
    with pytest.raises(ValueError, match=match):
        make().build(shape)


def test_conv_batchnorm_statistics_cover_every_position_and_fold_at_inference() -> None:
    print(f"seed {SEED}")
    layer = QConv2DBatchNorm(4, 3, padding="same", momentum=0.5, f_init=12, name="cbn")
    model = keras.Sequential([keras.Input((6, 6, 2)), layer])
    x = np.random.default_rng(SEED).normal(size=(16, 6, 6, 2)).astype("float32")
    kernel, bias = layer.kernel.numpy(), layer.bias.numpy()
    model(x, training=True)
    y = np.asarray(ops.conv(x, kernel, strides=1, padding="same")) + bias
    mean, var = y.mean(axis=(0, 1, 2)), y.var(axis=(0, 1, 2))
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.5 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_var.numpy(), 0.5 + 0.5 * var, rtol=1e-5)
    w, b = (t.numpy() for t in layer.real_weights(None, False))
    s = layer.bn_gamma.numpy() / np.sqrt(layer.moving_var.numpy() + layer.epsilon)
    np.testing.assert_allclose(w, kernel * s, rtol=1e-6)
    np.testing.assert_allclose(b, (bias - layer.moving_mean.numpy()) * s, rtol=1e-6, atol=1e-7)
    raw, f, _, _ = layer.integer_weights()  # the quantized kernel is the folded one
    assert np.array_equal(np.ldexp(raw.astype(np.float64), -f), fixed_np.quantize(w, f, Round.RND))


def _loop_pool(x, pool, strides, reduce):
    spatial, out = x.shape[:-1], []
    out = [math.ceil((n - w + 1) / s) for n, w, s in zip(spatial, pool, strides)]
    y = np.zeros((*out, x.shape[-1]))
    for o in itertools.product(*(range(m) for m in out)):
        cells = [
            x[tuple(oi * s + di for oi, s, di in zip(o, strides, d))]
            for d in itertools.product(*(range(w) for w in pool))
        ]
        y[o] = reduce(np.stack(cells))
    return y


POOL_CASES = [
    (QMaxPool1D, (9, 3), 3, 2),
    (QMaxPool2D, (7, 8, 2), 2, None),
    (QMaxPool2D, (7, 8, 2), (3, 2), (2, 3)),
    (QAvgPool1D, (9, 3), 4, 1),
    (QAvgPool2D, (8, 7, 2), (2, 2), None),
    (QAvgPool2D, (8, 7, 2), (1, 4), (3, 1)),
]


@pytest.mark.parametrize(("cls", "shape", "pool", "strides"), POOL_CASES)
def test_pools_are_exact_max_and_power_of_two_mean(cls, shape, pool, strides) -> None:
    print(f"seed {SEED}")
    layer = cls(pool, strides, dtype="float64", name="pool")
    model = keras.Sequential([keras.Input(shape, dtype="float64"), layer])
    x = np.ldexp(np.random.default_rng(SEED).integers(-99, 99, size=(4, *shape)), -3)
    got = np.asarray(model.predict(x.astype(np.float64), verbose=0))
    is_max = cls in (QMaxPool1D, QMaxPool2D)

    def reduce(cells):
        return cells.max(axis=0) if is_max else cells.sum(axis=0) / len(cells)

    for n in range(len(x)):
        assert np.array_equal(got[n], _loop_pool(x[n], layer.pool_size, layer.strides, reduce))


def test_pool_refusals_say_why() -> None:
    with pytest.raises(ValueError, match=r"holds 3 elements, not a power of two"):
        QAvgPool1D(3)
    with pytest.raises(ValueError, match=r"\[3, 2\] holds 6 elements"):
        QAvgPool2D((3, 2))
    with pytest.raises(ValueError, match="padding must be one of valid"):
        QMaxPool2D(2, padding="same")
    with pytest.raises(ValueError, match="a window of 4 does not fit"):
        keras.Sequential([keras.Input((3, 3, 1)), QMaxPool2D(4)])
    QAvgPool2D((1, 4))  # 4 elements: accepted


def _bits_model():
    common = {"gamma": 0.0}
    return keras.Sequential(
        [
            keras.Input((7, 6, 2)),
            QInput(name="inp", **common),
            QConv2D(3, (3, 2), strides=(2, 1), padding="same", name="c0", **common),
            QActivation("relu", name="a0", **common),
            QMaxPool2D((2, 3), strides=(1, 2), name="p0"),
            keras.layers.Reshape((6, 3)),
            QConv1D(2, 2, padding="same", name="c1", **common),
            QActivation("relu", name="a1", **common),
            QAvgPool1D(2, name="p1"),
            keras.layers.Flatten(),
            QDense(4, name="d", **common),
        ]
    )


def _loop_conv_ebops(bx, w_bits, strides, padding):
    """Every multiplication at every output position: bits of the input read x weight bits."""
    ones = np.ones(w_bits.shape[-1:])
    total = 0.0
    for co in range(w_bits.shape[-1]):
        k = np.zeros_like(w_bits)
        k[..., co] = w_bits[..., co]
        total += _loop_conv(bx, k, 0 * ones, strides, padding)[..., co].sum()
    return total


def test_ebops_count_every_multiplication_at_every_position() -> None:
    print(f"seed {SEED}")
    keras.utils.set_random_seed(SEED)
    model = _bits_model()
    rng = np.random.default_rng(SEED)
    for layer in model.layers:
        if hasattr(layer, "kernel_f"):
            layer.kernel_f.assign(rng.integers(-1, 5, size=layer.kernel_f.shape).astype("float32"))
    x = rng.normal(size=(32, 7, 6, 2)).astype("float32")
    model(x, training=True)  # running ranges
    costs = ebops_per_layer(model)
    bits = {name: model.get_layer(name).bits_np() for name in ("inp", "a0", "a1")}
    c0 = model.get_layer("c0")
    w_bits = fixed_np.weight_bits(c0.integer_weights()[0], sign=False).astype(float)
    assert costs["c0"] == _loop_conv_ebops(bits["inp"], w_bits, c0.strides, "same")
    # c1 reads the max pool's output bits: the widest input of each window
    a0 = bits["a0"]
    widest = _loop_pool(a0, (2, 3), (1, 2), lambda cells: cells.max(axis=0))
    assert costs["p0"] == 5 * widest.sum()
    c1 = model.get_layer("c1")
    w_bits = fixed_np.weight_bits(c1.integer_weights()[0], sign=False).astype(float)
    assert costs["c1"] == _loop_conv_ebops(widest.reshape(6, 3), w_bits, (1,), "same")
    a1 = bits["a1"]
    assert costs["p1"] == _loop_pool(a1, (2,), (2,), lambda c: c.max(axis=0)).sum()
    d_bits = _loop_pool(a1, (2,), (2,), lambda c: c.max(axis=0)) + 1  # the sum's growth
    d = model.get_layer("d")
    dw = fixed_np.weight_bits(d.integer_weights()[0], sign=False).astype(float)
    assert costs["d"] == float(d_bits.reshape(-1) @ dw.sum(axis=1))
    # the differentiable tensor is the same number, and reaches every kernel_f
    with tf.GradientTape() as tape:
        total = ebops_tensor(model)
    assert float(total) == pytest.approx(sum(costs.values()), rel=1e-6)
    training = layer_costs(model, Bits.TRAINING)
    for name, value in costs.items():
        assert float(training[name]) == pytest.approx(value, rel=1e-6), name
    grads = tape.gradient(total, [model.get_layer(n).kernel_f for n in ("c0", "c1")])
    assert all(g is not None and float(ops.sum(ops.abs(g))) > 0 for g in grads)


LAYERS = [
    lambda: QConv1D(3, 2, strides=2, padding="same", granularity="channel", f_init=3),
    lambda: QConv2D(3, (2, 3), use_bias=False, kernel_init_bits=3),
    lambda: QConv1DBatchNorm(2, 3, momentum=0.9, epsilon=1e-2),
    lambda: QConv2DBatchNorm(2, 3, padding="same", round_mode="TRN"),
    lambda: QMaxPool1D(3, 1),
    lambda: QMaxPool2D((2, 1)),
    lambda: QAvgPool1D(2, 1),
    lambda: QAvgPool2D((2, 2), (1, 2)),
]


@pytest.mark.parametrize("make", LAYERS)
def test_get_config_round_trips(make) -> None:
    layer = make()
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_saved_cnn_reloads_and_predicts_identically(tmp_path) -> None:
    print(f"seed {SEED}")
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            QInput(name="inp"),
            QConv2DBatchNorm(3, 3, padding="same", name="c0"),
            QActivation("relu", name="a0"),
            QAvgPool2D(2, name="p0"),
            QConv2D(2, 2, name="c1"),
            QActivation("relu", name="a1"),
            QMaxPool2D(3, name="p1"),
            keras.layers.Reshape((1, 2)),
            QConv1DBatchNorm(2, 1, name="c2"),
            QActivation("linear", name="a2"),
            QMaxPool1D(1, name="p2"),
            QConv1D(2, 1, name="c3"),
            QActivation("relu", name="a3"),
            keras.layers.Flatten(),
            QDense(3, name="d"),
        ]
    )
    x = np.random.default_rng(SEED).uniform(size=(8, 8, 8, 1)).astype("float32")
    model(x, training=True)
    path = tmp_path / "cnn.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(la) for la in loaded.layers] == [type(la) for la in model.layers]
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert ebops_per_layer(loaded) == ebops_per_layer(model)


def test_lut_cost_refuses_spatial_layers_by_name() -> None:
    from hgq_train.cost import model_features

    model = keras.Sequential(
        [keras.Input((6, 1)), QInput(name="inp"), QConv1D(2, 3, name="conv"), QMaxPool1D(2)]
    )
    with pytest.raises(ValueError, match=r"'conv' \(QConv1D\): the LUT cost model is fitted on"):
        model_features(model)
