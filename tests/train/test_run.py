"""hgq_train.run: the XLA fallback (pure logic, then through a real run) and options checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hgq_train.run import TrainOptions, fit_with_xla_fallback


class CompileError(RuntimeError):
    pass


def _fallback(fit, *, jit=True, started=False):
    said: list[str] = []
    recompiled: list[bool] = []
    result = fit_with_xla_fallback(
        fit,
        lambda: recompiled.append(True),
        jit=jit,
        started=lambda: started,
        is_compile_error=lambda err: isinstance(err, CompileError),
        say=said.append,
    )
    return result, said, recompiled


def test_fallback_only_for_a_compile_error_before_any_step() -> None:
    assert _fallback(lambda: "fit") == (("fit", True), [], [])

    calls: list[int] = []

    def fails_once() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise CompileError("Detected unsupported operations on XLA_CPU_JIT\nmore detail")
        return "fit"

    result, said, recompiled = _fallback(fails_once)
    assert result == ("fit", False) and recompiled == [True] and len(calls) == 2
    assert said == [
        "XLA could not compile the model (CompileError: Detected unsupported operations on "
        "XLA_CPU_JIT); training without it"
    ]

    def always(err: Exception):
        def fit() -> str:
            raise err

        return fit

    with pytest.raises(CompileError):  # training had started: never restart silently
        _fallback(always(CompileError("late")), started=True)
    with pytest.raises(KeyError):  # not a compile error
        _fallback(always(KeyError("data")))
    with pytest.raises(CompileError):  # XLA was off: nothing to fall back from
        _fallback(always(CompileError("x")), jit=False)


def test_options_are_checked_before_training(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--epochs must be >= 1, got 0"):
        TrainOptions(out=tmp_path, epochs=0).check()
    with pytest.raises(ValueError, match="--batch-size must be >= 1"):
        TrainOptions(out=tmp_path, batch_size=0).check()
    with pytest.raises(FileNotFoundError, match=r"dataset file .*none\.npz does not exist"):
        TrainOptions(out=tmp_path, dataset=str(tmp_path / "none.npz")).check()
    with pytest.raises(FileNotFoundError, match=r"model file .*m\.toml does not exist"):
        TrainOptions(out=tmp_path, model=str(tmp_path / "m.toml")).check()


def test_run_falls_back_when_xla_fails(tmp_path: Path, monkeypatch, capsys) -> None:
    import keras
    import tensorflow as tf

    from hgq_train.run import run_training

    original = keras.Model.fit
    seen: list[bool] = []

    def fit(self, *args, **kwargs):
        seen.append(bool(self.jit_compile))
        if self.jit_compile:  # what a model XLA cannot compile does at its first step
            raise tf.errors.InvalidArgumentError(None, None, "unsupported op on XLA_CPU_JIT")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", fit)
    result = run_training(
        TrainOptions(
            out=tmp_path / "run",
            model="digits",
            epochs=1,
            seed=1,
            verbose=0,
            weight_f_init=3.0,
            sign_bits=True,
        )
    )
    out = capsys.readouterr().out
    assert seen == [True, False]
    assert "XLA could not compile the model (InvalidArgumentError: unsupported op" in out
    assert result.jit is False and result.epochs_done == 1 and result.resumed_from == 0
    assert result.model_path.exists() and result.history_path.exists()
    assert result.test_accuracy is not None and 0.0 < result.test_accuracy <= 1.0
    config = json.loads((tmp_path / "run" / "config.json").read_text())["model_config"]
    # the overrides replace the digits preset's weight start (2) and sign-bit count (off)
    assert config["weight_f_init"] == 3.0 and config["sign_bits"] is True
    assert config["hidden"] == [32] and config["grad_scale_on"] == "ebops"


def test_method_and_export_options_map_to_the_library() -> None:
    from hgqflow.cli import build_parser
    from hgqflow.cli.train import export_kwargs, train_options

    parser = build_parser()
    args = parser.parse_args(
        ["train", "--out", "r", "--sign-bits", "--weight-f-init", "2.5", "--grad-scale-on", "task"]
    )
    options = train_options(args)
    assert options.model_overrides() == {
        "sign_bits": True,
        "weight_f_init": 2.5,
        "grad_scale_on": "task",
    }
    assert options.cost == "ebops"
    plain = train_options(parser.parse_args(["train", "--out", "r", "--cost", "luts"]))
    assert plain.model_overrides() == {} and plain.cost == "luts"
    with pytest.raises(ValueError, match="--cost must be ebops or luts"):
        TrainOptions(out=Path("r"), cost="adders").check()
    args = parser.parse_args(["export", "m.keras", "-o", "s.json"])
    assert export_kwargs(args) == {"calibration_margin_bits": 0, "fold_rounding": True}
    args = parser.parse_args(
        [
            "export",
            "m.keras",
            "-o",
            "s.json",
            "--calibration-margin-bits",
            "2",
            "--no-fold-rounding",
        ]
    )
    assert export_kwargs(args) == {"calibration_margin_bits": 2, "fold_rounding": False}
    args = parser.parse_args(
        ["export", "m.keras", "-o", "s.json", "--calibration-margin-bits", "-1"]
    )
    with pytest.raises(ValueError, match="--calibration-margin-bits must be >= 0, got -1"):
        export_kwargs(args)
    flow = parser.parse_args(["flow", "--weight-init-bits", "3", "--no-fold-rounding"])
    assert flow.weight_init_bits == 3.0 and flow.fold_rounding is False
    with pytest.raises(ValueError, match="--weight-init-bits must be >= 0"):
        TrainOptions(out=Path("r"), weight_init_bits=-1).check()


def test_cnn_run_trains_resumes_and_exports_bit_exactly(tmp_path: Path) -> None:
    """``hgq train --model cnn``: the digits as 8x8x1 images, one epoch, resumed for a second,
    then ``hgq export``'s path (calibration on the training split, bit-exact proof)."""
    from hgq_train.run import export_checkpoint, run_training

    seed = 3
    print(f"seed {seed}")
    run = tmp_path / "run"
    first = run_training(
        TrainOptions(out=run, model="cnn", epochs=1, seed=seed, verbose=0, jit=False)
    )
    config = json.loads((run / "config.json").read_text())["model_config"]
    assert config["filters"] == [4, 8] and config["pool"] == [2, 0]
    second = run_training(
        TrainOptions(out=run, model="cnn", epochs=2, seed=seed, verbose=0, resume=True, jit=False)
    )
    assert (first.epochs_done, second.epochs_done, second.resumed_from) == (1, 2, 1)
    exported = export_checkpoint(run / "model.keras", tmp_path / "cnn.json", say=lambda _: None)
    assert exported.checked == 1293  # every training sample, bit for bit
    assert exported.spec.input_shape == (8, 8, 1)
    assert [layer.kind for layer in exported.spec.layers][:5] == [
        "Input", "Conv", "ReLU", "Requantize", "MaxPool"
    ]  # fmt: skip


def test_lr_schedule_is_checked_and_reaches_every_front_end() -> None:
    from hgqflow.cli import build_parser
    from hgqflow.cli.train import train_options

    parser = build_parser()
    assert train_options(parser.parse_args(["train", "--out", "r"])).lr_schedule == "constant"
    args = parser.parse_args(["train", "--out", "r", "--lr-schedule", "cosine:0.1"])
    assert train_options(args).lr_schedule == "cosine:0.1"
    assert parser.parse_args(["flow", "--lr-schedule", "cosine"]).lr_schedule == "cosine"
    bad = train_options(parser.parse_args(["train", "--out", "r", "--lr-schedule", "cosine:1"]))
    with pytest.raises(ValueError, match="'cosine:1': expected 'constant', 'cosine' or 'cosine:F'"):
        bad.check()
    with pytest.raises(ValueError, match="--lr-schedule 'step'"):
        TrainOptions(out=Path("r"), lr_schedule="step").check()


def test_cosine_run_ends_at_its_floor_and_resume_keeps_the_horizon(
    tmp_path: Path, monkeypatch
) -> None:
    """``--lr-schedule cosine:0.25`` over 2 epochs, stopped after its first committed epoch
    and resumed: the saved rate is halfway down the cosine then (0.625 x lr) and at its floor
    (0.25 x lr) after the last step, as in one run of 2 epochs."""
    import keras

    import hgq_train.run_state
    from hgq_train.run import run_training

    seed = 3
    print(f"seed {seed}")
    run = tmp_path / "run"
    options = dict(out=run, model="digits", epochs=2, seed=seed, verbose=0, jit=False)
    options.update(lr=4e-3, lr_schedule="cosine:0.25")

    def saved_rate() -> float:
        model = keras.models.load_model(run / "model.keras", compile=True)
        return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))

    class Stop(Exception):
        pass

    commit = hgq_train.run_state.commit_epoch

    def commit_then_stop(run_dir, save_model, history, state) -> None:
        commit(run_dir, save_model, history, state)
        raise Stop  # as if killed right after epoch 0 was committed

    monkeypatch.setattr(hgq_train.run_state, "commit_epoch", commit_then_stop)
    with pytest.raises(Stop):
        run_training(TrainOptions(**options))
    monkeypatch.setattr(hgq_train.run_state, "commit_epoch", commit)
    assert saved_rate() == pytest.approx(0.625 * 4e-3, rel=1e-5)
    assert json.loads((run / "config.json").read_text())["lr_schedule"] == "cosine:0.25"
    resumed = run_training(TrainOptions(**options, resume=True))
    assert resumed.resumed_from == 1 and resumed.epochs_done == 2
    assert saved_rate() == pytest.approx(0.25 * 4e-3, rel=1e-5)
