"""The flow's report: ``report.md`` with tables and plots (``plots/*.png``) from the run folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hgq_hw import atomic
from hgqflow.flow.plots import (
    plot_bitwidth_heatmaps,
    plot_bitwidth_histograms,
    plot_pareto,
    plot_training,
)

__all__ = ["write_report"]


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _plots(run: Path, results: dict[str, Any]) -> dict[str, Path]:
    from hgq_hw.spec import load

    plots = run / "plots"
    plots.mkdir(exist_ok=True)
    out: dict[str, Path] = {}
    points_file = run / "front.json"
    if points_file.exists():
        data = json.loads(points_file.read_text())
        points, chosen = data["points"], data["chosen"]
        out["pareto_ebops"] = plot_pareto(
            points,
            plots / "pareto_ebops.png",
            chosen=chosen,
            title="Test accuracy vs EBOPs (Pareto checkpoints)",
        )
        out["pareto_luts"] = plot_pareto(
            points,
            plots / "pareto_luts.png",
            x="adder_bits",
            chosen=chosen,
            xlabel="adder bits (LUT estimate; measured LUTs of the chosen model in report.md)",
            title="Test accuracy vs hardware cost (Pareto checkpoints)",
        )
    if (run / "spec.json").exists():
        spec = load(run / "spec.json")
        out["bit_histograms"] = plot_bitwidth_histograms(spec, plots / "bitwidth_histograms.png")
        out["bit_heatmaps"] = plot_bitwidth_heatmaps(spec, plots / "bitwidth_heatmaps.png")
    history_file = run / "train" / "history.json"
    if history_file.exists():
        out["training"] = plot_training(
            json.loads(history_file.read_text()), plots / "training.png"
        )
    return out


def write_report(run: Path, results: dict[str, Any]) -> dict[str, Any]:
    """Write the plots and ``report.md`` into ``run``; returns paths and headline numbers."""
    plots = _plots(run, results)
    lines = ["# hgqflow run report", ""]
    opts = results.get("options", {})
    lines += [
        f"Dataset `{opts.get('dataset')}`, seed {opts.get('seed')}, {opts.get('epochs')} "
        f"epochs, beta schedule `{opts.get('beta')}`.",
        "",
    ]
    chosen = results.get("front", {}).get("chosen")
    headline: dict[str, Any] = {}
    if chosen:
        gen, sim, synth = results.get("gen", {}), results.get("sim", {}), results.get("synth")
        headline = {
            "test_accuracy": chosen["accuracy"],
            "val_accuracy": chosen["val_accuracy"],
            "ebops": chosen["ebops"],
            "adders": gen.get("adders"),
            "latency_cycles": gen.get("latency"),
        }
        lines += ["## Chosen model", ""]
        rows = [
            ["test accuracy (integer reference)", f"{chosen['accuracy']:.4f}"],
            ["validation accuracy", f"{chosen['val_accuracy']:.4f}"],
            ["EBOPs (exact)", f"{chosen['ebops']:.0f}"],
            ["adders / adder depth", f"{gen.get('adders')} / {gen.get('adder_depth')}"],
            ["latency", f"{gen.get('latency')} cycles"],
            ["registers (bits)", f"{gen.get('registers')}"],
        ]
        if sim:
            rows.append(
                [
                    "cocotb regression",
                    f"{sim['checked']} outputs checked on "
                    f"{sim['simulator']}, {sim['mismatches']} mismatches",
                ]
            )
        if synth:
            res = synth.get("resources", {})
            headline.update({f"{synth['target']}_{k}": v for k, v in res.items()})
            headline["fmax_mhz"] = synth.get("fmax_mhz")
            rows.append(
                [f"{synth['target']} resources", ", ".join(f"{k} {v}" for k, v in res.items())]
            )
            if synth.get("fmax_mhz") is not None:
                met = "met" if synth.get("timing_met") else "missed"
                rows.append(
                    [
                        f"{synth['target']} Fmax",
                        f"{synth['fmax_mhz']:.1f} MHz (target {synth.get('clock_mhz')} MHz {met})",
                    ]
                )
            elif synth.get("pnr_error"):
                rows.append(
                    [
                        f"{synth['target']} Fmax",
                        f"not measured: place and route failed ({synth['pnr_error']})",
                    ]
                )
        lines += _table(["", "value"], rows) + [""]
    front_file = run / "front.json"
    if front_file.exists():
        points = json.loads(front_file.read_text())["points"]
        lines += ["## Pareto front (every checkpoint exported and measured exactly)", ""]
        lines += _table(
            ["epoch", "EBOPs", "val acc", "test acc", "adders", "adder bits"],
            [
                [
                    p["epoch"],
                    f"{p['ebops']:.0f}",
                    f"{p['val_accuracy']:.4f}",
                    f"{p['accuracy']:.4f}",
                    p["adders"],
                    p["adder_bits"],
                ]
                for p in points
            ],
        ) + [""]
    titles = {
        "pareto_ebops": "Accuracy vs EBOPs",
        "pareto_luts": "Accuracy vs hardware cost",
        "training": "Training curves",
        "bit_histograms": "Bit-width histograms",
        "bit_heatmaps": "Per-weight bit widths",
    }
    if plots:
        lines += ["## Plots", ""]
        for key, path in plots.items():
            lines += [f"### {titles.get(key, key)}", "", f"![{key}]({path.relative_to(run)})", ""]
    lines += ["## Stages", ""]
    lines += _table(
        ["stage", "status", "seconds"],
        [
            [s["stage"], s["status"], s["seconds"]]
            for s in results.get("stages", [])
            if s["stage"] != "report"
        ],
    )
    lines += [
        "",
        "## Files",
        "",
        "- `spec.json`: the exported spec (hgq_hw contract)",
        "- `gen/`: Verilog and `report.json` (generator and synthesis)",
        "- `sim/`: cocotb build and results",
        "- `train/`: model, Pareto checkpoints, history",
        "",
    ]
    atomic.write_text(run / "report.md", "\n".join(lines))
    return {
        "report": str(run / "report.md"),
        "plots": {k: str(v) for k, v in plots.items()},
        "headline": headline,
    }
