"""Functional models with Keras merging layers export to the spec's merge kinds, bit-exactly."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hgq_hw.plan import plan_network
from hgq_hw.reference import quantize_inputs
from hgq_train.ebops import ebops_per_layer
from hgq_train.export import export_with_model, verify
from hgq_train.layers import QActivation, QDense, QInput

SEED = 21


def _skip_model() -> keras.Model:
    """QInput -> dense -> act, plus the input (a skip connection), merged four ways."""
    kw = {"gamma": 0.0}
    inp = keras.Input(shape=(6,))
    q = QInput(f_init=3.0, name="iq", **kw)(inp)
    h = QDense(6, f_init=4.0, name="d0", **kw)(q)
    h = QActivation("relu", f_init=3.0, name="a0", **kw)(h)
    s = keras.layers.Add(name="skip_add")([h, q])
    t = keras.layers.Subtract(name="diff")([s, h])
    m = keras.layers.Multiply(name="gate")([t, q])
    m = QActivation("linear", f_init=2.0, name="a1", **kw)(m)
    c = keras.layers.Concatenate(name="cat")([m, h])
    out = QDense(3, f_init=4.0, name="d1", **kw)(c)
    out = QActivation("linear", f_init=3.0, name="out", **kw)(out)
    return keras.Model(inp, out, name="skip")


def test_functional_model_with_merges_exports_bit_exactly() -> None:
    print(f"seed {SEED}")
    keras.utils.set_random_seed(SEED)
    model = _skip_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(256, 6)).astype("float32")
    y = np.stack([x[:, 0] * x[:, 1], x[:, 2] + x[:, 3], x[:, 4] - x[:, 5]], axis=1)
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)  # a tiny trained model
    result = export_with_model(model, x)
    spec = result.spec
    kinds = [(layer.kind, layer.inputs) for layer in spec.layers]
    assert ("Add", ("a0", "iq")) in kinds
    assert ("Subtract", ("skip_add", "a0")) in kinds
    assert ("Multiply", ("diff", "iq")) in kinds
    assert ("Concatenate", ("a1", "a0")) in kinds
    assert verify(result.model64, spec, x) == 256
    x_new = rng.normal(size=(200, 6)) * 2  # beyond the calibration range too
    assert verify(result.model64, spec, x_new) == 200
    # and the hardware plan agrees with the spec on those inputs
    plan = plan_network(spec, pipeline_levels=1)
    raw = quantize_inputs(spec, x_new)
    from hgq_hw.reference import evaluate

    assert np.array_equal(plan(raw), np.asarray(evaluate(spec, raw), dtype=object))
    costs = ebops_per_layer(result.model64, exact=True)
    assert costs["gate"] > 0  # a two-variable multiply costs bits_a * bits_b


def test_merges_must_read_quantized_tensors() -> None:
    inp = keras.Input(shape=(4,))
    q = QInput(gamma=0.0, name="iq")(inp)
    bad = keras.layers.Add(name="raw_add")([q, inp])
    model = keras.Model(inp, QDense(2, gamma=0.0)(bad))
    with pytest.raises(ValueError, match="'raw_add' reads the model input"):
        export_with_model(model, np.zeros((4, 4)))
    three = keras.layers.Add(name="add3")([q, q, q])
    model = keras.Model(inp, QDense(2, gamma=0.0)(three))
    with pytest.raises(ValueError, match="'add3' reads 3 tensors"):
        export_with_model(model, np.zeros((4, 4)))
