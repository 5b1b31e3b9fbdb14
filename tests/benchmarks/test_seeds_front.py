"""``benchmarks/peers/seeds_front.py``: point files of several seeds read, checked for one set of
settings, and the bar checked per seed and on the means (given numbers; no training)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "peers" / "seeds_front.py"
RUN = "e300_bs64_lr0.003"


def _module() -> Any:
    spec = importlib.util.spec_from_file_location("seeds_front", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The script run as a command with ``args``, from the repository root."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT
    )


def _side(acc: float, luts: int | None, adders: int = 300) -> dict[str, Any]:
    side: dict[str, Any] = {"accuracy": acc, "adders": adders, "ebops": 2.0 * adders}
    if luts is not None:
        side["luts_xc7"] = luts
    side["config"] = {"output_quantizer": True}
    return side


def _write(
    folder: Path,
    seed: int,
    beta: float,
    ours: tuple[float, int | None],
    theirs: tuple[float, int | None] | None = None,
    epochs: int = 300,
) -> Path:
    """One point file as ``hgq2_vs_ours.py`` names and fills it (the fields this script reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    opts: dict[str, Any] = {"data": f"/w/split_s{seed}.npz", "beta": beta, "seed": seed}
    opts.update(epochs=epochs, batch_size=64, lr=3e-3, hidden=[32], ours_jit=True)
    opts["pipeline_levels"] = 0
    if theirs is None:
        opts["config"] = {"output_quantizer": True}
    else:
        opts.update(init="example", jit=True, hard_dc=2, latency_cutoff=-1.0, out=f"/w/{seed}")
    point = {"beta": beta, "opts": opts, "ours": _side(*ours)}
    point["theirs"] = None if theirs is None else _side(*theirs)
    kind = "" if theirs is not None else "ours_"
    path = folder / f"hgq2_e{epochs}_bs64_lr0.003_s{seed}_example_pl0_{kind}b{beta:g}.json"
    path.write_text(json.dumps(point), encoding="utf-8")
    return path


def _two_seeds(tmp_path: Path) -> list[Path]:
    """Seed 0: ours beats their low point (90.0 % at 700 <= 0.8 x 900); seed 1: it does not
    (ours 88.0 % at 700 against their 89.0 % at 900). Means: ours 89.0 % at 700 against their
    89.5 % at 900: not met; their high point is met in both seeds and on the means."""
    a, b = tmp_path / "s0", tmp_path / "s1"
    _write(a, 0, 1e-4, ours=(0.95, 1500), theirs=(0.93, 2000))
    _write(a, 0, 3e-4, ours=(0.92, 1100), theirs=(0.90, 900))
    _write(a, 0, 9e-4, ours=(0.90, 700))
    _write(b, 1, 1e-4, ours=(0.94, 1500), theirs=(0.92, 2000))
    _write(b, 1, 3e-4, ours=(0.90, 1100), theirs=(0.89, 900))
    _write(b, 1, 9e-4, ours=(0.88, 700))
    _write(b, 1, 1.2e-3, ours=(0.80, 500))  # only in seed 1: left out of the means
    return [a, b]


def test_each_seed_alone_and_the_means(tmp_path: Path) -> None:
    mod = _module()
    points = mod.load_points(_two_seeds(tmp_path))
    assert len(points) == 11  # 4 paired files x 2 sides + 3 of ours only
    lines = mod.report(points)
    text = "\n".join(lines)
    assert "## seed 0 alone: 2 of 2 HGQ2 points met" in lines
    assert "## seed 1 alone: 1 of 2 HGQ2 points met" in lines
    assert "bar on the means: 1 of 2 HGQ2 points met" in lines
    assert (
        "- HGQ2 beta 0.0003 (90.00% at 900 LUTs): **met** by ours beta 0.0009 90.00% at 700 "
        "LUTs (0.778x, +0.00 pp)"
    ) in lines
    assert "| ours | 0.0009 | 89.00 | 700 | 90.00 / 88.00 | 700 / 700 |" in lines
    assert "| HGQ2 + da4ml | 0.0003 | 89.50 | 900 | 90.00 / 89.00 | 900 / 900 |" in lines
    assert "- ours beta 0.0012: no xc7 LUT count for seed(s) 0" in lines
    assert "| ours | 0.0012 |" not in text
    means, left_out = mod.mean_points(points)
    low = next(m for m in means if m.side == "theirs" and m.beta == 3e-4)
    assert low.accuracy == pytest.approx(0.895) and low.mean_luts == 900
    assert low.seeds == (0, 1) and len(left_out) == 1


def test_a_point_without_luts_is_left_out_of_the_means(tmp_path: Path) -> None:
    mod = _module()
    folders = _two_seeds(tmp_path)
    _write(folders[1], 1, 9e-4, ours=(0.99, None))  # seed 1's 9e-4 not synthesized
    means, left_out = mod.mean_points(mod.load_points(folders))
    assert not any(m.side == "ours" and m.beta == 9e-4 for m in means)
    assert "ours beta 0.0009: no xc7 LUT count for seed(s) 1" in left_out


def test_other_settings_or_a_repeated_point_are_refused_by_name(tmp_path: Path) -> None:
    mod = _module()
    folders = _two_seeds(tmp_path)
    odd = _write(tmp_path / "other", 2, 1e-4, ours=(0.9, 1000), theirs=(0.9, 1000), epochs=60)
    with pytest.raises(ValueError, match="other settings") as err:
        mod.load_points([*folders, odd.parent])
    assert odd.name in str(err.value)
    again = tmp_path / "again"
    _write(again, 1, 3e-4, ours=(0.9, 1000), theirs=(0.9, 1000))
    with pytest.raises(ValueError, match=re.escape("seed 1, beta 0.0003, HGQ2 + da4ml is also in")):
        mod.load_points([*folders, again])
    with pytest.raises(ValueError, match=re.escape("no hgq2_vs_ours.py point files")):
        mod.load_points([tmp_path / "empty"])


def test_command_line_prints_writes_and_refuses(tmp_path: Path) -> None:
    folders = _two_seeds(tmp_path)
    out = tmp_path / "report.md"
    proc = _cli(*map(str, folders), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == proc.stdout
    assert proc.stdout.startswith("seeds 0, 1; bar: accuracy >= theirs at <= 0.8x\n")
    proc = _cli(str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no hgq2_vs_ours.py point files" in proc.stderr


def test_their_points_can_come_from_another_run(tmp_path: Path) -> None:
    """``--theirs-from``: HGQ2's points of other folders against ours of the positional ones.
    Their low point there costs 1,000 LUTs, so ours 90 % / 88 % at 700 (0.7x) meets it in
    seed 0 and not in seed 1 (their 89 %); their points in the positional folders are unused."""
    folders = _two_seeds(tmp_path)
    other = tmp_path / "other"
    _write(other, 0, 3e-4, ours=(0.10, 100), theirs=(0.90, 1000))
    _write(other, 1, 3e-4, ours=(0.10, 100), theirs=(0.89, 1000))
    mod = _module()
    ours = mod.load_points(folders, ("ours",))
    assert {p.side for p in ours} == {"ours"} and len(ours) == 7
    theirs = mod.load_points([other], ("theirs",))
    lines = mod.report(ours + theirs)
    assert "## seed 0 alone: 1 of 1 HGQ2 points met" in lines
    assert "## seed 1 alone: 0 of 1 HGQ2 points met" in lines
    proc = _cli(*map(str, folders), "--theirs-from", str(other))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == (
        f"HGQ2's points from {other}; ours from {', '.join(map(str, folders))}"
    )
    assert "| HGQ2 + da4ml | 0.0003 | 89.50 | 1000 | 90.00 / 89.00 | 1000 / 1000 |" in proc.stdout
    proc = _cli(*map(str, folders), "--seeds", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("seeds 1; bar") and "## seed 0" not in proc.stdout
