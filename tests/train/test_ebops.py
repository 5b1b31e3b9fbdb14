"""EBOPs by hand on a tiny layer: training estimate, exact (bit span) and the gradient."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from hgq_train.ebops import ebops, ebops_per_layer, ebops_tensor
from hgq_train.layers import QActivation, QDense, QInput
from hgq_train.training import calibrate


def _tiny() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(2,)),
            QInput(f_init=2.0, gamma=0.0, name="iq"),
            QDense(2, f_init=3.0, gamma=0.0, name="d"),
        ]
    )
    model.get_layer("iq").f.assign(np.array([2.0, 1.0]))
    dense = model.get_layer("d")
    # raw at f=3: 6, -4 / 1, 0  -> bit lengths 3, 3+sign / 1, 0 (pruned)
    dense.kernel.assign(np.array([[0.75, -0.5], [0.125, 0.0]]))
    dense.bias.assign(np.array([0.3, -0.2]))
    return model


X = np.array([[0.5, -1.0], [1.25, 0.0]])
# input 0: f=2, range [0.5, 1.25] -> k=0, i=1 -> 3 bits; input 1: f=1, range [-1, 0] -> 2 bits


def test_ebops_by_hand() -> None:
    model = _tiny()
    calibrate(model, X)
    k, i, f = model.get_layer("iq").kif()
    assert (k.tolist(), i.tolist(), f.tolist()) == ([0, 1], [1, 0], [2, 1])
    # the default (the paper's and HGQ v1's count): no sign bit for the negative weight
    assert ebops(model) == 3 * (3 + 3) + 2 * (1 + 0)
    # exact: bit spans 6=0b110 -> 2, -4=-0b100 -> 1, 1 -> 1
    assert ebops(model, exact=True) == 3 * (2 + 1) + 2 * 1
    assert ebops_per_layer(model) == {"d": 20.0}
    assert float(ebops_tensor(model)) == pytest.approx(20.0)
    # the old count: a sign bit per negative weight, as an override or the layer's own option
    assert ebops(model, weight_sign=True) == 3 * (3 + 4) + 2 * (1 + 0)
    assert ebops(model, exact=True, weight_sign=True) == 3 * (2 + 2) + 2 * 1
    model.get_layer("d").sign_bits = True
    assert ebops(model) == 23.0
    assert float(ebops_tensor(model)) == pytest.approx(23.0)


def test_ebops_gradient_is_the_other_operands_bits() -> None:
    model = _tiny()
    calibrate(model, X)
    iq, dense = model.get_layer("iq"), model.get_layer("d")
    with tf.GradientTape() as tape:
        value = ebops_tensor(model)
    g_in, g_w = tape.gradient(value, [iq.f, dense.kernel_f])
    # d/d f_in[i] = sum_j weight bits[i, j]; d/d f_w[i, j] = input bits[i] where the weight lives
    np.testing.assert_allclose(g_in.numpy(), [6.0, 1.0])  # weight bits 3, 3 / 1, 0
    np.testing.assert_allclose(g_w.numpy(), [[3.0, 3.0], [2.0, 0.0]])


def test_pruned_input_costs_nothing() -> None:
    model = _tiny()
    calibrate(model, np.array([[0.5, 0.0], [1.25, 0.0]]))  # input 1 is always 0: width 0
    assert model.get_layer("iq").kif()[0].tolist() == [0, 0]
    assert ebops(model) == 3 * (3 + 3)


def test_ebops_flow_through_flatten_and_need_a_quantizer() -> None:
    """The tiny layer behind a (2, 2) input and Flatten: row-major order puts the two live
    inputs first; the other two are always 0 (pruned), so their non-zero weights cost
    nothing and the count is the tiny layer's 20 (a wrong order would pair them)."""
    model = keras.Sequential(
        [
            keras.Input(shape=(2, 2)),
            QInput(f_init=2.0, gamma=0.0, name="iq"),
            keras.layers.Flatten(),
            QDense(2, f_init=3.0, gamma=0.0, name="d"),
        ]
    )
    model.get_layer("iq").f.assign(np.array([[2.0, 1.0], [2.0, 2.0]]))
    kernel = [[0.75, -0.5], [0.125, 0.0], [0.5, 0.25], [1.0, -0.75]]
    model.get_layer("d").kernel.assign(np.array(kernel))
    calibrate(model, np.array([[[0.5, -1.0], [0.0, 0.0]], [[1.25, 0.0], [0.0, 0.0]]]))
    assert ebops(model) == 3 * (3 + 3) + 2 * (1 + 0)
    bad = keras.Sequential([keras.Input(shape=(4,)), QDense(3, name="lonely")])
    with pytest.raises(ValueError, match="'lonely' has no quantizer"):
        ebops(bad)
    odd = keras.Sequential(
        [keras.Input(shape=(4,)), QInput(), keras.layers.Dense(3, name="plain"), QActivation()]
    )
    with pytest.raises(ValueError, match="'plain' \\(Dense\\) is not supported"):
        ebops(odd)
