"""``benchmarks/peers/fit_common.py``: the optimizer and epoch timer both sides of
``hgq2_vs_ours.py`` fit with (``--lr-schedule``)."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "peers"))

from fit_common import EpochTimes, adam, steps_per_epoch


def test_steps_per_epoch_counts_the_partial_last_batch() -> None:
    assert steps_per_epoch(1293, 64) == 21
    assert steps_per_epoch(128, 64) == 2
    with pytest.raises(ValueError, match="batch_size >= 1"):
        steps_per_epoch(10, 0)


def _rate(optimizer: keras.optimizers.Optimizer, step: int) -> float:
    """The optimizer's learning rate after ``step`` steps."""
    optimizer.iterations.assign(step)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def test_adam_is_constant_without_a_schedule_and_cosine_with_one() -> None:
    assert _rate(adam(3e-3, None, 100), 50) == pytest.approx(3e-3)
    cosine = adam(3e-3, 0.1, 100)
    # cosine from lr to 0.1 lr: halfway it is (1 + 0.1) / 2 of lr, at the end and after 0.1 lr
    assert _rate(cosine, 0) == pytest.approx(3e-3)
    assert _rate(cosine, 50) == pytest.approx(3e-3 * 0.55, rel=1e-5)
    assert _rate(cosine, 100) == pytest.approx(3e-4, rel=1e-5)
    assert _rate(cosine, 250) == pytest.approx(3e-4, rel=1e-5)
    for final, steps in ((1.0, 100), (-0.5, 100), (0.1, 0)):
        with pytest.raises(ValueError, match="cosine to"):
            adam(3e-3, final, steps)


@pytest.mark.usefixtures("op_determinism")
def test_epoch_times_records_one_positive_time_per_epoch() -> None:
    model = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=adam(1e-2, 0.0, 6), loss="mse")
    timer = EpochTimes()
    x = np.zeros((8, 2), np.float32)
    model.fit(x, x[:, :1], epochs=3, batch_size=4, callbacks=[timer], verbose=0)
    assert len(timer.seconds) == 3 and min(timer.seconds) > 0
    # 6 steps of the cosine: the rate reached its floor, 0
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.0)
