"""Quantizer math: the keras.ops forward equals the numpy twin; the surrogate gradients follow
the HGQ formulas (checked against finite differences of their defining relaxation)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from keras import ops

from hgq_hw.fixed import Overflow, Round, TensorType, requantize_raw
from hgq_train.quantizers import fixed_np, fixed_ops
from hgq_train.quantizers.config import Granularity, grad_scale


def test_round_bits_clips_and_rounds_half_up() -> None:
    f = np.array([-20.0, -0.5, 0.49, 0.5, 2.5, 30.0])
    assert fixed_np.round_bits(f, -8, 16).tolist() == [-8, 0, 0, 1, 3, 16]
    got = ops.convert_to_numpy(fixed_ops.round_bits(ops.convert_to_tensor(f), -8, 16))
    assert got.tolist() == [-8, 0, 0, 1, 3, 16]


def test_numpy_twin_matches_integer_requantize(round_mode: Round) -> None:
    """floor(x*2**f (+1/2)) on dyadic x equals hgq_hw.fixed.requantize_raw (the hardware)."""
    rng = np.random.default_rng(0)
    raw_in = rng.integers(-5000, 5000, size=(200, 6))
    f_in, f_out = 8, np.array([-2, 0, 1, 3, 8, 10])
    x = np.ldexp(raw_in.astype(np.float64), -f_in)
    to = TensorType(np.ones(6, np.int64), np.full(6, 40), f_out)
    want = requantize_raw(raw_in, np.full(6, f_in), to, round_mode, Overflow.SAT)
    assert np.array_equal(fixed_np.to_raw(x, f_out, round_mode), want)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_forward_equals_numpy_twin(round_mode: Round, dtype: str) -> None:
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(64, 10)) * 4).astype(dtype)
    f = rng.integers(-3, 10, size=10).astype(dtype)
    want = fixed_np.quantize(x, f.astype(np.int64), round_mode)
    got = ops.convert_to_numpy(fixed_ops.quantize(ops.convert_to_tensor(x), f, round_mode))
    assert np.array_equal(got.astype(np.float64), want)
    # half-way values round up with RND and down with TRN
    half = ops.convert_to_numpy(
        fixed_ops.quantize(np.array([0.5, -0.5, 1.5], dtype), 0.0, round_mode)
    )
    assert half.tolist() == ([1.0, 0.0, 2.0] if round_mode is Round.RND else [0.0, -1.0, 1.0])


def test_keras_overflow_equals_integer_reference(overflow: Overflow) -> None:
    rng = np.random.default_rng(2)
    k = rng.integers(0, 2, size=12)
    f = rng.integers(-2, 6, size=12)
    i = rng.integers(-1, 4, size=12)
    i = np.maximum(i, -f - k)  # widths >= 0, some exactly 0
    raw = rng.integers(-300, 300, size=(100, 12))
    xq = np.ldexp(raw.astype(np.float64), -f)
    want = fixed_np.overflow_raw(raw, k, i, f, overflow)
    got = fixed_ops.apply_overflow(
        ops.convert_to_tensor(xq),
        k.astype(np.float64),
        i.astype(np.float64),
        f.astype(np.float64),
        overflow,
    )
    assert np.array_equal(np.ldexp(ops.convert_to_numpy(got), f), want.astype(np.float64))
    assert not np.array_equal(want, raw)  # the case really overflows


@settings(max_examples=200, deadline=None)
@given(
    lo=st.floats(-1e4, 1e4, allow_nan=False),
    span=st.floats(0, 1e4, allow_nan=False),
    f=st.integers(-6, 12),
)
def test_int_bits_are_the_smallest_that_hold_the_range(lo: float, span: float, f: int) -> None:
    vmin = fixed_np.quantize(np.array([lo]), np.array([f]), Round.RND)
    vmax = fixed_np.quantize(np.array([lo + span]), np.array([f]), Round.RND)
    k, i = fixed_np.int_bits_from_range(vmin, vmax, np.array([f]))
    k, i = int(k[0]), int(i[0])
    width = k + i + f
    assert width >= 0
    raw_lo, raw_hi = int(vmin[0] * 2.0**f), int(vmax[0] * 2.0**f)

    def fits(kk: int, ii: int) -> bool:
        w = kk + ii + f
        if w <= 0:
            return raw_lo == raw_hi == 0
        lo_t = -(1 << (w - 1)) if kk else 0
        return lo_t <= raw_lo and raw_hi <= (1 << (w - kk)) - 1

    assert fits(k, i)
    if width > 0:
        assert not fits(k, i - 1)
    assert k == int(raw_lo < 0)


def test_bit_length_span_and_weight_bits() -> None:
    raw = np.array([0, 1, -1, 6, -12, 255, 256])
    assert fixed_np.bit_length(raw).tolist() == [0, 1, 1, 3, 4, 8, 9]
    assert fixed_np.bit_span(raw).tolist() == [0, 1, 1, 2, 2, 8, 1]
    assert fixed_np.weight_bits(raw).tolist() == [0, 1, 2, 3, 5, 8, 9]
    assert fixed_np.weight_bits(raw, exact=True).tolist() == [0, 1, 2, 2, 3, 8, 1]
    f = np.array([0, 3, 3, -1, 2, 4, 0])
    wq = np.ldexp(raw.astype(np.float64), -f)
    got = ops.convert_to_numpy(fixed_ops.weight_bits(ops.convert_to_tensor(wq), f.astype(float)))
    assert got.tolist() == fixed_np.weight_bits(raw).tolist()


def _grads(x: np.ndarray, f: np.ndarray, scale: float, round_mode: Round):
    xt = tf.Variable(x)
    ft = tf.Variable(f)
    w = tf.constant(np.linspace(-1, 1, x.size).reshape(x.shape))
    with tf.GradientTape() as tape:
        fr = fixed_ops.round_bits(ft, -8, 16)
        xq = fixed_ops.quantize(xt, fr, round_mode)
        out = fixed_ops.with_surrogate(xt, xq, fr, scale)
        loss = tf.reduce_sum(out * w)
    gx, gf = tape.gradient(loss, [xt, ft])
    return out.numpy(), xq.numpy(), gx.numpy(), gf.numpy(), w.numpy()


def test_surrogate_forward_is_exact_and_gradients_follow_the_formulas(round_mode: Round) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 4)) * 3
    f = np.array([0.3, 1.6, 2.2, 4.7])  # rounds to 0, 2, 2, 5
    scale = 0.25
    out, xq, gx, gf, w = _grads(x, f, scale, round_mode)
    assert np.array_equal(out, xq)  # the surrogate terms are exact zeros
    assert np.array_equal(xq, fixed_np.quantize(x, np.array([0, 2, 2, 5]), round_mode))
    np.testing.assert_allclose(gx, w)  # straight-through in x
    want_gf = np.sum(w * (-math.log(2.0)) * (xq - x) * scale, axis=0)
    np.testing.assert_allclose(gf, want_gf, rtol=1e-12)


def test_f_gradient_matches_finite_differences_of_the_relaxation() -> None:
    """HGQ's d xq/d f = -ln2 (xq - x) is the derivative of xq(f) = x + (xq0 - x) 2**-(f - f0),
    the rounding error shrinking by 2**-df; compare with central differences of that."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(7, 3))
    f = np.array([1.0, 3.0, 5.0])
    _, xq, _, gf, w = _grads(x, f, 1.0, Round.RND)

    def relaxed(f_new: np.ndarray) -> float:
        return float(np.sum(w * (x + (xq - x) * 2.0 ** -(f_new - f))))

    h = 1e-5
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        fd = (relaxed(f + e) - relaxed(f - e)) / (2 * h)
        assert gf[j] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_grad_scale_is_one_over_sqrt_of_sharing() -> None:
    shape = (6, 4)
    assert grad_scale(shape, Granularity.ELEMENT) == 1.0
    assert grad_scale(shape, Granularity.CHANNEL) == pytest.approx(1 / math.sqrt(6))
    assert grad_scale(shape, Granularity.LAYER) == pytest.approx(1 / math.sqrt(24))
    assert grad_scale(shape, Granularity.ELEMENT, batch=16) == pytest.approx(0.25)


@pytest.mark.parametrize("scale_on", ["ebops", "task"])
def test_shared_bit_width_scale_sits_on_the_chosen_gradient(scale_on: str) -> None:
    """``ebops`` (default): the task gradient of a shared f is the plain sum over the values that
    share it and the EBOPs-side bits get 1/sqrt(n); ``task``: the other way round. Never the
    batch."""
    from hgq_train.layers import QActivation

    x = np.random.default_rng(5).normal(size=(16, 3)).astype("float32")
    for gran in ("element", "layer"):
        q = QActivation("linear", granularity=gran, f_init=2.0, gamma=0.0, grad_scale_on=scale_on)
        q.build((None, 3))
        with tf.GradientTape(persistent=True) as tape:
            y = q(x, training=True)
            loss = tf.reduce_sum(y)
            bits = tf.reduce_sum(q.bits_tensor())
        task_grad = tape.gradient(loss, q.f).numpy().reshape(-1)
        bits_grad = tape.gradient(bits, q.f).numpy().reshape(-1)
        xq = fixed_np.quantize(x, np.array(2), Round.RND)
        per_element = np.sum(-math.log(2.0) * (xq - x), axis=0)
        n = 3 if gran == "layer" else 1  # elements of one sample sharing f; not the batch
        want = per_element.sum(keepdims=True) if gran == "layer" else per_element
        live = np.full(3, 1.0)  # every element has i + f > 0 here
        want_bits = live.sum(keepdims=True) if gran == "layer" else live
        task_scale, bits_scale = (1.0, n) if scale_on == "ebops" else (n, 1.0)
        np.testing.assert_allclose(task_grad, want / math.sqrt(task_scale), rtol=1e-5)
        np.testing.assert_allclose(bits_grad, want_bits / math.sqrt(bits_scale), rtol=1e-6)


@pytest.mark.parametrize("scale_on", ["ebops", "task"])
def test_dense_channel_bit_width_scale_sits_on_the_chosen_gradient(scale_on: str) -> None:
    from hgq_train.layers import QDense

    rng = np.random.default_rng(9)
    x = rng.normal(size=(8, 4)).astype("float32")
    d = QDense(2, granularity="channel", f_init=3.0, gamma=0.0, grad_scale_on=scale_on)
    d.build((None, 4))
    d.kernel.assign(rng.uniform(0.2, 0.9, size=(4, 2)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_sum(d(x, training=True))
        bits = tf.reduce_sum(d.kernel_bits_tensor())
    task_grad = tape.gradient(loss, d.kernel_f).numpy().reshape(-1)
    bits_grad = tape.gradient(bits, d.kernel_f).numpy().reshape(-1)
    w = d.kernel.numpy().astype(np.float64)
    wq = fixed_np.quantize(w, np.array(3), Round.RND)
    per_weight = -math.log(2.0) * (wq - w) * x.sum(axis=0)[:, None]  # d loss / d f per weight
    task_scale, bits_scale = (1.0, 4.0) if scale_on == "ebops" else (4.0, 1.0)
    np.testing.assert_allclose(task_grad, per_weight.sum(axis=0) / math.sqrt(task_scale), rtol=1e-4)
    np.testing.assert_allclose(bits_grad, np.full(2, 4.0) / math.sqrt(bits_scale), rtol=1e-6)
    with pytest.raises(ValueError, match="grad_scale_on must be one of"):
        QDense(2, grad_scale_on="loss")


def test_bad_modes_are_refused() -> None:
    from hgq_train.quantizers import parse_overflow, parse_round

    assert parse_round("rnd") is Round.RND
    with pytest.raises(ValueError, match="round_mode must be one of"):
        parse_round("nearest")
    with pytest.raises(ValueError, match="overflow must be one of"):
        parse_overflow("clip")
    with pytest.raises(TypeError):
        parse_round(3)
    with pytest.raises(ValueError, match="granularity"):
        Granularity.parse("row")


def _ranges(max_log2: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantized ranges (vmin, vmax, f): random, with raw ends at powers of two and their
    neighbours (where a log2 is most easily off by one), single points, empty ranges (as after
    a reset) and zeros."""
    rng = np.random.default_rng(seed)
    f = rng.integers(-6, 13, n)
    top = 1 << max_log2
    raw_lo = rng.integers(-top, top, n)
    raw_hi = raw_lo + rng.integers(0, top, n)
    power = np.left_shift(1, rng.integers(0, max_log2, n)) + rng.integers(-1, 2, n)
    raw_hi = np.where(rng.random(n) < 0.4, power, raw_hi)
    raw_lo = np.where(rng.random(n) < 0.2, -power, np.minimum(raw_lo, raw_hi))
    raw_lo = np.where(rng.random(n) < 0.1, raw_hi, raw_lo)  # a single value
    vmin, vmax = np.ldexp(raw_lo.astype(np.float64), -f), np.ldexp(raw_hi.astype(np.float64), -f)
    vmin[:3], vmax[:3] = [np.inf, 0.0, 0.0], [-np.inf, 0.0, 1.0]  # empty, {0}, [0, 1]
    return vmin, vmax, f


@pytest.mark.parametrize(("dtype", "max_log2"), [("float32", 23), ("float64", 40)])
def test_keras_int_bits_from_range_equal_the_numpy_twin(dtype: str, max_log2: int) -> None:
    """Exactly equal wherever ``vmax * 2**f + 1`` is exact in the dtype (raw below 2**24 in
    float32): the sign and integer bits training uses are the ones export computes."""
    print("seed 5")
    vmin, vmax, f = _ranges(max_log2, 20000, seed=5)
    k_want, i_want = fixed_np.int_bits_from_range(vmin, vmax, f)
    k, i = fixed_ops.int_bits_from_range(
        *(ops.convert_to_tensor(a.astype(dtype)) for a in (vmin, vmax, f))
    )
    k, i = ops.convert_to_numpy(k), ops.convert_to_numpy(i)
    assert k.dtype == i.dtype == np.dtype(dtype)
    bad = np.flatnonzero((k != k_want) | (i != i_want))
    assert bad.size == 0, [
        (vmin[j], vmax[j], int(f[j]), (k_want[j], i_want[j]), (k[j], i[j])) for j in bad[:5]
    ]
