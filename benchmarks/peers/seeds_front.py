"""Issue 14's bar over several seeds: the raw JSON of ``hgq2_vs_ours.py`` runs, aggregated.

    .venv/bin/python benchmarks/peers/seeds_front.py RAW_DIR [RAW_DIR ...] [--out FILE]

Each ``hgq2_vs_ours.py --seed S --raw RAW_DIR`` run leaves one JSON per point
(``hgq2_<run>_b<beta>.json`` for a beta both sides trained, ``hgq2_<run>_ours_b<beta>.json`` for
one of ours only). This script reads every such file under the given folders, groups them by
seed, and checks that all of them come from the same options but the seed (epochs, batch size,
learning rate, HGQ2's start bits, pipelining, da4ml options, our settings): a mix is refused with
the files that differ named.

It prints, per seed, the bar check of ``hgq2_vs_ours.py`` on that seed alone (one run: ours
accuracy >= theirs at <= 0.8x their xc7 LUTs), then the same check on the **mean over seeds**:
for each side and beta trained and synthesized in every seed, the mean test accuracy and the
mean xc7 LUTs (with each seed's numbers beside them). Betas missing from some seed are listed and
left out of the means. Accuracies are on each seed's own test split: the split is drawn from the
seed (``hgq_train.data.load_dataset``), the same for both sides within a seed.

``--out`` also writes what is printed to FILE; ``--seeds 0,1,2`` keeps only those seeds.
``--theirs-from DIR [DIR ...]`` takes HGQ2's points from other runs' folders (and ours only
from the positional ones): our front of one setting against HGQ2's of another, say each side
at its own best learning-rate schedule. Each side still needs one setting over its files, and
a seed's split is the same in every run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hgq2_vs_ours import OURS_ONLY_OPTS, bar_check

__all__ = ["MeanPoint", "SidePoint", "load_points", "main", "mean_points", "report"]

POINT_NAME = re.compile(
    r"hgq2_(?P<run>e\d+_bs\d+_lr[^_]+)_s(?P<seed>\d+)_(?P<rest>.+?)_(?P<ours>ours_)?"
    r"b(?P<beta>[0-9.e+-]+)\.json"
)
"""A point file's name: ``hgq2_e300_bs64_lr0.003_s0_example_pl0_[ours_]b0.0003.json``."""

SIDES = ("theirs", "ours")
LABEL = {"theirs": "HGQ2 + da4ml", "ours": "ours"}


@dataclass(frozen=True)
class SidePoint:
    """One side's result at one beta and seed (``luts``: xc7 LUTs, None if not synthesized)."""

    side: str
    beta: float
    seed: int
    accuracy: float
    luts: int | None


def _settings(point: dict[str, Any], side: str) -> dict[str, Any]:
    """What a point's ``side`` depends on, but the seed, the beta and the paths: the key that
    must be the same over every file. Our settings (``config``) belong to ours; HGQ2's side
    ignores the options only we read (as ``hgq2_vs_ours._theirs_key`` does)."""
    opts = {
        k: v for k, v in point["opts"].items() if k not in ("seed", "beta", "data", "out", "config")
    }
    if side == "theirs":
        return {k: v for k, v in opts.items() if k not in OURS_ONLY_OPTS}
    for theirs_only in ("init", "jit", "hard_dc", "latency_cutoff"):
        opts.pop(theirs_only, None)
    return {**opts, "config": point["ours"].get("config", point["opts"].get("config", {}))}


def load_points(folders: Sequence[Path], sides: Sequence[str] = SIDES) -> list[SidePoint]:
    """Each of ``sides`` of every point file under ``folders``. ``ValueError`` (naming the
    files) when two files of the same side disagree on the settings, when a folder holds no
    point file, or when the same seed, side and beta comes twice."""
    found: list[SidePoint] = []
    keys: dict[str, tuple[str, Path]] = {}
    seen: dict[tuple[str, int, float], Path] = {}
    for folder in folders:
        files = sorted(p for p in folder.glob("hgq2_*.json") if POINT_NAME.fullmatch(p.name))
        if not files:
            raise ValueError(f"{folder}: no hgq2_vs_ours.py point files (hgq2_<run>_b<beta>.json)")
        for path in files:
            point = json.loads(path.read_text(encoding="utf-8"))
            seed = int(point["opts"]["seed"])
            for side in sides:
                result = point.get(side)
                if result is None:
                    continue
                key = json.dumps(_settings(point, side), sort_keys=True)
                first = keys.setdefault(side, (key, path))
                if first[0] != key:
                    raise ValueError(
                        f"{path}: {LABEL[side]} was run with other settings than {first[1]} "
                        f"(seeds aside):\n  {key}\n  {first[0]}"
                    )
                where = (side, seed, float(point["beta"]))
                if where in seen:
                    raise ValueError(
                        f"{path}: seed {seed}, beta {point['beta']:g}, {LABEL[side]} is also in "
                        f"{seen[where]}"
                    )
                seen[where] = path
                found.append(
                    SidePoint(
                        side=side,
                        beta=float(point["beta"]),
                        seed=seed,
                        accuracy=float(result["accuracy"]),
                        luts=result.get("luts_xc7"),
                    )
                )
    return found


@dataclass(frozen=True)
class MeanPoint:
    """One side at one beta, over ``seeds``: the mean accuracy and xc7 LUTs, and each seed's."""

    side: str
    beta: float
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    luts: tuple[int, ...]

    @property
    def accuracy(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def mean_luts(self) -> float:
        return statistics.fmean(self.luts)


def mean_points(points: Sequence[SidePoint]) -> tuple[list[MeanPoint], list[str]]:
    """The mean over seeds of each side and beta that every seed has synthesized, sorted by side
    and beta, and a line for each side and beta left out (naming the seeds it lacks)."""
    seeds = sorted({p.seed for p in points})
    groups: dict[tuple[str, float], dict[int, SidePoint]] = {}
    for p in points:
        groups.setdefault((p.side, p.beta), {})[p.seed] = p
    means, left_out = [], []
    for (side, beta), by_seed in sorted(
        groups.items(), key=lambda kv: (SIDES.index(kv[0][0]), kv[0][1])
    ):
        missing = [s for s in seeds if s not in by_seed or by_seed[s].luts is None]
        if missing:
            left_out.append(
                f"{LABEL[side]} beta {beta:g}: no xc7 LUT count for seed(s) "
                + ", ".join(map(str, missing))
            )
            continue
        ordered = [by_seed[s] for s in seeds]
        means.append(
            MeanPoint(
                side,
                beta,
                tuple(seeds),
                tuple(p.accuracy for p in ordered),
                tuple(int(p.luts) for p in ordered),  # type: ignore[arg-type]
            )
        )
    return means, left_out


def _describe(
    ours: Sequence[tuple[float, float | None]],
    our_betas: Sequence[float],
    n: int | None,
    acc: float,
    luts: float,
) -> str:
    """Our point ``n`` (or "none") against their ``acc`` at ``luts``."""
    if n is None:
        return "none"
    o_acc, o_luts = ours[n]
    assert o_luts is not None
    return (
        f"ours beta {our_betas[n]:g} {100 * o_acc:.2f}% at {o_luts:.0f} LUTs "
        f"({o_luts / luts:.3f}x, {100 * (o_acc - acc):+.2f} pp)"
    )


def _bar_lines(
    rows: Sequence[tuple[str, float, float, float | None]], cost_ratio: float
) -> tuple[list[str], int]:
    """The bar checked on ``(side, beta, accuracy, xc7 LUTs)`` rows (LUTs None: left out): one
    line per their point, and how many meet the bar."""
    kept = {side: [r for r in rows if r[0] == side and r[3] is not None] for side in SIDES}
    ours = [(r[2], r[3]) for r in kept["ours"]]
    theirs = [(r[2], r[3]) for r in kept["theirs"]]
    our_betas = [r[1] for r in kept["ours"]]
    their_betas = [r[1] for r in kept["theirs"]]
    lines, met = [], 0
    for bar in bar_check(ours, theirs, cost_ratio=cost_ratio):
        acc, luts = theirs[bar.theirs]
        assert luts is not None  # bar_check skips their points without a cost
        head = f"- HGQ2 beta {their_betas[bar.theirs]:g} ({100 * acc:.2f}% at {luts:.0f} LUTs): "
        cheapest = _describe(ours, our_betas, bar.cheapest, acc, luts)
        if bar.met:
            met += 1
            lines.append(head + "**met** by " + cheapest)
        else:
            best = _describe(ours, our_betas, bar.best, acc, luts)
            lines.append(
                head + f"not met; cheapest as accurate: {cheapest}; most accurate at <= "
                f"{cost_ratio:g}x: {best}"
            )
    return lines, met


def report(points: Sequence[SidePoint], cost_ratio: float = 0.8) -> list[str]:
    """The lines this script prints for ``points`` (see the module docstring)."""
    seeds = sorted({p.seed for p in points})
    lines = [f"seeds {', '.join(map(str, seeds))}; bar: accuracy >= theirs at <= {cost_ratio:g}x"]
    for seed in seeds:
        mine = sorted((p for p in points if p.seed == seed), key=lambda p: p.beta)
        bars, met = _bar_lines([(p.side, p.beta, p.accuracy, p.luts) for p in mine], cost_ratio)
        lines += ["", f"## seed {seed} alone: {met} of {len(bars)} HGQ2 points met", *bars]

    means, left_out = mean_points(points)
    lines += ["", f"## mean over seeds {', '.join(map(str, seeds))}", ""]
    lines.append("| side | beta | mean acc % | mean xc7 LUT | acc % per seed | xc7 LUT per seed |")
    lines.append("|---|---|---|---|---|---|")
    for m in means:
        lines.append(
            f"| {LABEL[m.side]} | {m.beta:g} | {100 * m.accuracy:.2f} | {m.mean_luts:.0f} | "
            + " / ".join(f"{100 * a:.2f}" for a in m.accuracies)
            + " | "
            + " / ".join(map(str, m.luts))
            + " |"
        )
    bars, met = _bar_lines([(m.side, m.beta, m.accuracy, m.mean_luts) for m in means], cost_ratio)
    lines += ["", f"bar on the means: {met} of {len(bars)} HGQ2 points met", *bars]
    if left_out:
        lines += ["", "left out of the means:", *(f"- {line}" for line in left_out)]
    return lines


def _seed_set(text: str) -> set[int]:
    """``--seeds 0,1,2``: the seeds as integers (argparse names the option on a bad one)."""
    try:
        return {int(v) for v in text.split(",")}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("raw", nargs="+", type=Path, help="hgq2_vs_ours.py --raw folders")
    p.add_argument("--cost-ratio", type=float, default=0.8)
    p.add_argument("--out", type=Path, help="also write the report here")
    p.add_argument(
        "--theirs-from",
        nargs="+",
        type=Path,
        metavar="RAW",
        help="take HGQ2's points from these folders (ours only from the positional ones)",
    )
    p.add_argument(
        "--seeds",
        type=_seed_set,
        help="only these seeds, comma separated (default: every seed found)",
    )
    args = p.parse_args(argv)
    try:
        if args.theirs_from:
            points = load_points(args.raw, ("ours",))
            points += load_points(args.theirs_from, ("theirs",))
        else:
            points = load_points(args.raw)
    except (ValueError, OSError, KeyError, json.JSONDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.seeds is not None:
        points = [point for point in points if point.seed in args.seeds]
        if not points:
            print(f"error: no point of seeds {sorted(args.seeds)}", file=sys.stderr)
            return 2
    lines = report(points, args.cost_ratio)
    if args.theirs_from:
        where = ", ".join(map(str, args.theirs_from))
        lines.insert(1, f"HGQ2's points from {where}; ours from {', '.join(map(str, args.raw))}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
