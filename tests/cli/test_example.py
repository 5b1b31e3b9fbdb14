"""examples/train_and_generate.py runs as a user would run it (few epochs, Icarus)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.sim.conftest import require

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.sim
def test_train_and_generate_example(tmp_path: Path) -> None:
    require("icarus")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "train_and_generate.py"),
            "--epochs",
            "2",
            "--out",
            str(tmp_path / "run"),
            "--simulator",
            "icarus",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "mismatches:      0" in done.stdout and "PASS" in done.stdout
    assert (tmp_path / "run" / "spec.json").exists()
    assert (tmp_path / "run" / "gen" / "report.json").exists()
