"""Export is bit-exact: the spec evaluated by the integer reference equals the Keras model's
quantized inference (float64) on every sample, for every layer kind and round/overflow mode."""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

import hgq_train
from hgq_hw.fixed import Overflow, Round
from hgq_hw.reference import evaluate, quantize_inputs
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, ReLUSpec, RequantizeSpec, load, save
from hgq_train.export import export_with_model, float64_clone, verify
from hgq_train.layers import QActivation, QDense, QDenseBatchNorm, QInput


def _randomize(model: keras.Model, rng: np.random.Generator) -> None:
    """Heterogeneous bit widths (some very low, so weights and activations get pruned) and
    batch-norm statistics, as after training."""
    for layer in model.layers:
        for var in layer.trainable_variables + layer.non_trainable_variables:
            name = var.path.split("/")[-1]
            shape = tuple(var.shape)
            if name in ("f", "kernel_f", "bias_f"):
                var.assign(rng.integers(-1, 8, size=shape).astype("float32"))
            elif name in ("moving_mean", "bn_beta"):
                var.assign(rng.normal(size=shape).astype("float32") * 0.3)
            elif name in ("moving_var", "bn_gamma"):
                var.assign(rng.uniform(0.5, 2.0, size=shape).astype("float32"))


def _every_layer_model(round_mode: Round, overflow: Overflow) -> keras.Model:
    common = {"round_mode": round_mode.value, "gamma": 0.0}
    act = {**common, "overflow": overflow.value}
    return keras.Sequential(
        [
            keras.Input(shape=(4, 4)),
            QInput(name="inp", **act),  # per-element types on a 2-d input
            keras.layers.Flatten(),
            QDense(12, name="d0", **common),
            QActivation("relu", name="a0", **act),
            keras.layers.Dropout(0.2),
            keras.layers.Reshape((3, 4)),
            QActivation("linear", granularity="channel", name="a1", **act),
            keras.layers.Flatten(),
            QDenseBatchNorm(6, granularity="channel", name="bn", **common),
            QActivation("relu", granularity="layer", name="a2", **act),
            QDense(3, use_bias=False, name="d1", **common),
            QActivation("linear", name="out", **act),
        ],
        name="every_layer",
    )


def test_export_is_bit_exact_for_every_layer_and_mode(
    round_mode: Round, overflow: Overflow, tmp_path
) -> None:
    rng = np.random.default_rng(11)
    model = _every_layer_model(round_mode, overflow)
    _randomize(model, rng)
    x_cal = rng.normal(size=(300, 4, 4)) * 2
    result = export_with_model(model, x_cal, overflow=overflow, metadata={"dataset": "random"})
    spec = result.spec
    kinds = [layer.kind for layer in spec.layers]
    assert kinds == [
        "Input", "Dense", "ReLU", "Requantize", "Requantize", "Dense", "ReLU", "Requantize",
        "Dense", "Requantize", "Output",
    ]  # fmt: skip
    assert spec.input_shape == (16,)
    folded = set(spec.metadata.get("round_half_folded", []))
    assert folded == ({"a0", "a2", "out"} if round_mode is Round.RND else set())
    assert all(
        layer.round is (Round.TRN if layer.name in folded else round_mode)
        and layer.overflow is overflow
        for layer in spec.layers
        if isinstance(layer, InputSpec | RequantizeSpec)
    )
    assert verify(result.model64, spec, x_cal) == 300
    # outside the calibration range the modes really act, and still agree bit for bit
    x_far = x_cal * 4
    assert verify(result.model64, spec, x_far) == 300
    # save / load keeps it exact; metadata is written
    reloaded = load(save(spec, tmp_path / "spec.json"))
    assert reloaded == spec and reloaded.metadata["dataset"] == "random"
    assert reloaded.metadata["ebops"] == result.ebops > 0


def test_wrap_and_sat_differ_outside_the_calibration_range() -> None:
    rng = np.random.default_rng(12)
    x_cal = rng.normal(size=(200, 4, 4))
    outs = {}
    for mode in (Overflow.WRAP, Overflow.SAT):
        keras.utils.set_random_seed(3)
        model = _every_layer_model(Round.RND, Overflow.WRAP)
        _randomize(model, np.random.default_rng(13))
        spec = hgq_train.export(model, x_cal, overflow=mode)
        outs[mode] = evaluate(spec, quantize_inputs(spec, (x_cal * 8).reshape(200, -1)))
        same = evaluate(spec, quantize_inputs(spec, x_cal.reshape(200, -1)))
        outs[mode, "cal"] = same
    assert np.array_equal(outs[Overflow.WRAP, "cal"], outs[Overflow.SAT, "cal"])
    assert not np.array_equal(outs[Overflow.WRAP], outs[Overflow.SAT])


def test_pruned_weights_are_raw_zero_and_keras_float32_agrees() -> None:
    rng = np.random.default_rng(14)
    model = keras.Sequential(
        [keras.Input(shape=(8,)), QInput(gamma=0.0), QDense(5, name="d", gamma=0.0)]
    )
    dense = model.get_layer("d")
    low = rng.random((8, 5)) < 0.4
    dense.kernel_f.assign(np.where(low, -4.0, 5.0))  # |w| < 8 at -4 fractional bits: pruned
    x = rng.normal(size=(100, 8))
    result = export_with_model(model, x)
    (layer,) = result.spec.dense_layers()
    assert isinstance(layer, DenseSpec)
    assert np.all(layer.weight_raw[low] == 0)
    assert np.count_nonzero(layer.weight_raw == 0) >= np.count_nonzero(low) > 0
    assert verify(result.model64, result.spec, x) == 100
    # the float32 model gives the same numbers on this small layer
    y32 = model.predict(x, verbose=0)
    np.testing.assert_array_equal(y32, result.model64.predict(x, verbose=0).astype("float32"))
    assert not any(isinstance(s, ReLUSpec) for s in result.spec.layers)


def test_export_calibrates_the_callers_model() -> None:
    model = _every_layer_model(Round.RND, Overflow.SAT)
    _randomize(model, np.random.default_rng(15))
    x = np.random.default_rng(16).normal(size=(50, 4, 4))
    result = export_with_model(model, x)
    for name in ("inp", "a0", "a1", "a2", "out"):
        a = model.get_layer(name).kif()
        b = result.model64.get_layer(name).kif()
        assert all(np.array_equal(p, q) for p, q in zip(a, b))
    clone = float64_clone(model)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), result.model64.predict(x, verbose=0))


def test_unsupported_layers_and_missing_input_quantizer_are_named() -> None:
    conv = keras.Sequential(
        [
            keras.Input(shape=(8, 1)),
            QInput(),
            keras.layers.Conv1D(2, 3, name="conv"),
            keras.layers.Flatten(),
            QDense(2),
        ]
    )
    with pytest.raises(ValueError, match="'conv' \\(Conv1D\\) is not supported"):
        hgq_train.export(conv, np.zeros((4, 8, 1)))
    no_input = keras.Sequential([keras.Input(shape=(4,)), QDense(2), QActivation()])
    with pytest.raises(ValueError, match="must start with a QInput"):
        hgq_train.export(no_input, np.zeros((4, 4)))
    with pytest.raises(ValueError, match="overflow must be one of"):
        hgq_train.export(no_input, np.zeros((4, 4)), overflow="CLIP")


def test_uncalibrated_quantizer_refuses_kif() -> None:
    q = QActivation()
    q.build((None, 3))
    with pytest.raises(ValueError, match="not calibrated"):
        q.kif()


def test_calibration_margin_adds_integer_bits_to_live_elements_only() -> None:
    rng = np.random.default_rng(17)
    x = rng.normal(size=(60, 4, 4))
    x[:, 0, 0] = 0.0  # input element 0 only ever 0: pruned, and stays pruned
    plain = _every_layer_model(Round.RND, Overflow.WRAP)
    _randomize(plain, np.random.default_rng(18))
    wide = _every_layer_model(Round.RND, Overflow.WRAP)
    wide.set_weights(plain.get_weights())
    a = export_with_model(plain, x)
    b = export_with_model(wide, x, calibration_margin_bits=1)
    assert b.spec.metadata["calibration_margin_bits"] == 1
    for name in ("inp", "a0", "a1", "a2", "out"):
        (k0, i0, f0), (k1, i1, f1) = plain.get_layer(name).kif(), wide.get_layer(name).kif()
        live = k0 + i0 + f0 > 0
        assert np.array_equal(k0, k1) and np.array_equal(f0, f1)
        np.testing.assert_array_equal(i1, np.where(live, i0 + 1, i0))
    assert plain.get_layer("inp").kif()[1][0, 0] + plain.get_layer("inp").kif()[2][0, 0] <= 0
    assert b.ebops > a.ebops
    assert verify(b.model64, b.spec, x) == 60
    # twice the calibration range: the margin keeps the input quantizer from wrapping
    far = 1.9 * x
    k, i, f = (t.reshape(-1) for t in wide.get_layer("inp").kif())
    raw = quantize_inputs(b.spec, far.reshape(len(far), -1))
    real = np.ldexp(raw.astype(np.float64), -f.astype(np.int32))
    want = np.ldexp(np.floor(np.ldexp(far.reshape(len(far), -1), f) + 0.5), -f)
    live = k + i + f > 0
    np.testing.assert_array_equal(real[:, live], want[:, live])
    with pytest.raises(ValueError, match="margin_bits must be a non-negative integer"):
        export_with_model(wide, x, calibration_margin_bits=-1)


def _random_raw_inputs(spec, n: int, rng: np.random.Generator) -> np.ndarray:
    """Raw inputs over the whole input type (not only the calibration data), edges included."""
    lo, hi = (np.array(b, dtype=np.int64) for b in spec.input.type.raw_bounds())
    x = rng.integers(lo, hi + 1, size=(n, len(lo)))
    x[0], x[1] = lo, hi
    return x


def test_rnd_requantizers_fold_their_half_lsb_into_the_bias_bit_exactly(overflow) -> None:
    rng = np.random.default_rng(19)
    model = _every_layer_model(Round.RND, overflow)
    _randomize(model, np.random.default_rng(20))
    x = rng.normal(size=(120, 4, 4))
    folded = export_with_model(model, x)
    plain = export_with_model(model, x, fold_rounding=False)
    rounds = {s.name: s.round for s in folded.spec.layers if isinstance(s, RequantizeSpec)}
    # a0, a2, out read a Dense (a0, a2 through a ReLU); a1 reads the requantizer a0: stays RND
    assert rounds == {"a0": Round.TRN, "a1": Round.RND, "a2": Round.TRN, "out": Round.TRN}
    assert folded.spec.metadata["round_half_folded"] == ["a0", "a2", "out"]
    assert all(s.round is Round.RND for s in plain.spec.layers if isinstance(s, RequantizeSpec))
    changed = [
        (a.name, int(np.count_nonzero(a.bias_raw != b.bias_raw)))
        for a, b in zip(folded.spec.dense_layers(), plain.spec.dense_layers())
    ]
    assert all(n > 0 for _, n in changed), changed
    assert verify(folded.model64, folded.spec, x) == 120  # against Keras, every sample
    raw = _random_raw_inputs(folded.spec, 3000, rng)
    np.testing.assert_array_equal(evaluate(folded.spec, raw), evaluate(plain.spec, raw))
    # the check can fail: TRN without the folded bias gives other outputs on these inputs
    unfolded = ModelSpec(
        name=plain.spec.name,
        layers=tuple(
            dataclasses.replace(s, round=Round.TRN) if s.name in rounds and s.name != "a1" else s
            for s in plain.spec.layers
        ),
    )
    assert not np.array_equal(evaluate(unfolded, raw), evaluate(plain.spec, raw))


def test_trn_models_have_nothing_to_fold() -> None:
    model = _every_layer_model(Round.TRN, Overflow.WRAP)
    _randomize(model, np.random.default_rng(22))
    x = np.random.default_rng(23).normal(size=(40, 4, 4))
    assert export_with_model(model, x).spec == export_with_model(model, x, fold_rounding=False).spec
