"""The muon-tracker-shaped example (hgq_train.muon, examples/muon_tracker.py): its task is
deterministic, its functional model (Conv1D branches, tanh tables, a skip Add) trains, exports
bit-exactly, plans equal to the reference, and its Verilog is bit-exact on Icarus."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from hgq_hw.plan import plan_network
from hgq_hw.reference import evaluate, predict, quantize_inputs
from hgq_train.export import export_with_model, verify
from hgq_train.muon import MuonTask, build_muon_tracker, muon_hits, muon_metrics
from hgq_train.training import compile_hgq

SEED = 3


def test_hits_are_deterministic_and_follow_the_tracks() -> None:
    task = MuonTask(noise=0.0, efficiency=1.0)
    x, y = muon_hits(200, SEED, task)
    x2, y2 = muon_hits(200, SEED, task)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(muon_hits(200, SEED + 1, task)[1], y)
    assert x.shape == (200, 16, 3) and set(np.unique(x)) <= {0.0, 1.0}
    assert np.all(np.abs(y) <= task.max_slope)
    # without noise, one hit per plane (the margin keeps the tracks inside); the hit strips'
    # difference across the outer planes is the slope's, within the strips' granularity
    assert np.array_equal(x.sum(axis=1), np.ones((200, 3)))
    strip = np.argmax(x, axis=1)
    assert np.all(np.abs((strip[:, 2] - strip[:, 0]) / 2 - y) < 1.0)


def test_metrics_and_bad_arguments() -> None:
    m = muon_metrics(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.1, 1.0, 2.5, 3.0]))
    assert m.rms == pytest.approx(np.sqrt((0.01 + 0.25) / 4))
    assert m.within == 0.75 and m.samples == 4
    with pytest.raises(ValueError, match="one value per sample"):
        muon_metrics(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        muon_hits(0, SEED)
    with pytest.raises(ValueError, match="margin"):
        MuonTask(margin=8.0)


@pytest.fixture(scope="module")
def trained():
    print(f"seed {SEED}")
    keras.utils.set_random_seed(SEED)
    x, y = muon_hits(384, SEED)
    x_test, y_test = muon_hits(128, SEED + 1)
    model = build_muon_tracker()
    compile_hgq(model, beta=1e-6, learning_rate=3e-3, task="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=64, verbose=0)
    result = export_with_model(model, x)
    return result, x, x_test, y_test


def test_trains_exports_bit_exactly_and_plans_the_reference(trained) -> None:
    result, x, x_test, y_test = trained
    spec = result.spec
    kinds = [layer.kind for layer in spec.layers]
    assert kinds.count("Conv") == 3 and kinds.count("Table") == 3 and "Add" in kinds
    add = next(layer for layer in spec.layers if layer.kind == "Add")
    assert add.inputs == ("tanh0", "tanh1")  # the skip connection
    assert spec.input_shape == (16, 3)
    assert verify(result.model64, spec, np.concatenate([x, x_test])) == len(x) + len(x_test)
    raw = quantize_inputs(spec, x_test)
    plan = plan_network(spec, pipeline_levels=2)
    want = np.asarray(evaluate(spec, raw), dtype=object).reshape(len(raw), -1)
    assert np.array_equal(np.asarray(plan(raw.reshape(len(raw), -1)), dtype=object), want)
    metrics = muon_metrics(y_test, predict(spec, x_test))
    print(f"after 2 epochs: EBOPs {result.ebops:.0f}, {metrics.summary()}")
    assert metrics.samples == len(y_test) and result.ebops > 0


@pytest.mark.sim
def test_generated_verilog_is_bit_exact_on_icarus(trained, tmp_path: Path) -> None:
    from sim.design import generate_design
    from sim.runner import run_regression
    from tests.sim.conftest import require

    require("icarus")
    result, _, x_test, _ = trained
    design = generate_design(result.spec, tmp_path / "gen", pipeline_levels=2)
    sim = run_regression(
        result.spec,
        design,
        work_dir=tmp_path / "w",
        simulator="icarus",
        samples=40,
        seed=SEED,
        data=x_test[:40],
    )
    print(sim.summary())
    assert sim.passed, sim.summary()
    assert sim.mismatch_count == 0 and sim.checked >= sim.vectors
