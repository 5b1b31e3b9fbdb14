"""Each layer answers for itself (EBOPs, spec layers); EBOPs and export only follow the graph."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hgq_hw.spec import InputSpec, RequantizeSpec
from hgq_train.ebops import ebops, ebops_per_layer
from hgq_train.export import export_with_model, verify
from hgq_train.layers import QActivation, QDense, QInput, register_pass_through
from hgq_train.layers.base import PASS_THROUGH, Bits, model_graph, node_for


def _layers() -> list[keras.layers.Layer]:
    return [
        QInput(f_init=3.0, gamma=0.0, name="iq"),
        QDense(5, f_init=4.0, gamma=0.0, name="d0"),
        QActivation("relu", f_init=3.0, gamma=0.0, name="a0"),
        QDense(3, f_init=4.0, gamma=0.0, name="d1"),
    ]


def test_functional_and_sequential_models_give_the_same_spec_and_ebops() -> None:
    keras.utils.set_random_seed(3)
    seq = keras.Sequential([keras.Input(shape=(6,)), *_layers()])
    inp = keras.Input(shape=(6,))
    x = inp
    for layer in _layers():
        x = layer(x)
    fun = keras.Model(inp, x)
    fun.set_weights(seq.get_weights())
    data = np.random.default_rng(5).normal(size=(80, 6))
    a, b = export_with_model(seq, data), export_with_model(fun, data)
    assert a.spec.layers == b.spec.layers
    assert a.ebops == b.ebops > 0
    assert verify(b.model64, b.spec, data) == 80
    assert ebops_per_layer(seq, exact=True) == ebops_per_layer(fun, exact=True)


def test_the_spec_follows_the_graph_not_the_layer_order() -> None:
    """A functional model whose last quantizer reads the input quantizer, not the dense layer
    listed before it: the spec's Requantize reads the Input, and stays bit-exact."""
    inp = keras.Input(shape=(4,))
    q = QInput(f_init=3.0, gamma=0.0, name="iq")(inp)
    d = QDense(2, gamma=0.0, name="d")(q)
    out = QActivation("linear", f_init=2.0, gamma=0.0, name="side")(q)
    model = keras.Model(inp, [out])
    assert [(la.name, reads) for la, reads in model_graph(keras.Model(inp, [d, out]))] == [
        ("iq", ()),
        ("d", ("iq",)),
        ("side", ("iq",)),
    ]
    data = np.random.default_rng(6).normal(size=(40, 4))
    result = export_with_model(model, data)
    kinds = [(type(s).__name__, s.inputs) for s in result.spec.layers]
    assert kinds == [("InputSpec", ()), ("RequantizeSpec", ("iq",)), ("OutputSpec", ("side",))]
    assert verify(result.model64, result.spec, data) == 40


def test_a_pass_through_kind_is_one_registry_entry() -> None:
    model = keras.Sequential(
        [keras.Input(shape=(4,)), QInput(gamma=0.0), keras.layers.Identity(name="same"), QDense(2)]
    )
    data = np.random.default_rng(8).normal(size=(20, 4))
    with pytest.raises(ValueError, match="'same' \\(Identity\\) is not supported"):
        ebops(model)
    register_pass_through(keras.layers.Identity)
    try:
        result = export_with_model(model, data)
        assert verify(result.model64, result.spec, data) == 20
        assert isinstance(result.spec.layers[0], InputSpec)
        assert not any(isinstance(s, RequantizeSpec) for s in result.spec.layers)
    finally:
        del PASS_THROUGH[keras.layers.Identity]


def test_layers_compute_their_own_ebops() -> None:
    model = keras.Sequential([keras.Input(shape=(6,)), *_layers()])
    model(np.ones((2, 6)))
    iq, d0 = model.get_layer("iq"), model.get_layer("d0")
    bits = node_for(iq).output_bits(None, Bits.ESTIMATE)
    assert d0.ebops(bits, Bits.ESTIMATE) == ebops_per_layer(model)["d0"]
    assert node_for(iq).ebops(None, Bits.ESTIMATE) is None
