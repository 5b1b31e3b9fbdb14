"""Wall time of one small ``hgq sweep`` with 1 and 2 Ray workers (and serially, no Ray).

    .venv/bin/python benchmarks/sweep_scaling.py [--points 4] [--epochs 3] [--workers 1,2]
        [--stages train,export,gen,sim] [--out benchmarks/results/sweep_scaling.txt]

Each run is a fresh ``hgq sweep CONFIG --out TMP --num-cpus N`` in its own process (a local Ray
with N CPUs, Ray's start-up included; ``--serial``: no Ray), on the same config: ``--points``
digits points (a 64-16-10 MLP, beta 1e-5 .. 1e-3, seed 0, ``--epochs`` epochs, no XLA, Icarus
with 20 vectors). Printed per run: wall seconds, the stage seconds summed over every point
(work), work / wall (how many stages ran at once on average) and the speed-up over 1 worker.
The raw lines go to ``--out`` too. Never pass/fail: a machine shared with other jobs shows it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _config(folder: Path, points: int, epochs: int, stages: list[str]) -> Path:
    (folder / "mlp.toml").write_text("hidden = [16]\n", encoding="utf-8")
    betas = [f"{10 ** (-5 + 2 * n / max(points - 1, 1)):.3g}" for n in range(points)]
    text = "\n".join(
        [
            "[sweep]",
            'name = "scaling"',
            "stages = [" + ", ".join(f'"{s}"' for s in stages) + "]",
            "[defaults]",
            'model = "mlp.toml"',
            f"epochs = {epochs}",
            "jit = false",
            'simulator = "icarus"',
            "samples = 20",
            "[grid]",
            "beta = [" + ", ".join(f'"{b}"' for b in betas) + "]",
        ]
    )
    path = folder / "scaling.toml"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _run(config: Path, out: Path, workers: int | None) -> dict[str, float]:
    args = ["--serial"] if workers is None else ["--num-cpus", str(workers)]
    command = [sys.executable, "-m", "hgqflow", "sweep", str(config), "--out", str(out), *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr[-4000:]}")
    summary = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    work = sum(sum(v for v in p["seconds"].values() if v) for p in summary["points"])
    return {"wall": wall, "work": work, "points": len(summary["points"])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="Ray CPUs per run, comma separated")
    parser.add_argument("--serial", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--stages", default="train,export,gen,sim")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/sweep_scaling.txt"))
    args = parser.parse_args(argv)
    lines = [
        f"# benchmarks/sweep_scaling.py {' '.join(argv if argv is not None else sys.argv[1:])}",
        f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{platform.machine()}, {os.cpu_count()} CPU cores, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.points} points, "
        f"{args.epochs} epochs, stages {args.stages}",
    ]
    for line in lines:
        print(line, flush=True)
    runs: list[int | None] = [int(w) for w in args.workers.split(",")]
    if args.serial:
        runs.append(None)
    one = None
    with tempfile.TemporaryDirectory(prefix="hgq-sweep-scaling-") as tmp:
        config = _config(Path(tmp), args.points, args.epochs, args.stages.split(","))
        for workers in runs:
            label = "serial (no Ray)" if workers is None else f"{workers} worker(s)"
            r = _run(config, Path(tmp) / f"out-{workers}", workers)
            one = r["wall"] if workers == 1 else one
            speedup = f"{one / r['wall']:.2f}x" if one else "-"
            line = (
                f"{label}: wall {r['wall']:.1f} s, stage work {r['work']:.1f} s, "
                f"work/wall {r['work'] / r['wall']:.2f}, speed-up over 1 worker {speedup} "
                f"({r['points']} points)"
            )
            print(line, flush=True)
            lines.append(line)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
