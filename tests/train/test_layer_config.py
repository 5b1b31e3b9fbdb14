"""Every quantized layer's config round-trips (``from_config(get_config())``) for both round
and overflow modes and every granularity, and a saved ``.keras`` model of non-default layers
reloads with the same settings and predicts identically."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import hgq_train
from hgq_hw.fixed import Overflow, Round
from hgq_train.layers import QActivation, QDense, QDenseBatchNorm, QInput
from hgq_train.quantizers.config import GradScaleOn, Granularity, f_shape

GRANULARITIES = list(Granularity)
FEATURES, UNITS = 6, 4


def _quantizer_settings(granularity: Granularity, round_mode: Round, overflow: Overflow) -> dict:
    return {
        "granularity": granularity.value,
        "f_init": 3.0,
        "f_min": -4.0,
        "f_max": 12.0,
        "round_mode": round_mode.value,
        "overflow": overflow.value,
        "gamma": 2e-5,
        "grad_scale_on": "task",
    }


def _check_rebuilt(layer: keras.layers.Layer, input_shape: tuple[int, ...]) -> None:
    """``from_config(get_config())`` gives the same config and, built, the same variables."""
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    layer.build(input_shape)
    again.build(input_shape)
    assert [(v.path, tuple(v.shape)) for v in again.weights] == [
        (v.path.replace(layer.name, again.name), tuple(v.shape)) for v in layer.weights
    ]


@pytest.mark.parametrize("granularity", GRANULARITIES, ids=lambda g: g.value)
@pytest.mark.parametrize("cls", [QInput, QActivation], ids=lambda c: c.__name__)
def test_quantizer_layer_config_round_trips(
    cls: type, granularity: Granularity, round_mode: Round, overflow: Overflow
) -> None:
    extra = {"activation": "relu"} if cls is QActivation else {}
    layer = cls(name="q", **extra, **_quantizer_settings(granularity, round_mode, overflow))
    config = layer.get_config()
    assert {k: config[k] for k in ("granularity", "round_mode", "overflow", "grad_scale_on")} == {
        "granularity": granularity.value,
        "round_mode": round_mode.value,
        "overflow": overflow.value,
        "grad_scale_on": "task",
    }
    again = cls.from_config(config)
    assert (again.granularity, again.round_mode, again.overflow) == (
        granularity,
        round_mode,
        overflow,
    )
    assert again.grad_scale_on is GradScaleOn.TASK
    assert (again.f_init, again.f_min, again.f_max, again.gamma) == (3.0, -4.0, 12.0, 2e-5)
    assert getattr(again, "activation", "linear") == extra.get("activation", "linear")
    _check_rebuilt(layer, (None, FEATURES))
    assert tuple(layer.f.shape) == f_shape((FEATURES,), granularity)


@pytest.mark.parametrize("granularity", GRANULARITIES, ids=lambda g: g.value)
@pytest.mark.parametrize("cls", [QDense, QDenseBatchNorm], ids=lambda c: c.__name__)
def test_dense_layer_config_round_trips(
    cls: type, granularity: Granularity, round_mode: Round
) -> None:
    extra = {"momentum": 0.9, "epsilon": 1e-2} if cls is QDenseBatchNorm else {}
    layer = cls(
        UNITS,
        name="d",
        use_bias=False,
        granularity=granularity.value,
        f_init=2.0,
        f_min=-6.0,
        f_max=10.0,
        round_mode=round_mode.value,
        gamma=3e-5,
        sign_bits=True,
        kernel_f_init=1.0,
        kernel_init_bits=3.0,
        grad_scale_on="task",
        **extra,
    )
    config = layer.get_config()
    again = cls.from_config(config)
    assert (again.units, again.use_bias, again.granularity, again.round_mode) == (
        UNITS,
        False,
        granularity,
        round_mode,
    )
    assert (again.f_init, again.f_min, again.f_max, again.gamma) == (2.0, -6.0, 10.0, 3e-5)
    assert (again.sign_bits, again.kernel_f_init, again.kernel_init_bits) == (True, 1.0, 3.0)
    assert again.grad_scale_on is GradScaleOn.TASK
    if extra:
        assert (again.momentum, again.epsilon) == (0.9, 1e-2)
    _check_rebuilt(layer, (None, FEATURES))
    assert tuple(layer.kernel_f.shape) == f_shape((FEATURES, UNITS), granularity)


def test_a_saved_model_of_non_default_layers_reloads_identically(tmp_path: Path) -> None:
    """TRN and SAT, channel and layer granularity, through a .keras file."""
    print("seed 1234 (the conftest's)")
    model = keras.Sequential(
        [
            keras.Input(shape=(FEATURES,)),
            QInput(name="iq", granularity="layer", round_mode="TRN", overflow="SAT", f_init=4.0),
            QDense(UNITS, name="d", granularity="channel", round_mode="TRN", f_init=3.0),
            QActivation("relu", name="a", granularity="channel", round_mode="TRN", overflow="SAT"),
        ]
    )
    x = np.random.default_rng(3).normal(size=(32, FEATURES)).astype("float32")
    hgq_train.calibrate(model, x)
    path = tmp_path / "m.keras"
    model.save(path)
    again = hgq_train.load_model(str(path))
    for name in ("iq", "d", "a"):
        assert again.get_layer(name).get_config() == model.get_layer(name).get_config()
    layer = again.get_layer("a")
    assert (layer.granularity, layer.round_mode, layer.overflow) == (
        Granularity.CHANNEL,
        Round.TRN,
        Overflow.SAT,
    )
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
