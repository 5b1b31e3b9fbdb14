"""The peer comparison scripts: clear exits without the peers, and the da4ml comparison on small
random specs (only the shape of the output; the numbers are the benchmark's business)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hgq_hw.random_spec import random_spec
from hgq_hw.spec import save

ROOT = Path(__file__).resolve().parents[2]
PEERS = ROOT / "benchmarks" / "peers"


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PEERS / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_hgq1_comparison_without_its_environment_says_how_to_make_it(tmp_path: Path) -> None:
    proc = run("hgq1_vs_ours.py", "--hgq1-python", str(tmp_path / "nowhere" / "bin" / "python"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr
    assert "pip install --no-deps hgq==0.2.6" in proc.stderr


def test_cmvm_vs_da4ml_on_random_specs(tmp_path: Path) -> None:
    paths = [
        str(save(random_spec(seed, sizes=(6, 5, 3)), tmp_path / f"r{seed}.json")) for seed in (1, 2)
    ]
    proc = run("cmvm_spec_vs_da4ml.py", *paths)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [
        line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line
    ]
    header, body = rows[0], rows[1:]
    n_cols = header.count("|") - 1
    assert n_cols in (6, 12)  # without / with da4ml installed
    assert len(body) == 4  # two Dense layers per spec
    assert all(row.count("|") - 1 == n_cols for row in body)
    assert sum("total adders ours" in line for line in proc.stdout.splitlines()) == 2
