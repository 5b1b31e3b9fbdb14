"""QSoftmax (issue 13, item 2): a bit-exact softmax of existing spec kinds; its EBOPs are the
tables by size, the multiply and the max/sum reductions; the hardware plan's argmax equals the
exact reference's on every digits test sample."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from boards.protocol import argmax_exact
from hgq_hw.cost_features import table_bits
from hgq_hw.plan import plan_network
from hgq_hw.reference import evaluate, infer_types, quantize_inputs
from hgq_hw.spec import dumps, loads
from hgq_train.data import load_digits_dataset
from hgq_train.ebops import ebops_per_layer
from hgq_train.export import ExportResult, export_with_model, verify
from hgq_train.layers import QActivation, QDense, QInput, QSoftmax
from hgq_train.training import compile_hgq

SEED = 13
KINDS = [
    "Requantize",
    "Reshape",
    "MaxPool",
    "Reshape",
    "Dense",
    "Subtract",
    "Requantize",
    "Table",
    "Dense",
    "Requantize",
    "Table",
    "Dense",
    "Multiply",
    "Requantize",
]


def softmax_model(seed: int = SEED) -> keras.Model:
    keras.utils.set_random_seed(seed)
    common = {"gamma": 0.0, "overflow": "SAT"}
    return keras.Sequential(
        [
            keras.Input(shape=(64,)),
            QInput(f_init=2.0, name="iq", **common),
            QDense(12, f_init=3.0, kernel_f_init=2.0, name="d0", gamma=0.0),
            QActivation("relu", f_init=3.0, name="a0", **common),
            QDense(10, f_init=3.0, kernel_f_init=2.0, name="d1", gamma=0.0),
            QSoftmax(name="sm", f_init=2.0, **common),
        ],
        name="softmax_mlp",
    )


@pytest.fixture(scope="module")
def trained() -> tuple[ExportResult, np.ndarray, np.ndarray]:
    print(f"seed {SEED}")
    data = load_digits_dataset(seed=0)
    model = softmax_model()
    compile_hgq(
        model, beta=1e-6, learning_rate=0.02, task=keras.losses.SparseCategoricalCrossentropy()
    )
    x, y = data.x_train, data.y_train
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    return export_with_model(model, data.x_train), data.x_test, data.y_test


def test_softmax_exports_bit_exactly(trained) -> None:
    result, x_test, _ = trained
    spec = result.spec
    sm = [layer.kind for layer in spec.layers if layer.name.startswith("sm")]
    assert sm == KINDS
    assert spec.required_version == 2
    assert verify(result.model64, spec, x_test) == len(x_test)
    wide = np.random.default_rng(SEED).uniform(-1, 2, size=(300, 64))  # beyond calibration
    assert verify(result.model64, spec, wide) == 300
    assert verify(result.model64, loads(dumps(spec)), x_test[:50]) == 50


def test_random_spec_draws_the_softmax_block_this_export_writes(trained) -> None:
    """``random_spec(softmax=...)`` fuzzes exactly this subgraph: names, kinds and wiring."""
    from hgq_hw.random_spec import random_spec
    from tests.hw.test_random_softmax import SOFTMAX_LAYERS

    exported = [la for la in trained[0].spec.layers if la.name.startswith("sm")]
    assert [(la.name, la.kind) for la in exported] == SOFTMAX_LAYERS
    drawn = {la.name: la for la in random_spec(3, softmax=1.0).layers}
    for layer in exported[1:]:
        assert drawn[layer.name].inputs == layer.inputs, layer.name


def test_hardware_argmax_equals_reference_argmax(trained) -> None:
    result, x_test, y_test = trained
    spec = result.spec
    raw = quantize_inputs(spec, x_test)
    reference = np.asarray(evaluate(spec, raw), dtype=object).reshape(len(raw), -1)
    hardware = np.asarray(plan_network(spec, pipeline_levels=2)(raw), dtype=object)
    out_type = infer_types(spec)[spec.output.name]
    ref_class = [argmax_exact(r, out_type) for r in reference]
    hw_class = [argmax_exact(h, out_type) for h in hardware]
    accuracy = float(np.mean(np.array(hw_class) == y_test))
    print(f"{len(x_test)} test samples; hardware-softmax accuracy {accuracy:.3f}")
    assert hw_class == ref_class
    assert np.array_equal(hardware, reference)
    assert accuracy > 0.5  # two epochs learn the digits far beyond chance (0.1)


def test_ebops_count_tables_multiply_and_reductions(trained) -> None:
    result, _, _ = trained
    types = infer_types(result.spec)
    width = {name: np.asarray(t.width, dtype=np.float64).reshape(-1) for name, t in types.items()}
    n = 10
    expected = (
        table_bits(width["sm_exp_in"], width["sm_exp"])
        + table_bits(width["sm_recip_in"], width["sm_recip"])
        + float(np.sum(width["sm_exp"] * width["sm_recip"][0]))
        + (n - 1) * (np.max(width["sm_in"]) + np.max(width["sm_exp"]))
    )
    got = ebops_per_layer(result.model64, exact=True)["sm"]
    print(f"softmax EBOPs {got}")
    assert got == pytest.approx(expected, rel=1e-12)
    assert got > 0


def test_softmax_config_round_trip_and_save(trained, tmp_path) -> None:
    result, x_test, _ = trained
    layer = result.model64.get_layer("sm")
    config = layer.get_config()
    clone = QSoftmax.from_config(config)
    assert clone.get_config() == config
    assert clone.exp_table.name == "sm_exp" and clone.recip_table.name == "sm_recip"
    path = tmp_path / "m.keras"
    result.model64.save(path)
    loaded = keras.models.load_model(path)
    a = result.model64.predict(x_test[:64].astype(np.float64), verbose=0)
    b = loaded.predict(x_test[:64].astype(np.float64), verbose=0)
    assert np.array_equal(a, b)


def test_softmax_refuses_images() -> None:
    with pytest.raises(ValueError, match=r"QSoftmax 'bad' needs inputs of shape \(batch, n\)"):
        QSoftmax(name="bad").build((None, 4, 3))


def test_mlp_softmax_preset_ends_with_qsoftmax_and_trains_on_probabilities() -> None:
    from hgq_train.models import build_model, resolve_model_config

    config = resolve_model_config("mlp-softmax", 64, 10)
    model = build_model(config, 64, 10, image_shape=None)
    assert isinstance(model.layers[-1], QSoftmax) and model.layers[-1].overflow.value == "SAT"
    loss = compile_hgq(model)
    assert loss.task_name == "sparse_categorical_crossentropy"
    logits = build_model(resolve_model_config("digits", 64, 10), 64, 10, image_shape=None)
    assert compile_hgq(logits).task_name == "sparse_categorical_crossentropy_logits"
