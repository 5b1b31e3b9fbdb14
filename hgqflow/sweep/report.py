"""The sweep report: ``DIR/sweep.json`` (every point, failed ones with their error and log),
``DIR/report.md`` (the Pareto front with each point's commands, per-seed spread, failures) and
``DIR/plots/*.png`` (accuracy against LUTs and against EBOPs, front marked; per-seed spread).

Accuracy is the exported spec's test accuracy (the bit-exact integer reference), EBOPs the
export's exact count, LUTs / FFs the synthesis report's.
"""

from __future__ import annotations

import datetime
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hgq_hw import atomic

if TYPE_CHECKING:
    from hgqflow.sweep.runner import PointRun, SweepResult

__all__ = ["metrics", "pareto_front", "point_commands", "seed_spread", "write_report"]


def metrics(run: PointRun) -> dict[str, Any]:
    """The numbers of a point (None where its stage did not run)."""

    def result(stage: str) -> dict[str, Any]:
        marker = run.results.get(stage) or {}
        return marker.get("result") or {}

    export, gen, synth = result("export"), result("gen"), result("synth")
    resources = synth.get("resources") or {}
    return {
        "accuracy": export.get("accuracy"),
        "ebops": export.get("ebops"),
        "latency": gen.get("latency"),
        "adders": gen.get("adders"),
        "luts": resources.get("luts"),
        "ffs": resources.get("ffs"),
        "fmax_mhz": synth.get("fmax_mhz"),
        "mismatches": result("sim").get("mismatches"),
    }


def pareto_front(points: list[dict[str, Any]], cost: str) -> list[str]:
    """Ids of the points (dicts with ``id``, ``accuracy`` and ``cost``) that no other point
    beats on both (higher accuracy, lower cost), cheapest first; points without either value
    take no part."""
    known = [p for p in points if p.get("accuracy") is not None and p.get(cost) is not None]
    front = [
        p
        for p in known
        if not any(
            q["accuracy"] >= p["accuracy"]
            and q[cost] <= p[cost]
            and (q["accuracy"] > p["accuracy"] or q[cost] < p[cost])
            for q in known
        )
    ]
    return [p["id"] for p in sorted(front, key=lambda p: (p[cost], -p["accuracy"]))]


def point_commands(run: PointRun, folder: Path) -> list[str]:
    """The ``hgq`` commands that rebuild this point alone into ``folder``."""
    from hgqflow.sweep.stages import spec_name

    s, p = run.point.settings, run.point
    f = str(folder)
    train = ["hgq", "train", "--dataset", p.path_setting("dataset") or "digits"]
    if s["data"]:
        train += ["--data", p.path_setting("data")]
    if s["model"]:
        train += ["--model", p.path_setting("model")]
    train += ["--epochs", str(s["epochs"]), "--beta", s["beta"], "--seed", str(s["seed"])]
    train += ["--batch-size", str(s["batch_size"]), "--lr", repr(s["lr"]), "--verbose", "2"]
    train += [] if s["jit"] else ["--no-jit"]
    train += ["--cost", s["cost"]] if s["cost"] != "ebops" else []
    train += ["--lr-schedule", s["lr_schedule"]] if s["lr_schedule"] != "constant" else []
    train += ["--out", f"{f}/train"]
    export = ["hgq", "export", f"{f}/train/model.keras", "-o", f"{f}/spec.json"]
    export += ["--name", spec_name(p)]
    if s["calibration_margin_bits"]:
        export += ["--calibration-margin-bits", str(s["calibration_margin_bits"])]
    export += [] if s["fold_rounding"] else ["--no-fold-rounding"]
    gen = ["hgq", "gen", f"{f}/spec.json", "-o", f"{f}/gen"]
    gen += ["--pipeline-levels", str(s["pipeline_levels"])]
    sim = ["hgq", "sim", f"{f}/spec.json", "--design", f"{f}/gen", "--simulator", s["simulator"]]
    sim += ["--samples", str(s["samples"]), "--seed", str(s["seed"]), "--work", f"{f}/sim"]
    synth = ["hgq", "synth", f"{f}/gen", "--target", str(s["target"])]
    synth += ["--clock-mhz", repr(s["clock_mhz"])]
    by_stage = {"train": train, "export": export, "gen": gen, "sim": sim, "synth": synth}
    return [shlex.join(by_stage[stage]) for stage in run.stages]


def seed_spread(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Points that differ only in their seed, grouped: accuracy and EBOPs min / mean / max."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["accuracy"] is None:
            continue
        key = repr(sorted((k, v) for k, v in row["settings"].items() if k != "seed"))
        groups.setdefault(key, []).append(row)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        acc = [m["accuracy"] for m in members]
        ebops = [m["ebops"] for m in members]
        first = members[0]["settings"]
        out.append(
            {
                "beta": first["beta"],
                "model": first["model"],
                "seeds": sorted(m["settings"]["seed"] for m in members),
                "accuracy": [min(acc), sum(acc) / len(acc), max(acc)],
                "ebops": [min(ebops), sum(ebops) / len(ebops), max(ebops)],
            }
        )
    return out


def _rows(result: SweepResult) -> list[dict[str, Any]]:
    rows = []
    for run in result.runs:
        rows.append(
            {
                "id": run.id,
                "status": run.status,
                "origin": run.point.origin,
                "settings": run.point.settings,
                "folder": str(run.work),
                "stages_run": run.ran,
                "failures": run.failures,
                "retried_after": run.retried_after,
                "error": run.error,
                "log": run.log,
                "seconds": {
                    s: (m or {}).get("seconds") for s, m in run.results.items() if m is not None
                },
                **metrics(run),
                "commands": point_commands(run, result.out / "points" / run.id),
            }
        )
    return rows


def _plots(rows: list[dict[str, Any]], fronts: dict[str, list[str]], out: Path) -> list[str]:
    """The PNGs (paths relative to ``out``); none when no point has an accuracy."""
    if not any(r["accuracy"] is not None for r in rows):
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = out / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for cost, label in (("luts", "LUTs"), ("ebops", "EBOPs")):
        known = [r for r in rows if r["accuracy"] is not None and r[cost] is not None]
        if not known:
            continue
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(
            [r[cost] for r in known],
            [100 * r["accuracy"] for r in known],
            color="tab:gray",
            label="points",
        )
        front = [next(r for r in known if r["id"] == i) for i in fronts[cost]]
        ax.step(
            [r[cost] for r in front],
            [100 * r["accuracy"] for r in front],
            where="post",
            color="tab:red",
            marker="o",
            label="Pareto front",
        )
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        path = folder / f"accuracy_vs_{cost}.png"
        with atomic.atomic_path(path) as temp:
            fig.savefig(temp, dpi=120)
        plt.close(fig)
        written.append(str(path.relative_to(out)))
    spread = seed_spread(rows)
    if spread:
        fig, ax = plt.subplots(figsize=(6, 4))
        for g in spread:
            lo, mean, hi = (100 * a for a in g["accuracy"])
            elo, emean, ehi = g["ebops"]
            ax.errorbar(
                [emean],
                [mean],
                yerr=[[mean - lo], [hi - mean]],
                xerr=[[emean - elo], [ehi - emean]],
                fmt="o",
                capsize=3,
                label=f"beta {g['beta']} ({len(g['seeds'])} seeds)",
            )
        ax.set_xscale("log")
        ax.set_xlabel("EBOPs")
        ax.set_ylabel("test accuracy (%), min / mean / max over seeds")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
        fig.tight_layout()
        path = folder / "seed_spread.png"
        with atomic.atomic_path(path) as temp:
            fig.savefig(temp, dpi=120)
        plt.close(fig)
        written.append(str(path.relative_to(out)))
    return written


def _cell(value: Any, fmt: str = "{}") -> str:
    return "—" if value is None else fmt.format(value)


def _markdown(summary: dict[str, Any]) -> str:
    rows = {r["id"]: r for r in summary["points"]}
    cost = "luts" if summary["fronts"]["luts"] else "ebops"
    lines = [
        f"# Sweep {summary['name']}",
        "",
        f"- config: `{summary['config']}`; command: `{summary['command'] or '(library call)'}`",
        f"- {summary['date']}; {summary['seconds'] / 60:.1f} min; points: "
        + ", ".join(f"{n} {k}" for k, n in summary["counts"].items()),
        "- accuracy: test split, exported spec (bit-exact integer reference); EBOPs: exact",
        "",
        f"## Pareto front (test accuracy against {'LUTs' if cost == 'luts' else 'EBOPs'})",
        "",
        "| point | beta | seed | accuracy (%) | EBOPs | LUT | FF | latency | adders |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pid in summary["fronts"][cost]:
        r = rows[pid]
        lines.append(
            f"| `{pid}` | {r['settings']['beta']} | {r['settings']['seed']} | "
            f"{100 * r['accuracy']:.2f} | {_cell(r['ebops'], '{:.0f}')} | {_cell(r['luts'])} | "
            f"{_cell(r['ffs'])} | {_cell(r['latency'])} | {_cell(r['adders'])} |"
        )
    lines += ["", "Each front point alone:", ""]
    for pid in summary["fronts"][cost]:
        lines += [f"`{pid}`:", "", "```sh", *rows[pid]["commands"], "```", ""]
    lines += [
        "## Every point",
        "",
        "| point | status | accuracy (%) | EBOPs | LUT | stages run |",
        "|---|---|---|---|---|---|",
    ]
    for r in summary["points"]:
        acc = None if r["accuracy"] is None else 100 * r["accuracy"]
        lines.append(
            f"| `{r['id']}` | {r['status']} | {_cell(acc, '{:.2f}')} | "
            f"{_cell(r['ebops'], '{:.0f}')} | {_cell(r['luts'])} | "
            f"{', '.join(r['stages_run']) or '—'} |"
        )
    if summary["seed_spread"]:
        lines += [
            "",
            "## Per-seed spread",
            "",
            "| beta | seeds | accuracy (%) min / mean / max | EBOPs min / mean / max |",
            "|---|---|---|---|",
        ]
        for g in summary["seed_spread"]:
            acc = " / ".join(f"{100 * a:.2f}" for a in g["accuracy"])
            ebops = " / ".join(f"{e:.0f}" for e in g["ebops"])
            lines.append(f"| {g['beta']} | {g['seeds']} | {acc} | {ebops} |")
    failed = [r for r in summary["points"] if r["status"] in ("failed", "interrupted")]
    if failed:
        lines += ["", "## Not finished", ""]
        for r in failed:
            lines.append(f"- `{r['id']}`: {r['status']}; {r['error'] or ''} (log: {r['log']})")
    if summary["plots"]:
        lines += ["", "## Plots", "", *(f"![{p}]({p})" for p in summary["plots"])]
    return "\n".join(lines) + "\n"


def write_report(
    result: SweepResult, *, command: str | None = None, plots: bool = True
) -> dict[str, Any]:
    """Write ``sweep.json`` and ``report.md`` (and with ``plots`` the PNGs) into
    ``result.out``; returns the summary written to ``sweep.json``."""
    rows = _rows(result)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    fronts = {cost: pareto_front(rows, cost) for cost in ("ebops", "luts")}
    summary = {
        "name": result.config.name,
        "config": str(result.config.path),
        "command": command,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(result.seconds, 2),
        "interrupted": result.interrupted,
        "stages": list(result.config.stages),
        "counts": counts,
        "fronts": fronts,
        "seed_spread": seed_spread(rows),
        "plots": _plots(rows, fronts, result.out) if plots else [],
        "points": rows,
    }
    atomic.write_json(result.out / "sweep.json", summary, indent=1, default=str)
    atomic.write_text(result.out / "report.md", _markdown(summary))
    return summary
