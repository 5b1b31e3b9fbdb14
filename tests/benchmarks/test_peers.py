"""The peer comparison scripts: clear exits without the peers, and the da4ml comparison on small
random specs (its table's rows, layer shapes, non-zero counts, totals and ratios; the adder counts
themselves are the benchmark's business)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hgq_hw.random_spec import random_spec
from hgq_hw.reference import infer_types
from hgq_hw.spec import DenseSpec, load, save

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
    header, *body = [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]
    have_da4ml = importlib.util.find_spec("da4ml") is not None  # the script's interpreter
    peer_columns = ["da4ml", "ours @da", "da4ml dc=0", "ours @da0", "ratio", "ratio dc=0"]
    assert header == ["spec", "layer", "shape", "nonzero", "ours", "ours dc=0"] + (
        peer_columns if have_da4ml else []
    )
    specs = [load(path) for path in paths]
    expected = []
    for s in specs:  # non-zero weights on inputs that are not always 0 (width > 0)
        types = infer_types(s)
        for layer in s.layers:
            if isinstance(layer, DenseSpec):
                w, live = np.asarray(layer.weight_raw), types[layer.inputs[0]].width > 0
                shape = "x".join(map(str, w.shape))
                expected.append([s.name, layer.name, shape, str(np.count_nonzero(w[live]))])
    assert [row[:4] for row in body] == expected
    assert all(len(row) == len(header) for row in body)
    for s in specs:  # the totals are the sums of the rows
        adders = [int(row[4].split("/")[0]) for row in body if row[0] == s.name]
        assert f"{s.name}: total adders ours {sum(adders)} " in proc.stdout
    if have_da4ml:  # ratio = ours at da4ml's depth / da4ml
        for row in body:
            ours_at, theirs = int(row[7].split("/")[0]), int(row[6].split("/")[0])
            assert row[10] == f"{ours_at / theirs:.3f}"


def _hgq2_module() -> Any:
    """``benchmarks/peers/hgq2_vs_ours.py`` as a module (``benchmarks`` is not a package)."""
    spec = importlib.util.spec_from_file_location("hgq2_vs_ours", PEERS / "hgq2_vs_ours.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_hgq2_comparison_without_its_environment_says_how_to_make_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "bin" / "python"
    proc = run("hgq2_vs_ours.py", "--hgq2-python", str(missing), "--raw", str(tmp_path / "raw"))
    assert proc.returncode == 2
    assert f"looked for {missing}" in proc.stderr
    assert f"python3 -m venv {tmp_path / 'nowhere'}" in proc.stderr
    assert "pip install 'hgq2==0.2.0' 'da4ml==0.6.*'" in proc.stderr
    assert not (tmp_path / "raw").exists()  # nothing written before the check


def test_hgq2_arguments_defaults_and_refusals() -> None:
    mod = _hgq2_module()
    args = mod.parse_args([])
    assert args.betas == [1e-5, 3e-5, 1e-4, 3e-4]
    assert (args.epochs, args.batch_size, args.lr, args.seed) == (300, 64, 3e-3, 0)
    assert args.synth == ("xc7", "ecp5")
    assert (args.pipeline_levels, args.da4ml_latency_cutoff, args.hard_dc) == (0, -1.0, 2)
    assert args.hgq2_init == "example" and args.max_synth is None and args.hidden == [32]
    args = mod.parse_args(["--betas", "1e-4,3e-4", "--synth", "none", "--hgq2-init", "ours"])
    assert args.betas == [1e-4, 3e-4] and args.synth == () and args.hgq2_init == "ours"
    assert mod.parse_args(["--synth", "ecp5"]).synth == ("ecp5",)
    assert args.select == 0 and mod.parse_args(["--select", "late:30"]).select == 30
    assert args.lr_schedule is None and mod.both_sides_opts(args) == {}
    args = mod.parse_args(["--lr-schedule", "cosine:0.1", "--select", "late:5"])
    assert args.lr_schedule == 0.1
    assert mod.both_sides_opts(args) == {"select_window": 5, "lr_cosine_final": 0.1}
    assert mod.parse_args(["--lr-schedule", "cosine"]).lr_schedule == 0.0
    assert mod.parse_args(["--lr-schedule", "constant"]).lr_schedule is None
    assert mod.run_name(mod.parse_args([])) == "e300_bs64_lr0.003_s0_example_pl0"
    assert mod.run_name(args) == "e300_bs64_lr0.003_s0_example_pl0_late5_cos0.1"
    for bad in (
        ["--select", "late:0"],
        ["--select", "best"],
        ["--lr-schedule", "cosine:1"],
        ["--lr-schedule", "cosine:-0.1"],
        ["--lr-schedule", "cosine:x"],
        ["--lr-schedule", "cosine:"],
        ["--lr-schedule", "linear"],
        ["--synth", "ice40"],
        ["--betas", "a,b"],
        ["--betas", "-1e-5"],
        ["--epochs", "0"],
        ["--max-synth", "-1"],
        ["--hgq2-init", "v1"],
        ["--hidden", "3x"],
        ["--lr", "0"],
    ):
        with pytest.raises(SystemExit) as err:
            mod.parse_args(bad)
        assert err.value.code == 2, bad


def test_hgq2_select_and_schedule_parsers_name_the_accepted_forms() -> None:
    mod = _hgq2_module()
    assert mod.parse_select("final") == 0 and mod.parse_select("late:30") == 30
    for bad in ("late", "late:0", "late:-3", "late:x", "best:5", ""):
        with pytest.raises(ValueError, match="'final' or 'late:N'"):
            mod.parse_select(bad)
    assert mod.parse_lr_schedule("cosine:0.25") == 0.25
    for bad in ("cosine:nan", "cosine:1.0", "cos", ""):
        with pytest.raises(ValueError, match="'constant', 'cosine' or 'cosine:F'"):
            mod.parse_lr_schedule(bad)


def test_hgq2_dominance_on_given_numbers() -> None:
    mod = _hgq2_module()
    theirs = [(0.95, 3000), (0.92, 1600), (0.90, 800), (0.85, None)]
    ours = [(0.96, 2000), (0.92, 1700), (0.91, 640), (0.99, None)]
    # their 0.95@3000: ours 0.96@2000; 0.92@1600: ours 0.96@2000 too dear, 0.92@1700 too dear
    assert mod.dominance(ours, theirs) == [0, None, 2, None]
    # the cheapest of several that beat a point, then the most accurate
    assert mod.dominance([(0.9, 500), (0.95, 500), (0.99, 400)], [(0.9, 600)]) == [2]
    # at 0.8x: 2000 <= 2400 yes; 640 <= 640 yes (equality counts)
    assert mod.dominance(ours, theirs, cost_ratio=0.8) == [0, None, 2, None]
    assert mod.dominance(ours, theirs, cost_ratio=0.6) == [None, None, None, None]
    with pytest.raises(ValueError, match="cost_ratio"):
        mod.dominance(ours, theirs, cost_ratio=0)


def test_hgq2_issue_criterion_needs_three_points_and_one_below_1000() -> None:
    mod = _hgq2_module()
    theirs = [(0.95, 4000), (0.92, 2000), (0.90, 1300)]
    ours_cheap = [(0.95, 3000), (0.93, 1500), (0.90, 950)]
    met, matches = mod.issue_criterion(ours_cheap, theirs)
    assert met and [(m.theirs, m.ours) for m in matches] == [(0, 0), (1, 1), (2, 2)]
    ours_high = [(0.95, 3000), (0.93, 1500), (0.90, 1000)]  # 1,000 LUTs is not below 1,000
    met, matches = mod.issue_criterion(ours_high, theirs)
    assert not met and len(matches) == 3
    ours_worse = [(0.95, 3000), (0.93, 1500), (0.89, 900)]  # cheap but less accurate
    met, matches = mod.issue_criterion(ours_worse, theirs)
    assert not met and len(matches) == 2
    met, matches = mod.issue_criterion(ours_cheap[:1], theirs)  # beats only the top point
    assert not met and [(m.theirs, m.ours) for m in matches] == [(0, 0)]


def test_hgq2_ratios_on_given_numbers() -> None:
    mod = _hgq2_module()
    ours = {"accuracy": 0.9, "luts_xc7": 800, "adders": 300, "ebops": 5000.0, "s_per_epoch": 0.2}
    theirs = {"accuracy": 0.92, "luts_xc7": 1000, "luts_ecp5": 900, "adders": 400}
    theirs.update(ebops=4000, s_per_epoch=0.25)
    r = mod.ratios(ours, theirs)
    assert r["luts_xc7_ratio"] == 0.8 and r["luts_ecp5_ratio"] is None
    assert r["adders_ratio"] == 0.75 and r["ebops_ratio"] == 1.25
    assert r["s_per_epoch_ratio"] == 0.8
    assert r["accuracy_diff"] == pytest.approx(-2.0)  # percentage points, from floats


def test_hgq2_synthesis_order_takes_the_low_resource_end_of_both_sides_in_turns() -> None:
    mod = _hgq2_module()
    points = [
        {"beta": b, "ours": {"adders": o}, "theirs": {"adders": t}}
        for b, o, t in ((1e-5, 900, 1000), (1e-4, 700, 500), (3e-4, 600, 300))
    ]
    order = [(p["beta"], side) for p, side in mod.synthesis_order(points, 2)]
    assert order == [(3e-4, "ours"), (3e-4, "theirs"), (1e-4, "ours"), (1e-4, "theirs")]
    assert len(mod.synthesis_order(points, None)) == 6
    assert mod.synthesis_order(points, 0) == [] and mod.synthesis_order([], None) == []


def test_hgq2_bar_check_names_the_cheapest_as_accurate_and_the_best_as_cheap() -> None:
    mod = _hgq2_module()
    theirs = [(0.95, 3000), (0.92, 1500), (0.90, 900), (0.80, None)]
    ours = [(0.96, 2000), (0.93, 1300), (0.91, 800), (0.89, 600), (0.99, None)]
    bars = mod.bar_check(ours, theirs)
    assert [b.theirs for b in bars] == [0, 1, 2]  # their unmeasured point is left out
    # 0.95@3000: ours 0.96@2000 <= 2400 -> met; the cheapest as accurate is it
    assert (bars[0].cheapest, bars[0].best, bars[0].met) == (0, 0, True)
    # 0.92@1500 (bar 1200): 0.93@1300 is the cheapest as accurate, too dear; 0.91@800 is the
    # most accurate at <= 1200, too inaccurate
    assert (bars[1].cheapest, bars[1].best, bars[1].met) == (1, 2, False)
    # 0.90@900 (bar 720): 0.91@800 too dear; 0.89@600 cheap enough, 1 pp short
    assert (bars[2].cheapest, bars[2].best, bars[2].met) == (2, 3, False)
    assert mod.bar_check(ours, theirs, cost_ratio=1.0)[2].met
    assert mod.bar_check([], theirs)[0] == mod.Bar(0, None, None, False)
    with pytest.raises(ValueError, match="cost_ratio"):
        mod.bar_check(ours, theirs, cost_ratio=-1)


def test_hgq2_our_settings_and_ours_only_betas_from_the_command_line() -> None:
    mod = _hgq2_module()
    args = mod.parse_args([])
    assert args.ours_betas == [] and not args.xc7_nomfs
    assert mod.ours_config(args) == {"deterministic": True}  # op determinism by default
    assert mod.ours_config(mod.parse_args(["--no-ours-deterministic"])) == {}
    args = mod.parse_args(
        ["--ours-betas", "1e-3,2e-3", "--ours-f-init", "3", "--ours-weight-init-bits", "2"]
        + ["--ours-cost", "luts", "--ours-calibration-margin-bits", "1", "--xc7-nomfs"]
        + ["--ours-beta-warmup", "50", "--no-ours-deterministic"]
    )
    assert args.ours_betas == [1e-3, 2e-3] and args.xc7_nomfs
    assert mod.ours_config(args) == {
        "f_init": 3.0,
        "weight_init_bits": 2.0,
        "cost": "luts",
        "calibration_margin_bits": 1,
        "beta_warmup": 50,
    }
    assert mod.beta_schedule(3e-4, 50) == "log:3e-06:0.0003:0:50"
    assert mod.beta_schedule(3e-4, 0) == "0.0003"
    # HGQ2's side is reused across options only ours reads
    opts = {"beta": 1e-4, "seed": 0, "ours_jit": False, "pipeline_levels": 0}
    assert mod._theirs_key(opts) == mod._theirs_key({**opts, "ours_jit": True})
    assert mod._theirs_key(opts) != mod._theirs_key({**opts, "seed": 1})
    for bad in (["--ours-cost", "adders"], ["--ours-calibration-margin-bits", "-1"]):
        with pytest.raises(SystemExit):
            mod.parse_args(bad)


def test_hgq2_synthesis_order_skips_ours_only_points_for_their_side() -> None:
    mod = _hgq2_module()
    points = [
        {"beta": 1e-4, "ours": {"adders": 500}, "theirs": {"adders": 600}},
        {"beta": 1e-3, "ours": {"adders": 300}, "theirs": None},
    ]
    order = [(p["beta"], side) for p, side in mod.synthesis_order(points, None)]
    assert order == [(1e-3, "ours"), (1e-4, "theirs"), (1e-4, "ours")]


def test_yosys_script_without_mfs_changes_the_command_and_the_cache_key(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import yosys_luts

    (tmp_path / "a.v").write_text("module a; endmodule\n")
    assert yosys_luts.script_for("xc7") == "synth_xilinx -family xc7 -flatten -nodsp"
    assert yosys_luts.script_for("xc7", nomfs=True) == (
        "scratchpad -set abc9.nomfs 1; synth_xilinx -family xc7 -flatten -nodsp"
    )
    plain = yosys_luts.design_hash(tmp_path, ["a.v"], "a", "xc7")
    assert plain != yosys_luts.design_hash(tmp_path, ["a.v"], "a", "xc7", nomfs=True)
    with pytest.raises(ValueError, match="unknown target"):
        yosys_luts.script_for("ice40")


def test_hgq2_bar_lines_name_each_of_their_points() -> None:
    mod = _hgq2_module()

    def side(acc: float, luts: int | None) -> dict[str, Any]:
        return {"accuracy": acc, "luts_xc7": luts}

    points = [
        {"beta": 1e-5, "ours": side(0.95, None), "theirs": side(0.94, None)},
        {"beta": 1e-4, "ours": side(0.93, 1600), "theirs": side(0.92, 1875)},
        {"beta": 9e-4, "ours": side(0.90, 672), "theirs": None},
    ]
    lines = mod._bar_lines(points)
    assert lines[1] == "- HGQ2 beta 1e-05 (94.00%): xc7 LUTs not measured"
    assert lines[2] == (
        "- HGQ2 beta 0.0001 (92.00% at 1875 LUTs): not met; cheapest as accurate: ours beta "
        "0.0001 93.00% at 1600 LUTs (0.853x, +1.00 pp); most accurate at <= 0.8x: ours beta "
        "0.0009 90.00% at 672 LUTs (0.358x, -2.00 pp)"
    )


def test_yosys_timeout_is_reported_not_cached_and_shown_in_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import yosys_luts

    from hgq_hw.toolchain import ToolRun

    (tmp_path / "a.v").write_text("module a; endmodule\n")
    asked: list[float | None] = []

    def killed(name: str, args: list[str], cwd: Path, log: str, **kw: Any) -> ToolRun:
        asked.append(kw["timeout_s"])
        return ToolRun(name, (name, *args), -9, Path(cwd) / log, 12.0, None, timed_out=True)

    monkeypatch.setattr(yosys_luts, "run_tool", killed)
    cache = tmp_path / "cache"
    with pytest.raises(yosys_luts.YosysTimeout, match="timeout after") as err:
        yosys_luts.yosys_cells(tmp_path, ["a.v"], "a", "xc7", cache, timeout_s=7)
    assert asked == [7] and not list(cache.glob("*.json"))
    assert isinstance(err.value, RuntimeError)

    mod = _hgq2_module()
    side = {"build_dir": str(tmp_path), "files": ["a.v"], "top": "a"}
    mod._synthesize(side, ("xc7",), cache, False, timeout_s=7)
    assert "luts_xc7" not in side and side["synth_timeout_xc7"] > 0
    assert mod._luts_cell(side, "xc7") == f"timeout after {side['synth_timeout_xc7']:.0f} s"
    assert mod._luts_cell(side, "ecp5") == "—"
    assert mod._luts_cell({"luts_xc7": 640, "synth_timeout_xc7": 9.0}, "xc7") == "640"
    assert mod.parse_args(["--yosys-timeout", "2700"]).yosys_timeout == 2700
    assert mod.parse_args([]).yosys_timeout is None
    with pytest.raises(SystemExit):
        mod.parse_args(["--yosys-timeout", "0"])
