"""`hgq doctor`, `hgq check`, `hgq eval`, `hgq random-spec` and the README's hand-written spec."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.reference import evaluate
from hgq_hw.spec import SpecError, load, loads
from hgqflow.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _readme_spec() -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(r"<!-- spec-example -->\s*```json\n(.*?)```", text, re.S)
    assert match, "README.md lost its spec example block"
    return match.group(1)


def test_readme_spec_loads_evaluates_and_corruption_names_field(tmp_path: Path) -> None:
    spec = loads(_readme_spec(), source="README.md")
    x = np.array([[-16, 15, 0], [5, -3, 31], [0, 0, 0]])
    # by hand: x = raw / 2**f = (-2, 1.875, 0), (0.625, -0.375, 1.9375), (0, 0, 0);
    # fc1 = (-1, 2.421875), (-0.7265625, 0.328125), (0.5, -0.75); ReLU; q1 raw at f = (2, 4)
    # with RND: (0, 38.75 -> 39), (0, 5.25 -> 5), (0.5 * 4 = 2, 0)
    assert evaluate(spec, x).tolist() == [[0, 39], [0, 5], [2, 0]]
    doc = json.loads(_readme_spec())
    doc["layers"][1]["bias_f"] = [1]  # one bias exponent for two outputs
    bad = tmp_path / "corrupt.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(SpecError) as info:
        load(bad)
    assert "field 'bias_f'" in str(info.value) and "layer 'fc1'" in str(info.value)
    assert str(bad) in str(info.value)
    assert main(["check", str(bad)]) == 1


def test_readme_example_matches_examples_folder() -> None:
    assert loads(_readme_spec()) == load(ROOT / "examples" / "specs" / "tiny.json")


def test_doctor_lists_every_tool(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["doctor"])
    out = capsys.readouterr().out
    for name in (
        "tensorflow-cpu",
        "amaranth",
        "cocotb",
        "verilator",
        "iverilog",
        "yosys",
        "nextpnr-ice40",
        "nextpnr-ecp5",
        "openFPGALoader",
    ):
        assert re.search(rf"(OK|MISSING)\s+{re.escape(name)}\b", out), name
    # exit 1 exactly when a tool is missing (CI installs everything through `make test`)
    assert status == (1 if re.search(r"^\s*MISSING\b", out, re.M) else 0), out
    last = out.rstrip().splitlines()[-1]
    assert last == "everything OK" if status == 0 else re.fullmatch(r"\d+ missing: .+", last)
    if os.environ.get("CI"):
        assert status == 0, out


def test_doctor_reports_missing_tool_with_hint(monkeypatch, capsys) -> None:
    monkeypatch.setenv("OPENFPGALOADER", "/nonexistent/openFPGALoader")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"MISSING\s+openFPGALoader", out)
    assert "apt-get install openfpgaloader" in out


def test_check_eval_and_random_spec(tmp_path: Path, capsys) -> None:
    path = tmp_path / "r.json"
    assert main(["random-spec", "-o", str(path), "--seed", "3", "--depth", "2"]) == 0
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Dense" in out and "Requantize" in out
    npy = tmp_path / "y.npy"
    assert main(["eval", str(path), "--random", "5", "--seed", "1", "-o", str(npy)]) == 0
    capsys.readouterr()
    assert main(["eval", str(path), "--random", "5", "--seed", "1"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if ":" not in line]
    assert np.load(npy).tolist() == [[int(v) for v in line.split(",")] for line in printed]
    assert len(printed) == 5
    # known inputs, known outputs (the README spec, computed by hand above)
    x = tmp_path / "x.npy"
    np.save(x, np.array([[-16, 15, 0], [5, -3, 31], [0, 0, 0]]))
    tiny = str(ROOT / "examples" / "specs" / "tiny.json")
    assert main(["eval", tiny, "--inputs", str(x), "-o", str(tmp_path / "tiny_y.npy")]) == 0
    assert np.load(tmp_path / "tiny_y.npy").tolist() == [[0, 39], [0, 5], [2, 0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "tiny_y.npy", "x.npy", "y.npy"]


def test_console_script_runs() -> None:
    exe = Path(sys.executable).parent / "hgq"
    if not exe.exists():
        pytest.skip("hgq console script not installed (run `make test`)")
    done = subprocess.run(
        [str(exe), "check", str(ROOT / "examples" / "specs" / "tiny.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "tiny" in done.stdout


@pytest.mark.parametrize(
    ("options", "kinds"),
    [
        (["--spatial", "2", "--conv-depth", "2"], {"Conv", "Reshape"}),
        (["--spatial", "1"], {"Conv", "Reshape"}),
        (["--merges", "3"], {"Add", "Subtract", "Multiply", "Concatenate"}),
        (["--table", "1"], {"Table"}),
    ],
)
def test_random_spec_draws_the_new_kinds(tmp_path: Path, options: list[str], kinds: set) -> None:
    """``--spatial`` gives convolutions (and a Reshape before the Dense chain), ``--merges`` at
    least one merging layer, ``--table 1`` tables; every such spec loads and evaluates."""
    from hgq_hw.inputs import random_raw
    from hgq_hw.reference import evaluate, input_bounds
    from hgq_hw.spec import load

    path = tmp_path / "r.json"
    for seed in range(3):
        assert main(["random-spec", "-o", str(path), "--seed", str(seed), *options]) == 0
        spec = load(path)
        drawn = {layer.kind for layer in spec.layers}
        if "--merges" in options:
            assert drawn & kinds, f"seed {seed}: no merge in {sorted(drawn)}"
        else:
            assert kinds <= drawn, f"seed {seed}: {sorted(kinds - drawn)} missing"
        lo, hi = input_bounds(spec)
        x = random_raw(lo, hi, 4, np.random.default_rng(seed))
        assert evaluate(spec, x).shape == (4, *spec.output_shape)
