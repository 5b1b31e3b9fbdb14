"""Table activations (issue 13, item 1): QActivation("tanh", ...) trains its input and output
bits, charges its table by size, and exports to Requantize + Table bit-exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import ops

from hgq_hw.cost_features import spec_features, table_bits
from hgq_hw.plan import plan_network
from hgq_hw.reference import infer_types
from hgq_hw.spec import TableSpec, dumps, loads
from hgq_train.ebops import ebops, ebops_per_layer, ebops_tensor
from hgq_train.export import export_with_model, verify
from hgq_train.layers import QActivation, QDense, QInput
from hgq_train.layers.base import Bits
from hgq_train.training import compile_hgq

SEED = 5


def cubic(x):
    """A user's function written with keras.ops (numpy arrays work too)."""
    return x * x * x / 8.0 - x


def _model(function, seed: int = SEED) -> keras.Model:
    keras.utils.set_random_seed(seed)
    common = {"gamma": 0.0, "round_mode": "RND", "overflow": "SAT"}
    return keras.Sequential(
        [
            keras.Input(shape=(4,)),
            QInput(name="inp", f_init=3, **common),
            QDense(6, name="d0", gamma=0.0),
            QActivation(function, name="act", f_init=3, f_max=6, out_f_init=4, **common),
            QDense(3, name="d1", gamma=0.0),
            QActivation("linear", name="out", **common),
        ],
        name="table_model",
    )


def _data(n: int = 256):
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + np.tanh(x[:, 1] * x[:, 2]) > 0).astype(np.int64) + (x[:, 3] > 1)
    return x, y


@pytest.mark.parametrize("function", ["tanh", cubic])
def test_tiny_model_trains_two_epochs_and_exports_bit_exactly(function) -> None:
    print(f"seed {SEED}, function {function}")
    model = _model(function)
    x, y = _data()
    compile_hgq(model, beta=1e-5, learning_rate=1e-2)
    act = model.get_layer("act")
    f_in_before = ops.convert_to_numpy(act.f).copy()
    f_out_before = ops.convert_to_numpy(act.output_quantizer.f).copy()
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    # both quantizers' bits are trained (they moved)
    assert not np.array_equal(ops.convert_to_numpy(act.f), f_in_before)
    assert not np.array_equal(ops.convert_to_numpy(act.output_quantizer.f), f_out_before)
    result = export_with_model(model, x)
    spec = result.spec
    # the calibration of both quantizers goes back to the caller's model
    assert float(ops.convert_to_numpy(act.output_quantizer.calibrated)) == 1.0
    assert verify(model, spec, x) == len(x)  # the float32 model agrees here too
    assert [layer.kind for layer in spec.layers] == [
        "Input", "Dense", "Requantize", "Table", "Dense", "Requantize", "Output",
    ]  # fmt: skip
    table = spec.layer("act")
    assert isinstance(table, TableSpec) and spec.layer("act_in").kind == "Requantize"
    assert loads(dumps(spec)) == spec
    # 0 mismatches on the calibration data and far outside it (overflow of both quantizers)
    assert verify(result.model64, spec, x) == len(x)
    assert verify(result.model64, spec, x * 3) == len(x)
    types = infer_types(spec)
    in_bits, out_bits = types["act_in"].width, types["act"].width
    assert [len(table.table(e)) for e in range(6)] == [1 << int(w) for w in in_bits]
    # the layer's exact cost is the spec's table_bits feature, and it is in the EBOPs
    assert ebops_per_layer(result.model64, exact=True)["act"] == pytest.approx(
        table_bits(in_bits, out_bits), rel=1e-12
    )
    assert spec_features(spec)["table_bits"] == pytest.approx(table_bits(in_bits, out_bits))
    # the LUT-cost features of the model agree with the spec's (cost="luts" sees tables too)
    from hgq_train.cost import model_features

    features = model_features(result.model64, Bits.EXACT)
    for name, value in spec_features(spec).items():
        assert float(ops.convert_to_numpy(features[name])) == pytest.approx(value, rel=1e-6), name
    plan = plan_network(spec, pipeline_levels=1)
    xr = np.asarray(plan(np.asarray(_raw_inputs(spec, x[:64]))), dtype=object)
    assert xr.shape == (64, 3)


def test_every_named_function_exports_bit_exactly() -> None:
    """One chain of the five named tables (initial weights, calibrated on the data, no
    training: the tabulation is what is checked): 0 mismatches."""
    keras.utils.set_random_seed(SEED)
    common = {"gamma": 0.0, "round_mode": "TRN", "overflow": "WRAP", "f_init": 3, "f_max": 6}
    layers = [keras.Input(shape=(4,)), QInput(name="inp", **common)]
    for name in ("sigmoid", "gelu", "swish", "softplus", "tanh"):
        layers += [QDense(4, name=f"d_{name}", gamma=0.0), QActivation(name, name=name, **common)]
    layers += [QDense(3, name="head", gamma=0.0), QActivation("linear", name="out", **common)]
    model = keras.Sequential(layers, name="five_tables")
    x, _ = _data()
    result = export_with_model(model, x)
    kinds = [layer.kind for layer in result.spec.layers]
    assert kinds.count("Table") == 5
    assert verify(result.model64, result.spec, x) == len(x)
    assert verify(result.model64, result.spec, x * 3) == len(x)


def _raw_inputs(spec, x):
    from hgq_hw.reference import quantize_inputs

    return quantize_inputs(spec, x)


def test_table_cost_pulls_both_widths_down() -> None:
    """The table EBOPs are differentiable in the input and the output bits (positive gradient
    in every live element's ``f``), and a large beta lowers both quantizers' bits."""
    import tensorflow as tf

    model = _model("tanh")
    x, y = _data()
    act = model.get_layer("act")
    model(x, training=True)  # records the value ranges the training cost reads
    with tf.GradientTape() as tape:
        cost = act.ebops(None, Bits.TRAINING)
    g_in, g_out = tape.gradient(cost, [act.f, act.output_quantizer.f])
    assert float(cost) == pytest.approx(act.ebops(None, Bits.ESTIMATE), rel=1e-5)
    live = act.bits_np(calibrated=False) > 0
    assert np.all(ops.convert_to_numpy(g_in)[live] > 0)
    assert np.all(ops.convert_to_numpy(g_out) > 0)
    f_in, f_out = (float(np.mean(ops.convert_to_numpy(v))) for v in (act.f, act.output_quantizer.f))
    compile_hgq(model, beta=1e-1, learning_rate=3e-2)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    f_in2, f_out2 = (
        float(np.mean(ops.convert_to_numpy(v))) for v in (act.f, act.output_quantizer.f)
    )
    print(f"mean f: input {f_in:.2f} -> {f_in2:.2f}, output {f_out:.2f} -> {f_out2:.2f}")
    assert f_in2 < f_in and f_out2 < f_out
    assert float(ops.convert_to_numpy(ebops_tensor(model))) > 0 and ebops(model) > 0


def test_config_round_trip_and_bad_function() -> None:
    layer = QActivation("sigmoid", out_f_init=5, name="s")
    again = QActivation.from_config(layer.get_config())
    assert again.is_table and again.get_config() == layer.get_config()
    assert not QActivation("relu").is_table
    with pytest.raises(ValueError, match="table function"):
        QActivation("cosh")


def test_wide_table_input_is_refused_naming_the_layer() -> None:
    model = _model("tanh")
    act = model.get_layer("act")
    act.f.assign(np.full(act.f.shape, 12.0))  # clipped to f_max 6: fine
    act.f_max = 16.0
    act.f.assign(np.full(act.f.shape, 14.0))
    x, _ = _data(64)
    with pytest.raises(ValueError, match=r"'act'.*over the cap of 12 bits"):
        export_with_model(model, x * 4)
