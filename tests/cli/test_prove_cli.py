"""``hgq prove`` checks its arguments and files before it imports Amaranth or runs Yosys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_argument_checks import TINY, _run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["prove", "missing.json"], "missing.json: cannot read"),
        (["prove", str(TINY), "--design", "nodir"], "design folder nodir does not exist"),
        (["prove", str(TINY), "--timeout", "0"], "--timeout must be > 0 seconds, got 0.0"),
        (["prove", str(TINY), "--budget", "-1"], "--budget must be > 0 seconds, got -1.0"),
        (["prove", str(TINY), "--pipeline-levels", "-1"], "--pipeline-levels must be >= 0"),
        (["prove", str(TINY), "--no-layers", "--no-network"], "--no-layers leaves only"),
    ],
    ids=lambda v: " ".join(v[2:]) if isinstance(v, list) else None,
)
def test_prove_checks_before_heavy_imports(argv: list[str], message: str, tmp_path: Path) -> None:
    result = _run(argv, tmp_path)
    assert result["status"] == 1
    lines = result["err"].strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hgq prove: error: "), result["err"]
    assert message in lines[0]
    assert result["heavy"] == [], f"prove imported {result['heavy']} before its checks"
