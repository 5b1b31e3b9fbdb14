"""``hgq train`` and ``hgq export`` end to end on digits (a couple of epochs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import hgq_train
from hgq_hw.spec import load
from hgqflow.cli import main


def test_train_export_resume_end_to_end(tmp_path, capsys) -> None:
    run = tmp_path / "run"
    args = [
        *("train", "--dataset", "digits", "--model", "digits", "--epochs", "2"),
        *("--beta", "linear:1e-6:1e-5", "--out", str(run), "--seed", "3", "--verbose", "0"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "seed 3" in out and "test accuracy" in out
    assert (run / "model.keras").exists() and (run / "config.json").exists()
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [0, 1]
    assert {"loss", "accuracy", "val_accuracy", "ebops", "beta"} <= set(history[0])
    assert history[0]["beta"] == pytest.approx(1e-6) and history[1]["beta"] == pytest.approx(1e-5)
    front = json.loads((run / "pareto" / "front.json").read_text())
    assert front and all((run / "pareto" / p["file"]).exists() for p in front)

    # resume: two more epochs continue the history
    assert main([*args[:-6], "--epochs", "3", "--out", str(run), "--resume", "--verbose", "0"]) == 0
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert "resuming" in capsys.readouterr().out
    resumed = hgq_train.load_model(str(run / "model.keras"), compile=True)
    assert int(resumed.optimizer.iterations) == 3 * 21  # 1293 samples / 64: the state was kept
    # a non-empty run directory without --resume is refused
    assert main(args) == 1

    spec_path = tmp_path / "spec.json"
    assert (
        main(["export", str(run / "model.keras"), "-o", str(spec_path), "--overflow", "SAT"]) == 0
    )
    out = capsys.readouterr().out
    assert "bit-exact against the Keras model (float64) on 1293 calibration samples" in out
    assert "EBOPs" in out and "pruned" in out
    spec = load(spec_path)
    assert spec.metadata["dataset"] == "digits" and spec.metadata["beta"] == "linear:1e-6:1e-5"
    assert spec.metadata["epochs"] == 2 and spec.input_shape == (64,)
    pareto = run / "pareto" / front[0]["file"]
    assert main(["export", str(pareto), "-o", str(tmp_path / "p.json"), "--dataset", "digits"]) == 0


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["train", "--out", str(tmp_path / "r"), "--beta", "fast"]) == 1
    assert "bad beta schedule" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nope.keras"), "-o", str(tmp_path / "s.json")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_cli_import_stays_light() -> None:
    probe = (
        "import sys, hgq_train, hgqflow.cli.train; "
        "sys.exit(1 if 'tensorflow' in sys.modules or 'keras' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", probe], timeout=120).returncode == 0


@pytest.mark.parametrize("command", [["train", "--out", "run"], ["flow"]])
def test_xla_is_the_default_and_jit_is_an_alias(command: list[str]) -> None:
    from hgqflow.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(command).jit is True
    assert parser.parse_args([*command, "--jit"]).jit is True
    assert parser.parse_args([*command, "--no-jit"]).jit is False
