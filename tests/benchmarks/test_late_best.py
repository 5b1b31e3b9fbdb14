"""``benchmarks/peers/late_best.py``: the checkpoint rule of ``hgq2_vs_ours.py --select late:N``
(best validation accuracy of the last N epochs, ties to fewer EBOPs, then the later epoch) and
its callback putting the chosen epoch's weights back."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks" / "peers"))

from late_best import EpochRecord, LateBest, choose


def test_choose_takes_accuracy_then_fewer_ebops_then_the_later_epoch() -> None:
    a = EpochRecord(10, 0.90, 500.0)
    b = EpochRecord(11, 0.92, 800.0)
    c = EpochRecord(12, 0.92, 700.0)
    d = EpochRecord(13, 0.92, 700.0)
    assert choose([a, b]) is b
    assert choose([a, b, c]) is c
    assert choose([d, c, b, a]) is d
    with pytest.raises(ValueError, match="no epoch"):
        choose([])


class _Marked(keras.layers.Layer):
    """Identity with a non-trainable ``marker`` that the test sets to the epoch number."""

    def build(self, input_shape: Any) -> None:
        self.marker = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, x: Any) -> Any:
        return x


class _Script(keras.callbacks.Callback):
    """Marks the weights with the epoch and logs the given EBOPs per epoch."""

    def __init__(self, ebops: dict[int, float]) -> None:
        super().__init__()
        self.ebops = ebops

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.model.layers[-1].marker.assign(float(epoch))
        assert logs is not None
        logs["ebops"] = self.ebops.get(epoch, 1e9)


pytestmark = pytest.mark.usefixtures("op_determinism")


def _model(seed: int) -> keras.Model:
    from hgq_train.determinism import seed_training

    seed_training(seed, deterministic=True)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), _Marked()])
    # learning rate 0: every epoch predicts the same, so the EBOPs alone decide
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    return model


def test_late_best_puts_back_the_chosen_epoch_and_scores_only_the_window() -> None:
    seed = 3
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 3, 32)
    model = _model(seed)
    select = LateBest(x[:8], y[:8], window=3)
    # epochs 0..5; the window is 3..5; epoch 4 has the fewest EBOPs of the window (epoch 1 fewer)
    script = _Script({1: 1.0, 3: 30.0, 4: 20.0, 5: 20.5})
    model.fit(x, y, epochs=6, batch_size=8, callbacks=[script, select], verbose=0)
    assert [r.epoch for r in select.records] == [3, 4, 5]
    assert len({r.val_accuracy for r in select.records}) == 1
    assert select.chosen == select.records[1]
    assert float(model.layers[-1].marker.numpy()) == 4.0  # not the last epoch's 5
    summary = select.summary()
    assert summary["selected_epoch"] == 4
    assert summary["val_ebops"] == 20.0
    assert summary["val_samples"] == 8


def test_late_best_needs_ebops_in_the_logs() -> None:
    x, y = np.zeros((4, 4), "float32"), np.zeros(4, int)
    model = _model(0)
    with pytest.raises(ValueError, match="needs 'ebops'"):
        model.fit(x, y, epochs=1, callbacks=[LateBest(x, y, window=1)], verbose=0)
    with pytest.raises(ValueError, match="window must be positive"):
        LateBest(x, y, window=0)
