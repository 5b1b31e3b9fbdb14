"""The Keras-side cost features equal the spec's at the exported widths, their gradient has the
right sign, and a model trained with ``cost="luts"`` exports bit-exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hgq_hw.cost_features import FEATURES, CostModel, load_cost_model, spec_features
from hgq_hw.reference import infer_types
from hgq_train.callbacks import ResetRanges
from hgq_train.cost import Cost, luts_tensor, model_features, predicted_luts
from hgq_train.export import export_with_model, verify
from hgq_train.layers import QActivation, QDense, QDenseBatchNorm, QInput
from hgq_train.layers.base import Bits
from hgq_train.models import MLPConfig, build_mlp
from hgq_train.training import HGQLoss, compile_hgq

SEED = 11


def _model(sign_bits: bool = False) -> keras.Model:
    common = {"gamma": 0.0, "sign_bits": sign_bits}
    return keras.Sequential(
        [
            keras.Input(shape=(6,)),
            QInput(name="inp"),
            QDense(8, name="d0", **common),
            QActivation("relu", name="a0"),
            QDenseBatchNorm(5, granularity="channel", name="d1", **common),
            QActivation("linear", name="a1"),
            QDense(3, name="d2", **common),
            QActivation("linear", name="out"),
        ]
    )


def _randomized(rng: np.random.Generator, sign_bits: bool = False) -> keras.Model:
    """A model with heterogeneous widths (some pruned weights and elements)."""
    model = _model(sign_bits)
    for layer in model.layers:
        for var in layer.trainable_variables:
            if var.path.split("/")[-1] in ("f", "kernel_f", "bias_f"):
                var.assign(rng.integers(-1, 6, size=tuple(var.shape)).astype("float32"))
    return model


def _numbers(features: dict) -> dict[str, float]:
    return {k: float(keras.ops.convert_to_numpy(v)) for k, v in features.items()}


@pytest.mark.parametrize("sign_bits", [False, True])
def test_keras_features_equal_the_exported_specs(sign_bits: bool) -> None:
    print(f"seed {SEED}")
    rng = np.random.default_rng(SEED)
    model = _randomized(rng, sign_bits)
    x = rng.normal(size=(256, 6)) * 3
    result = export_with_model(model, x)
    want = spec_features(result.spec)
    assert want["weights"] > 0 and want["weights"] < 6 * 8 + 8 * 5 + 5 * 3  # some pruned
    widths = infer_types(result.spec)["inp"].width
    assert widths.min() >= 0
    # numpy widths of the exported model through the keras formula: exact
    assert _numbers(model_features(result.model64, Bits.EXACT)) == want
    # the differentiable path itself (the caller's float32 model, calibrated by export)
    assert _numbers(model_features(model, Bits.TRAINING)) == want
    cost = load_cost_model()
    assert predicted_luts(result.model64) == pytest.approx(cost.predict_spec(result.spec))


def test_gradient_is_finite_and_grows_with_every_live_width() -> None:
    import tensorflow as tf

    rng = np.random.default_rng(SEED)
    model = _randomized(rng)
    x = rng.normal(size=(128, 6)) * 3
    export_with_model(model, x)  # calibrated ranges: the widths the spec has
    d0 = model.get_layer("d0")
    inp = model.get_layer("inp")
    ones = CostModel(dict.fromkeys(FEATURES, 1.0))
    ebops_only = CostModel({"ebops": 1.0})
    with tf.GradientTape(persistent=True) as tape:
        full = luts_tensor(model, ones)
        ebops_cost = luts_tensor(model, ebops_only)
    for var in model.trainable_variables:
        if var.path.split("/")[-1] in ("f", "kernel_f", "bias_f"):
            g = tape.gradient(full, var)
            if g is None:  # bias widths are not a feature
                continue
            g = keras.ops.convert_to_numpy(g)
            assert np.all(np.isfinite(g)), var.path
            assert np.all(g >= 0), var.path
    # EBOPs alone: d/d f_w[i, j] = bx[i] for a live weight, 0 for a pruned one
    bx = inp.bits_np(calibrated=True)
    raw, _, _, _ = d0.integer_weights()
    g_w = keras.ops.convert_to_numpy(tape.gradient(ebops_cost, d0.kernel_f))
    np.testing.assert_array_equal(g_w, np.where(raw != 0, bx[:, None], 0.0))
    assert np.count_nonzero(g_w) > 0
    # all features: a live weight with a live input costs at least bx + 1 (ebops + weight_bits)
    g_full = keras.ops.convert_to_numpy(tape.gradient(full, d0.kernel_f))
    live = (raw != 0) & (bx[:, None] > 0)
    assert np.all(g_full[live] >= bx[:, None].repeat(8, 1)[live] + 1)
    # an input element's width: d/d f_x[i] > 0 when it meets a live weight
    g_x = keras.ops.convert_to_numpy(tape.gradient(full, inp.f)).reshape(-1)
    used = live.any(axis=1)
    assert np.all(g_x[used] > 0) and np.all(g_x[~used] == 0)


def test_cost_option_is_checked_and_serialized() -> None:
    with pytest.raises(ValueError, match="cost must be one of"):
        HGQLoss(cost="adders")
    loss = HGQLoss(beta=1e-5, cost="luts")
    assert loss.cost is Cost.LUTS
    assert loss.get_config()["cost"] == "luts"
    assert HGQLoss.from_config(loss.get_config()).cost is Cost.LUTS
    assert HGQLoss().cost is Cost.EBOPS  # the default stays EBOPs


def _train(digits, cost: str, beta: float) -> keras.Model:
    keras.utils.set_random_seed(SEED)
    model = build_mlp(MLPConfig(hidden=(12,)), digits.n_features, digits.n_classes)
    loss = compile_hgq(model, beta=beta, learning_rate=2e-2, cost=cost)
    assert loss.cost is Cost(cost)
    history = model.fit(
        digits.x_train[:512],
        digits.y_train[:512],
        epochs=3,
        batch_size=32,
        verbose=0,
        callbacks=[ResetRanges()],
    )
    assert np.all(np.isfinite(history.history["loss"]))
    return model


def test_training_with_luts_cost_runs_and_exports_bit_exactly(digits) -> None:
    print(f"seed {SEED}")
    free = _train(digits, "luts", 0.0)
    paid = _train(digits, "luts", 1e-3)
    luts = [float(keras.ops.convert_to_numpy(luts_tensor(m))) for m in (free, paid)]
    print(f"predicted LUTs after 3 epochs: beta 0 {luts[0]:.0f}, beta 1e-3 {luts[1]:.0f}")
    assert 0 < luts[1] < 0.9 * luts[0]  # the LUT term pulls the widths down
    result = export_with_model(paid, digits.x_train)
    assert verify(result.model64, result.spec, digits.x_test) == len(digits.x_test)
    assert predicted_luts(result.model64) == pytest.approx(
        load_cost_model().predict_spec(result.spec)
    )
