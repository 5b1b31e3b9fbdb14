"""hgq_train.determinism: the same seed trains the same weights bit for bit (XLA included), a
different seed different ones, and the process-wide switch is restored after a run."""

from __future__ import annotations

import hashlib
import threading

import numpy as np
import pytest

SEED = 7


def _digests(model) -> list[tuple[str, str]]:
    """``(variable path, SHA-256 of its bytes)`` for every variable of ``model``, in order (so a
    mismatch names the variables that differ)."""
    return [
        (v.path, hashlib.sha256(np.ascontiguousarray(np.asarray(v)).tobytes()).hexdigest())
        for v in model.variables
    ]


def _differing(a: list[tuple[str, str]], b: list[tuple[str, str]]) -> list[str]:
    """Positions whose digests differ, named by both runs' variable paths."""
    if len(a) != len(b):
        return [f"{len(a)} variables against {len(b)}"]
    return [f"{pa} / {pb}" for (pa, da), (pb, db) in zip(a, b, strict=True) if da != db]


def _train(digits, seed: int, *, jit: bool) -> tuple[list[tuple[str, str]], float]:
    """Three epochs of a small MLP on 400 digits; the variables' digests and the final loss."""
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.determinism import kept_op_determinism, seed_training
    from hgq_train.models import MLPConfig, build_mlp
    from hgq_train.training import compile_hgq, train_dataset

    x, y = digits.x_train[:400], digits.y_train[:400]
    with kept_op_determinism():
        seed_training(seed, deterministic=True)
        model = build_mlp(MLPConfig(hidden=(8,), f_init=4.0), x.shape[1], digits.n_classes)
        fast = {"jit_compile": True, "steps_per_execution": 4} if jit else {"jit_compile": False}
        compile_hgq(model, beta=1e-4, **fast)
        assert bool(model.jit_compile) is jit  # XLA kept under op determinism
        hist = model.fit(
            train_dataset(x, y, batch_size=32, seed=seed),
            epochs=3,
            callbacks=hgq_callbacks("1e-4"),
            verbose=0,
            shuffle=False,
        )
    return _digests(model), float(hist.history["loss"][-1])


@pytest.mark.parametrize("jit", [True, False], ids=["xla", "plain"])
def test_same_seed_same_weights_other_seed_other_weights(digits, jit: bool) -> None:
    print(f"seeds {SEED}, {SEED + 1}")
    first, loss = _train(digits, SEED, jit=jit)
    again, loss_again = _train(digits, SEED, jit=jit)
    differing = _differing(first, again)
    threads = sorted(t.name for t in threading.enumerate())  # what else ran in the process
    assert not differing, (
        f"same seed, other values in {differing}; loss {loss!r} vs {loss_again!r}; "
        f"threads {threads}"
    )
    assert loss_again == loss
    if not jit:  # (one XLA compilation less: the seed reaches both paths the same way)
        other, _ = _train(digits, SEED + 1, jit=jit)
        assert _differing(first, other)


def test_switch_is_set_and_restored() -> None:
    from hgq_train.determinism import determinism_enabled, kept_op_determinism, seed_training

    before = determinism_enabled()
    with kept_op_determinism():
        seed_training(0, deterministic=True)
        assert determinism_enabled()
        seed_training(0, deterministic=False)
        assert not determinism_enabled()
    assert determinism_enabled() == before
    with pytest.raises(TypeError, match="seed must be an int"):
        seed_training(1.5)  # type: ignore[arg-type]


def test_cli_default_is_deterministic() -> None:
    from hgqflow.cli import build_parser
    from hgqflow.cli.train import train_options

    parser = build_parser()
    assert train_options(parser.parse_args(["train", "--out", "r"])).deterministic is True
    off = parser.parse_args(["train", "--out", "r", "--no-deterministic"])
    assert train_options(off).deterministic is False
    flow = parser.parse_args(["flow", "--out", "r", "--no-deterministic"])
    assert flow.deterministic is False
