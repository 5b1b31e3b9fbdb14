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
    y = evaluate(spec, x)
    assert y.shape == (3, 2)
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
    if os.environ.get("CI"):  # CI installs everything through `make test`
        assert status == 0, out
    else:
        assert status in (0, 1)


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
    assert np.load(npy).shape[0] == 5


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
