"""``benchmarks/{digits,jets}/sweep.toml`` are the points of ``benchmarks/*/sweep.py``."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hgqflow.sweep.config import load_config
from hgqflow.sweep.points import expand_points

ROOT = Path(__file__).resolve().parents[2]


def _script_defaults() -> dict:
    spec = importlib.util.spec_from_file_location("jets_sweep", ROOT / "benchmarks/jets/sweep.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULTS


@pytest.mark.parametrize("dataset", ["digits", "jets"])
def test_sweep_config_has_the_scripts_points(dataset: str) -> None:
    script = _script_defaults()[dataset]
    config = load_config(ROOT / "benchmarks" / dataset / "sweep.toml")
    points = expand_points(config)
    assert [p.settings["beta"] for p in points] == script["betas"].split(",")
    for point in points:
        s = point.settings
        assert (s["dataset"], s["model"], s["epochs"]) == (
            dataset,
            script["model"],
            script["epochs"],
        )
        assert (s["batch_size"], s["lr"], s["seed"]) == (script["batch_size"], script["lr"], 0)
        assert (s["target"], s["pipeline_levels"], s["clock_mhz"]) == ("xc7", 2, 200.0)
    assert config.stages == ("train", "export", "gen", "sim", "synth")
