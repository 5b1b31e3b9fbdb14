"""``benchmarks/{digits,jets}/sweep.toml`` are the points of ``benchmarks/*/sweep.py``: the
script builds its points from the config (one definition), so with no options it trains exactly
the points ``hgq sweep`` runs (the same ids, the same settings)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from hgqflow.sweep.config import load_config
from hgqflow.sweep.points import expand_points

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jets_sweep", ROOT / "benchmarks/jets/sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dataset", ["digits", "jets"])
def test_sweep_config_has_the_scripts_points(dataset: str) -> None:
    script = _script()
    defaults = script.DEFAULTS[dataset]
    config = load_config(ROOT / "benchmarks" / dataset / "sweep.toml")
    points = expand_points(config)
    assert [p.settings["beta"] for p in points] == defaults["betas"].split(",")
    for point in points:
        s = point.settings
        assert (s["dataset"], s["model"], s["epochs"]) == (
            dataset,
            defaults["model"],
            defaults["epochs"],
        )
        assert (s["batch_size"], s["lr"], s["seed"]) == (defaults["batch_size"], defaults["lr"], 0)
        assert (s["target"], s["pipeline_levels"], s["clock_mhz"]) == ("xc7", 2, 200.0)
        assert (s["jit"], s["deterministic"]) == (True, True)
    assert config.stages == ("train", "export", "gen", "sim", "synth")
    scripted = script.sweep_points(script._options([], dataset))
    assert [(p.id, p.settings) for p in scripted] == [(p.id, p.settings) for p in points]


def test_script_options_change_the_points_as_the_config_would(tmp_path: Path) -> None:
    script = _script()
    model = tmp_path / "tiny.toml"
    model.write_text("hidden = [8]\n", encoding="utf-8")
    argv = ["--model", str(model), "--epochs", "3", "--seed", "4", "--no-jit", "--betas", "1e-5"]
    (point,) = script.sweep_points(script._options([*argv, "--no-deterministic"], "digits"))
    s = point.settings
    assert (s["model"], s["epochs"], s["seed"], s["beta"]) == (str(model), 3, 4, "1e-5")
    assert (s["jit"], s["deterministic"], s["batch_size"], s["lr"]) == (False, False, 32, 5e-3)
    (kept,) = script.sweep_points(script._options(argv, "digits"))
    assert kept.settings["deterministic"] is True and kept.id != point.id
