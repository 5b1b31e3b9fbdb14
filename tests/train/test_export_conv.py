"""Export of convolutional models is bit-exact: the shaped spec (schema version 2) evaluated by
the integer reference equals the Keras model's quantized inference (float64) on every sample,
for trained Conv2D and Conv1D models and for randomized bit widths in every round/overflow mode.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from hgq_hw.fixed import Overflow, Round
from hgq_hw.reference import predict
from hgq_hw.spec import ConvSpec, DenseSpec, InputSpec, RequantizeSpec, dumps, load, save
from hgq_train.export import export_with_model, verify
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
from hgq_train.training import compile_hgq, train_dataset

SEED = 1202


def _cnn2d() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Reshape((8, 8, 1), name="image"),
            QInput(f_init=4, name="inp"),
            QConv2D(4, 3, padding="same", kernel_f_init=2, name="c0"),
            QActivation("relu", name="a0"),
            QMaxPool2D(2, name="p0"),
            QConv2DBatchNorm(6, 3, strides=(1, 2), kernel_f_init=2, name="c1"),
            QActivation("relu", name="a1"),
            QAvgPool2D((2, 1), name="p1"),
            QActivation("linear", name="a2"),
            keras.layers.Flatten(name="flat"),
            QDense(10, kernel_f_init=2, name="logits"),
        ],
        name="cnn2d",
    )


def _cnn1d() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Reshape((8, 8), name="rows"),  # 8 steps of 8 channels
            QInput(f_init=4, name="inp"),
            QConv1D(6, 3, strides=2, padding="same", kernel_f_init=2, name="c0"),
            QActivation("relu", name="a0"),
            QMaxPool1D(2, strides=1, name="p0"),
            QConv1DBatchNorm(6, 2, kernel_f_init=2, name="c1"),
            QActivation("relu", granularity="channel", name="a1"),
            QAvgPool1D(2, name="p1"),
            QActivation("linear", name="a2"),
            keras.layers.Flatten(name="flat"),
            QDense(10, kernel_f_init=2, name="logits"),
        ],
        name="cnn1d",
    )


@pytest.mark.parametrize("make", [_cnn2d, _cnn1d], ids=["conv2d", "conv1d"])
def test_trained_conv_model_exports_bit_exactly(make, digits, tmp_path) -> None:
    print(f"seed {SEED}")
    keras.utils.set_random_seed(SEED)
    model = make()
    compile_hgq(model, beta=1e-6, learning_rate=3e-3, jit_compile=False)
    data = train_dataset(digits.x_train, digits.y_train, batch_size=16, seed=SEED)
    model.fit(data, epochs=2, verbose=0, shuffle=False)
    result = export_with_model(model, digits.x_train)
    spec = result.spec
    assert spec.input_shape == ((8, 8, 1) if make is _cnn2d else (8, 8))
    assert spec.required_version == 2
    kinds = [layer.kind for layer in spec.layers]
    assert kinds == [
        "Input", "Conv", "ReLU", "Requantize", "MaxPool", "Conv", "ReLU", "Requantize",
        "AvgPool", "Requantize", "Reshape", "Dense", "Output",
    ]  # fmt: skip
    assert verify(result.model64, spec, digits.x_train) == len(digits.x_train)
    assert verify(result.model64, spec, digits.x_test) == len(digits.x_test)  # beyond calibration
    kernels = [layer.kernel_raw for layer in spec.layers if isinstance(layer, ConvSpec)]
    kernels += [layer.weight_raw for layer in spec.layers if isinstance(layer, DenseSpec)]
    assert (
        spec.metadata["weights"]
        == sum(k.size for k in kernels)
        == 6 * 10 + (9 * 4 + 9 * 4 * 6 if make is _cnn2d else 3 * 8 * 6 + 2 * 6 * 6)
    )
    assert spec.metadata["pruned_weights"] == sum(int(np.sum(k == 0)) for k in kernels)
    path = save(spec, tmp_path / "cnn.json")
    again = load(path)
    assert dumps(again) == dumps(spec)
    accuracy = float(np.mean(np.argmax(predict(again, digits.x_test), axis=1) == digits.y_test))
    pruned = spec.metadata["pruned_weights"] / spec.metadata["weights"]
    print(f"{model.name}: spec test accuracy {accuracy:.3f}, {pruned:.0%} pruned after 2 epochs")


def _randomize(model: keras.Model, rng: np.random.Generator) -> None:
    """Heterogeneous bit widths (some very low, so weights and activations are pruned) and
    batch-norm statistics, as after training."""
    for layer in model.layers:
        for var in layer.trainable_variables + layer.non_trainable_variables:
            name = var.path.split("/")[-1]
            shape = tuple(var.shape)
            if name in ("f", "kernel_f", "bias_f"):
                var.assign(rng.integers(-1, 7, size=shape).astype("float32"))
            elif name in ("moving_mean", "bn_beta"):
                var.assign(rng.normal(size=shape).astype("float32") * 0.3)
            elif name in ("moving_var", "bn_gamma"):
                var.assign(rng.uniform(0.5, 2.0, size=shape).astype("float32"))


def test_random_widths_export_bit_exactly_in_every_mode(
    round_mode: Round, overflow: Overflow
) -> None:
    seed = SEED + 7
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    common = {"round_mode": round_mode.value, "gamma": 0.0}
    act = {**common, "overflow": overflow.value}
    model = keras.Sequential(
        [
            keras.Input((7, 6, 2)),
            QInput(name="inp", **act),
            QConv2DBatchNorm(3, (3, 2), strides=(2, 1), padding="same", name="c0", **common),
            QActivation("relu", name="a0", **act),
            QMaxPool2D((2, 3), strides=(1, 2), name="p0"),
            QConv2D(4, 2, padding="same", granularity="channel", name="c1", **common),
            QActivation("linear", name="a1", **act),
            QAvgPool2D((1, 2), strides=1, name="p1"),
            keras.layers.Reshape((3, 4), name="r"),
            QActivation("relu", granularity="layer", name="a2", **act),
            QConv1D(2, 2, use_bias=False, name="c2", **common),
            QActivation("linear", name="a3", **act),
            keras.layers.Flatten(name="flat"),
            QDense(3, name="d", **common),
        ]
    )
    _randomize(model, rng)
    x_cal = rng.normal(size=(200, 7, 6, 2)) * 2
    result = export_with_model(model, x_cal, overflow=overflow)
    spec = result.spec
    kinds = [layer.kind for layer in spec.layers]
    assert kinds == [
        "Input", "Conv", "ReLU", "Requantize", "MaxPool", "Conv", "Requantize", "AvgPool",
        "Reshape", "ReLU", "Requantize", "Conv", "Requantize", "Reshape", "Dense", "Output",
    ]  # fmt: skip
    assert all(
        layer.overflow is overflow
        for layer in spec.layers
        if isinstance(layer, InputSpec | RequantizeSpec)
    )
    assert spec.input.k.shape == (7, 6, 2)
    assert verify(result.model64, spec, x_cal) == len(x_cal)
    x_far = rng.normal(size=(200, 7, 6, 2)) * 6  # outside the calibration range: WRAP/SAT act
    assert verify(result.model64, spec, x_far) == len(x_far)


def test_models_without_spatial_layers_still_export_flat_specs(digits) -> None:
    model = keras.Sequential(
        [keras.Input((8, 8)), QInput(name="inp"), keras.layers.Flatten(), QDense(10, name="d")]
    )
    spec = export_with_model(model, digits.x_train.reshape(-1, 8, 8)).spec
    assert spec.input_shape == (64,)
    assert spec.required_version == 1
    assert [layer.kind for layer in spec.layers] == ["Input", "Dense", "Output"]
