"""Measure what the generator's designs really cost, for the LUT cost model.

    PYTHONPATH=. .venv/bin/python benchmarks/cost_model/calibrate.py [--limit N] [--only random]

For every design (random specs from :func:`hgq_hw.random_spec` over several sizes, sparsities and
widths, and the trained digits specs in ``benchmarks/cost_model/specs/``): combinational Verilog
(``hgq_hw.emit.build``, ``pipeline_levels=0``), its adders and adder bits from the report, and
xc7 LUTs / CARRY4s from ``yosys synth_xilinx -family xc7 -flatten`` (no DSPs: the design has no
multipliers). Yosys results are cached by the Verilog's sha256 under ``runs/cost_model/`` so a
rerun is free. Rows go to ``benchmarks/cost_model/measured.json`` after every design (so a
partial run is usable); ``fit.py`` turns them into coefficients. Prints one line per design.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw import spec as spec_io
from hgq_hw.emit import build
from hgq_hw.random_spec import random_spec
from hgq_hw.spec import DenseSpec, ModelSpec
from hgq_hw.synth import TARGETS, run_tool

HERE = Path(__file__).resolve().parent
MEASURED = HERE / "measured.json"
CACHE = Path("runs") / "cost_model"

SIZES = ([8, 16], [16, 16], [16, 8, 8], [12, 24, 8], [32, 8], [24, 12], [10, 10, 10], [20, 6])
WEIGHT_BITS = ((1, 3), (2, 5), (1, 6), (3, 4))
PRUNE = (0.1, 0.4, 0.7)
ACT_BITS = ((2, 6), (4, 8), (6, 10))


def random_designs(count: int) -> list[tuple[str, dict[str, Any], ModelSpec]]:
    """``count`` random specs, arguments drawn from the grids above by a seeded generator."""
    rng = np.random.default_rng(2026)
    out = []
    for seed in range(count):
        act = ACT_BITS[int(rng.integers(len(ACT_BITS)))]
        args: dict[str, Any] = {
            "sizes": SIZES[int(rng.integers(len(SIZES)))],
            "weight_bits": WEIGHT_BITS[int(rng.integers(len(WEIGHT_BITS)))],
            "prune": PRUNE[int(rng.integers(len(PRUNE)))],
            "input_bits": act,
            "act_bits": act,
            "f_range": (0, 4),
            "zero_width": 0.02,
        }
        out.append((f"random{seed}", args, random_spec(seed, name=f"random{seed}", **args)))
    return out


def trained_designs() -> list[tuple[str, dict[str, Any], ModelSpec]]:
    """The trained digits specs kept next to this script."""
    return [
        (p.stem, {"file": f"specs/{p.name}"}, spec_io.load(p))
        for p in sorted((HERE / "specs").glob("*.json"))
    ]


def variants(trained: list[tuple[str, dict[str, Any], ModelSpec]]) -> list:
    """Trained specs changed the way training would change them: every weight one bit shorter
    (``raw >> 1`` with ``f - 1``, rounding to nearest; a ``-1`` becomes 0), one bit longer
    (``2 raw +- 1`` with ``f + 1``, the new bit's sign seeded), or a further 40% of the weights
    pruned (seeded). Same activations, so the structure stays that of a trained network."""
    out = []
    seeds = {"short": 0, "pruned": 1, "long": 1000}
    for index, (name, origin, spec) in enumerate(trained):
        for how in ("short", "pruned", "long"):
            rng = np.random.default_rng(2 * index + seeds[how])
            layers = []
            for layer in spec.layers:
                if isinstance(layer, DenseSpec):
                    raw, f = layer.weight_raw, layer.weight_f
                    if how == "short":
                        raw, f = (raw + 1) >> 1, f - 1
                    elif how == "long":
                        step = np.where(rng.random(raw.shape) < 0.5, -1, 1)
                        raw, f = np.where(raw != 0, 2 * raw + step, 0), f + 1
                    else:
                        raw = np.where(rng.random(raw.shape) < 0.4, 0, raw)
                    layer = dataclasses.replace(layer, weight_raw=raw, weight_f=f)
                layers.append(layer)
            vname = f"{name}_{how}"
            spec_v = ModelSpec(vname, layers, metadata={"variant_of": name, "change": how})
            out.append((vname, {**origin, "variant": how}, spec_v))
    return out


def kind_of(origin: dict[str, Any]) -> str:
    """``trained``, ``variant`` (of a trained spec) or ``random``."""
    if "variant" in origin:
        return "variant"
    return "trained" if "file" in origin else "random"


def xc7(verilog: str, top: str) -> dict[str, Any]:
    """xc7 LUT / CARRY4 counts of ``verilog`` (cached by its sha256) and the Yosys seconds."""
    digest = hashlib.sha256(verilog.encode()).hexdigest()
    out = CACHE / digest[:16]
    stat = out / "stat.json"
    seconds = 0.0
    if not stat.exists():
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{top}.v").write_text(verilog, encoding="utf-8")
        t = TARGETS["xc7"]
        script = (
            f"read_verilog {top}.v; {t.yosys_command} -top {top}; tee -q -o stat.json stat -json"
        )
        start = time.perf_counter()
        rc, _ = run_tool("yosys", ["-q", "-p", script], out, "yosys.log")
        seconds = time.perf_counter() - start
        if rc != 0:
            raise RuntimeError(f"yosys failed (exit {rc}); see {out / 'yosys.log'}")
    cells = json.loads(stat.read_text(encoding="utf-8"))["design"]["num_cells_by_type"]
    t = TARGETS["xc7"]
    return {
        "sha256": digest,
        "luts": sum(int(n) for c, n in cells.items() if c.startswith(t.luts)),
        "carry4": sum(int(n) for c, n in cells.items() if c.startswith(t.carry)),
        "dsp": sum(int(n) for c, n in cells.items() if c.startswith("DSP")),
        "yosys_s": round(seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=24, help="number of random specs")
    parser.add_argument("--only", choices=("random", "trained"), default=None)
    parser.add_argument("--max-adders", type=int, default=700, help="skip larger designs")
    parser.add_argument(
        "--small-first", action="store_true", help="measure the designs in order of adders"
    )
    args = parser.parse_args()
    # trained specs first (the networks training produces), then their variants, then random
    designs = []
    if args.only != "random":
        trained = trained_designs()
        designs += trained + variants(trained)
    if args.only != "trained":
        designs += random_designs(args.random)
    rows = json.loads(MEASURED.read_text()) if MEASURED.exists() else []
    done = {row["name"] for row in rows}
    print(f"{len(designs)} designs, {len(done)} already measured", flush=True)
    built = []
    for name, origin, spec in designs:
        if name in done:
            continue
        design = build(spec, name="net", pipeline_levels=0)
        if design.report["adders"] > args.max_adders:
            print(f"{name:>28}  skipped: {design.report['adders']} adders", flush=True)
            continue
        built.append((name, origin, design))
    if args.small_first:  # most designs per Yosys minute; trained-like ones still first
        built.sort(key=lambda b: (kind_of(b[1]) == "random", b[2].report["adders"]))
    for name, origin, design in built:
        report = design.report
        synth = xc7(design.verilog, "net")
        row = {
            "name": name,
            "kind": kind_of(origin),
            "origin": origin,
            "adders": report["adders"],
            "adder_bits": report["adder_bits"],
            "adder_depth": report["adder_depth"],
            **synth,
        }
        rows.append(row)
        MEASURED.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        print(
            f"{name:>28}  adders {row['adders']:>4}  adder bits {row['adder_bits']:>5}  "
            f"LUTs {row['luts']:>5}  CARRY4 {row['carry4']:>4}  yosys {row['yosys_s']:>5} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
