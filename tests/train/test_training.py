"""Training behaviour: beta trades accuracy for EBOPs, pruning appears, models save and reload,
beta schedules, the controller and the Pareto front."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import hgq_train
from hgq_train.callbacks import (
    BetaController,
    BetaSchedule,
    ParetoFront,
    dominates,
    hgq_callbacks,
    parse_beta_schedule,
)
from hgq_train.ebops import ebops
from hgq_train.export import export_with_model
from hgq_train.models import MLPConfig, build_mlp
from hgq_train.training import HGQLoss, compile_hgq, get_hgq_loss


def _train(digits, beta: float, epochs: int = 4) -> tuple[keras.Model, dict]:
    keras.utils.set_random_seed(0)
    model = build_mlp(MLPConfig(hidden=(16,)), digits.n_features, digits.n_classes)
    compile_hgq(model, beta=beta, learning_rate=1e-2)
    history = model.fit(
        digits.x_train,
        digits.y_train,
        validation_data=(digits.x_val, digits.y_val),
        epochs=epochs,
        batch_size=32,
        callbacks=hgq_callbacks(str(beta)),
        verbose=0,
    )
    return model, history.history


@pytest.fixture(scope="module")
def beta_sweep(digits):
    out = {}
    for beta in (1e-7, 1e-5, 1e-3):
        model, history = _train(digits, beta)
        result = export_with_model(model, digits.x_train)
        meta = result.spec.metadata
        out[beta] = {
            "ebops": result.ebops,
            "pruned": meta["pruned_weights"] / meta["weights"],
            "history": history,
            "model": model,
        }
    return out


def test_larger_beta_gives_lower_ebops(beta_sweep) -> None:
    values = [beta_sweep[b]["ebops"] for b in sorted(beta_sweep)]
    assert values[0] > values[1] > values[2], values


def test_pruning_appears_and_grows_with_beta(beta_sweep) -> None:
    assert beta_sweep[1e-3]["pruned"] > beta_sweep[1e-7]["pruned"]
    assert beta_sweep[1e-3]["pruned"] > 0.02


def test_history_logs_ebops_and_beta(beta_sweep) -> None:
    history = beta_sweep[1e-5]["history"]
    assert len(history["ebops"]) == 4 and all(v > 0 for v in history["ebops"])
    assert history["beta"] == pytest.approx([1e-5] * 4)
    assert history["accuracy"][-1] > 0.8  # it learns


def test_save_and_load_predict_identically(beta_sweep, digits, tmp_path) -> None:
    model = beta_sweep[1e-5]["model"]
    path = tmp_path / "model.keras"
    model.save(path)
    again = hgq_train.load_model(str(path))
    x = digits.x_test
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [type(layer).__name__ for layer in again.layers] == [
        type(layer).__name__ for layer in model.layers
    ]


def test_batch_norm_model_trains_and_reloads(digits, tmp_path) -> None:
    model = build_mlp(MLPConfig(hidden=(8,), batch_norm=True), 64, 10)
    compile_hgq(model, beta=1e-6, learning_rate=1e-2)
    model.fit(digits.x_train[:256], digits.y_train[:256], epochs=1, batch_size=64, verbose=0)
    bn = model.get_layer("dense0")
    assert not np.allclose(np.asarray(bn.moving_mean), 0)  # the statistics moved
    model.save(tmp_path / "bn.keras")
    again = hgq_train.load_model(str(tmp_path / "bn.keras"))
    x = digits.x_val
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))


@pytest.mark.parametrize(
    ("text", "epoch", "want"),
    [
        ("1e-6", 7, 1e-6),
        ("linear:0:1e-5", 0, 0.0),
        ("linear:0:1e-5", 5, 5e-6),
        ("linear:0:1e-5", 10, 1e-5),
        ("log:1e-7:1e-5", 5, 1e-6),
        ("linear:1e-7:1e-5:2:4", 1, 1e-7),
        ("linear:1e-7:1e-5:2:4", 3, 5.05e-6),
        ("linear:1e-7:1e-5:2:4", 9, 1e-5),
        ("target:500:1e-6", 3, 1e-6),
    ],
)
def test_beta_schedules(text: str, epoch: int, want: float) -> None:
    assert parse_beta_schedule(text)(epoch, 11) == pytest.approx(want)


@pytest.mark.parametrize("text", ["", "fast", "linear:1", "log:0:1e-5", "linear:a:b", "-1"])
def test_bad_beta_schedules_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="beta"):
        parse_beta_schedule(text)


def test_beta_controller_steers_towards_the_target() -> None:
    model = build_mlp(MLPConfig(hidden=(4,)), 8, 2)
    loss = compile_hgq(model, beta=1e-6)
    model(np.random.default_rng(0).normal(size=(16, 8)), training=True)  # record ranges
    current = ebops(model)
    for target, direction in ((current / 10, 1), (current * 10, -1)):
        loss.beta.assign(1e-6)
        controller = BetaController(target, factor=2.0)
        controller.set_model(model)
        controller.on_epoch_end(0, {})
        got = float(np.asarray(loss.beta))
        assert got == pytest.approx(1e-6 * 2.0**direction)


def test_pareto_front_keeps_only_non_dominated(tmp_path) -> None:
    model = build_mlp(MLPConfig(hidden=(4,)), 8, 2)
    front = ParetoFront(tmp_path / "pareto")
    front.set_model(model)
    points = [(0.5, 100.0), (0.6, 90.0), (0.7, 200.0), (0.65, 200.0), (0.55, 50.0)]
    for epoch, (acc, cost) in enumerate(points):
        front.on_epoch_end(epoch, {"val_accuracy": acc, "ebops": cost})
    kept = {(p["val_accuracy"], p["ebops"]) for p in front.front}
    assert kept == {(0.6, 90.0), (0.7, 200.0), (0.55, 50.0)}
    files = sorted(p.name for p in (tmp_path / "pareto").glob("*.keras"))
    assert files == ["epoch0001.keras", "epoch0002.keras", "epoch0004.keras"]
    index = json.loads((tmp_path / "pareto" / "front.json").read_text())
    assert [p["epoch"] for p in index] == [4, 1, 2]  # sorted by EBOPs
    assert dominates((0.6, 90.0), (0.5, 100.0)) and not dominates((0.5, 100.0), (0.5, 100.0))
    with pytest.raises(ValueError, match="EBOPsLogger"):
        front.on_epoch_end(5, {"val_accuracy": 0.9})


def test_loss_needs_hgq_compile_and_serializes() -> None:
    model = build_mlp(MLPConfig(hidden=(4,)), 8, 2)
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="not compiled with an HGQLoss"):
        get_hgq_loss(model)
    loss = HGQLoss(beta=3e-6)
    again = HGQLoss.from_config(loss.get_config())
    assert float(np.asarray(again.beta)) == pytest.approx(3e-6) and again.model is None
    with pytest.raises(ValueError, match="beta must be >= 0"):
        HGQLoss(beta=-1.0)
    assert BetaSchedule("constant", 1.0, 1.0)(3, 5) == 1.0


def test_train_dataset_reshuffles_every_epoch_and_covers_the_data() -> None:
    from hgq_train.training import train_dataset

    x = np.arange(10, dtype=np.float64)[:, None]
    ds = train_dataset(x, np.arange(10), batch_size=4, seed=1)
    epochs = []
    for _ in range(2):
        batches = [(bx.numpy(), by.numpy()) for bx, by in ds]
        assert [len(by) for _, by in batches] == [4, 4, 2]
        assert all(bx.dtype == np.float32 for bx, _ in batches)
        order = np.concatenate([by for _, by in batches])
        np.testing.assert_array_equal(np.concatenate([bx[:, 0] for bx, _ in batches]), order)
        assert sorted(order.tolist()) == list(range(10))
        epochs.append(order.tolist())
    assert epochs[0] != epochs[1]
    with pytest.raises(ValueError, match="equally long"):
        train_dataset(x, np.arange(9))


def test_fit_on_train_dataset_matches_the_training_setup(digits) -> None:
    from hgq_train.training import train_dataset

    keras.utils.set_random_seed(0)
    model = build_mlp(MLPConfig(hidden=(8,)), digits.n_features, digits.n_classes)
    compile_hgq(model, beta=1e-6, learning_rate=1e-2)
    ds = train_dataset(digits.x_train[:200], digits.y_train[:200], batch_size=32)
    history = model.fit(ds, epochs=2, shuffle=False, callbacks=hgq_callbacks("1e-6"), verbose=0)
    logs = history.history
    # 200 samples in batches of 32: 7 steps per epoch, each sample seen once per epoch (the
    # accuracy is a count out of 200), at the beta the schedule gives
    assert int(model.optimizer.iterations) == 2 * 7
    for accuracy in logs["accuracy"]:
        assert accuracy * 200 == pytest.approx(round(accuracy * 200), abs=1e-4)
    assert logs["beta"] == [float(np.float32(1e-6))] * 2
    assert sorted(logs) == ["accuracy", "beta", "ebops", "loss"]
    # the logged EBOPs are the model's after the epoch
    assert logs["ebops"][-1] == ebops(model)


def test_several_steps_per_execution_need_xla() -> None:
    model = build_mlp(MLPConfig(hidden=(4,)), 8, 3)
    with pytest.raises(ValueError, match="needs jit_compile=True"):
        compile_hgq(model, steps_per_execution=8)
    compile_hgq(model, steps_per_execution=8, jit_compile=True)
    assert model.steps_per_execution == 8


def test_an_xla_trained_model_exports_bit_exactly(digits) -> None:
    """``jit_compile=True`` (what the CLI defaults to) trains a model whose spec reproduces the
    float64 model on every calibration sample, and the float32 XLA-trained model itself agrees
    with the float64 copy on the test split."""
    from hgq_train.export import verify

    keras.utils.set_random_seed(0)
    print("seed 0")
    model = build_mlp(MLPConfig(hidden=(8,)), digits.n_features, digits.n_classes)
    compile_hgq(model, beta=1e-5, learning_rate=1e-2, jit_compile=True, steps_per_execution=4)
    model.fit(
        digits.x_train,
        digits.y_train,
        epochs=3,
        batch_size=32,
        callbacks=hgq_callbacks("1e-5"),
        verbose=0,
    )
    result = export_with_model(model, digits.x_train)
    assert verify(result.model64, result.spec, digits.x_train) == len(digits.x_train)
    y32 = model.predict(digits.x_test, verbose=0)
    y64 = result.model64.predict(digits.x_test, verbose=0)
    np.testing.assert_array_equal(y32, y64.astype("float32"))
