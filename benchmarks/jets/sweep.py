"""HGQ beta sweep in the form of the paper's jet-tagging table: accuracy, LUT, FF, latency, EBOPs.

    .venv/bin/python benchmarks/jets/sweep.py --data hls4ml_lhc_jets_hlf.csv \\
        [--betas 3e-7,1e-6,...  |  --ramp log:1e-7:1e-4] [--epochs 100] \\
        [--synth xc7|ice40|ecp5|none] [--max-synth N] [--out benchmarks/jets/RESULTS.md]

The default is the hls4ml jet-tagging HLF set (16 features, classes g/q/w/z/t) and the paper's
16-64-32-32-5 MLP (``--model jet``). The jet data are read from ``--data PATH`` (``.npz`` with
``x``/``y`` or ``.csv`` with 16 feature columns and ``class``), from ``$HGQ_DATA_DIR``, or
fetched from OpenML when online (see :mod:`hgq_train.data`); offline without a file the loader's
error says where to put it. ``--dataset digits`` runs the same sweep on scikit-learn's digits
(``benchmarks/digits/sweep.py`` is that, with the digits defaults).

Each point is a trained model exported to the spec (calibrated on the training split). Training
and export go through the stages of ``hgq sweep`` (:func:`hgqflow.sweep.stages.run_stage`:
``hgq train``'s :func:`hgq_train.run.run_training`, then ``hgq export``'s checkpoint export),
and a point's settings are those of ``benchmarks/<dataset>/sweep.toml``'s ``[defaults]`` with
the command line's options over them: the script and
``hgq sweep benchmarks/<dataset>/sweep.toml`` give byte-identical specs for the same settings
(each row of ``results.json`` has the ``point`` id ``hgq sweep`` gives it). What each stage
printed is in ``WORK/pNN/logs/``:

* ``--betas A,B,...``: one fresh model per constant beta;
* ``--ramp log:A:B`` (any :func:`hgq_train.callbacks.parse_beta_schedule` ramp): one model whose
  beta follows the ramp; every checkpoint of its (validation accuracy, EBOPs) Pareto front is a
  point (at most ``--max-points``, spread evenly over EBOPs).

Per point: test accuracy of the exported spec (argmax of :func:`hgq_hw.reference.predict`, the
bit-exact integer reference), exact EBOPs, adders and latency in cycles from the generator's
``report.json`` (:func:`hgq_hw.emit.generate`), and LUTs / FFs from Yosys (``--synth``, default
``xc7``: ``synth_xilinx -family xc7 -flatten``, no place and route). Synthesis takes minutes on
big networks, so at most ``--max-synth`` points are synthesized: the Pareto-front points first,
fewest EBOPs first. The table goes to stdout and to ``--out`` (Markdown, with the exact command),
everything else (specs, Verilog, ``results.json``) to ``--work``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import tomllib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = ["DEFAULTS", "architecture", "main", "markdown", "pareto_indices", "sweep_points"]

ROOT = Path(__file__).resolve().parents[2]

CONFIGS = {name: ROOT / "benchmarks" / name / "sweep.toml" for name in ("jets", "digits")}
"""The ``hgq sweep`` config of each dataset's sweep: its ``[defaults]`` and ``[grid] beta`` are
the script's defaults (one definition for both)."""

_OUTPUTS = {
    "jets": {"out": "benchmarks/jets/RESULTS.md", "work": "runs/jets_sweep"},
    "digits": {"out": "benchmarks/digits/RESULTS.md", "work": "runs/digits_sweep"},
}


def _config_defaults(dataset: str) -> dict[str, Any]:
    with CONFIGS[dataset].open("rb") as fh:
        raw = tomllib.load(fh)
    defaults = raw["defaults"]
    return {
        "model": defaults["model"],
        "epochs": defaults["epochs"],
        "batch_size": defaults["batch_size"],
        "lr": defaults["lr"],
        "betas": ",".join(raw["grid"]["beta"]),
        **_OUTPUTS[dataset],
    }


DEFAULTS: dict[str, dict[str, Any]] = {name: _config_defaults(name) for name in CONFIGS}
"""Per-dataset defaults of the options that are not given on the command line (from
:data:`CONFIGS`, plus where the results go)."""

COLUMNS = ("model", "beta", "accuracy (%)", "LUT", "FF", "latency (cycles)", "EBOPs", "adders")


def pareto_indices(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the ``(accuracy, ebops)`` points no other point dominates, fewest EBOPs first."""
    keep = []
    for n, (acc, cost) in enumerate(points):
        dominated = any(
            a >= acc and c <= cost and (a > acc or c < cost)
            for a, c in points[:n] + points[n + 1 :]
        )
        if not dominated:
            keep.append(n)
    return sorted(keep, key=lambda n: (points[n][1], -points[n][0]))


def _command(argv: list[str]) -> str:
    """The command line as typed from the repository root (relative paths where possible)."""

    def rel(p: str) -> str:
        try:
            path = Path(p).absolute()
            return os.path.relpath(path, ROOT) if path.is_relative_to(ROOT) else p
        except ValueError:
            return p

    return shlex.join([rel(sys.executable), rel(sys.argv[0]), *argv])


def _parser(dataset: str | None) -> argparse.ArgumentParser:
    doc = (__doc__ or "").splitlines()[0]
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--dataset", choices=sorted(DEFAULTS), default=dataset or "jets")
    p.add_argument("--data", help="jet data file (.npz x/y or .csv with 16 features + class)")
    p.add_argument("--model", help="model preset or .toml (default: jet / digits)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int, help="training seed and data split (default: 0)")
    p.add_argument(
        "--deterministic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="TensorFlow op determinism (bit-reproducible training, as hgq train; default on)",
    )
    p.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="XLA training steps, as hgq train (default on; --no-jit: plain TensorFlow)",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--betas", help="constant betas, comma separated (one model each)")
    group.add_argument("--ramp", help="one model with this beta ramp, e.g. log:1e-7:1e-4")
    p.add_argument("--max-points", type=int, default=8, help="Pareto checkpoints kept (--ramp)")
    p.add_argument("--synth", choices=("xc7", "ice40", "ecp5", "none"), default="xc7")
    p.add_argument(
        "--also-synth",
        choices=("xc7", "ice40", "ecp5"),
        default=None,
        help="a second target for the same points (its LUT / FF / Fmax as extra columns)",
    )
    p.add_argument("--max-synth", type=int, default=None, help="synthesize at most N points")
    p.add_argument(
        "--max-synth-adders",
        type=int,
        default=None,
        help="synthesize only designs with at most N adders (Yosys time grows with them)",
    )
    p.add_argument("--pipeline-levels", type=int, help="generator pipeline levels (default 2)")
    p.add_argument("--clock-mhz", type=float, help="nextpnr target (ice40/ecp5; default 200)")
    p.add_argument(
        "--verify",
        type=int,
        help="no effect, kept for old command lines: the export checks every training sample "
        "(as hgq export)",
    )
    p.add_argument("--out", help="Markdown results file (default benchmarks/<dataset>/RESULTS.md)")
    p.add_argument("--work", help="specs, Verilog, results.json (default runs/<dataset>_sweep)")
    p.add_argument(
        "--verbose",
        type=int,
        default=0,
        help="1: print each point's training log when it is done (it is always in "
        "WORK/pNN/logs/train.log)",
    )
    return p


def _options(argv: list[str], dataset: str | None) -> argparse.Namespace:
    args = _parser(dataset).parse_args(argv)
    for key, value in DEFAULTS[args.dataset].items():
        if getattr(args, key) is None and not (key == "betas" and args.ramp):
            setattr(args, key, str(ROOT / value) if key in ("out", "work") else value)
    if args.epochs < 1:
        raise SystemExit(f"--epochs must be >= 1, got {args.epochs}")
    if args.max_synth is not None and args.max_synth < 0:
        raise SystemExit(f"--max-synth must be >= 0, got {args.max_synth}")
    if args.max_synth_adders is not None and args.max_synth_adders < 0:
        raise SystemExit(f"--max-synth-adders must be >= 0, got {args.max_synth_adders}")
    return args


_SETTINGS_FROM_OPTIONS = {
    "epochs": "epochs",
    "batch_size": "batch_size",
    "lr": "lr",
    "seed": "seed",
    "deterministic": "deterministic",
    "jit": "jit",
    "pipeline_levels": "pipeline_levels",
    "clock_mhz": "clock_mhz",
}
"""Point setting -> option: given on the command line, it replaces the config's value."""


def sweep_points(args: argparse.Namespace) -> list[Any]:
    """The :class:`hgqflow.sweep.points.Point` of every model the script trains: the dataset's
    sweep config (:data:`CONFIGS`) with the options given on the command line over its
    ``[defaults]``, one point per ``--betas`` value (the text as typed, so the point id is the
    one ``hgq sweep`` gives the same settings) or one point with the ``--ramp`` schedule.
    Paths on the command line (``--data``, a ``--model`` ``.toml``) are made absolute.
    ``SweepConfigError`` (a ``ValueError``) for settings the sweep would refuse."""
    from hgqflow.sweep.config import parse_config
    from hgqflow.sweep.points import expand_points

    path = CONFIGS[args.dataset]
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    defaults = dict(raw.get("defaults", {}))
    defaults["dataset"] = args.dataset
    if args.data is not None:
        defaults["data"] = str(Path(args.data).absolute())
    model = args.model
    defaults["model"] = str(Path(model).absolute()) if model.endswith(".toml") else model
    for key, option in _SETTINGS_FROM_OPTIONS.items():
        if getattr(args, option) is not None:
            defaults[key] = getattr(args, option)
    if args.synth != "none":
        defaults["target"] = args.synth
    betas = [args.ramp] if args.ramp else [b.strip() for b in args.betas.split(",")]
    sweep = {**raw.get("sweep", {}), "stages": ["train", "export", "gen"]}
    config = parse_config({"sweep": sweep, "defaults": defaults, "grid": {"beta": betas}}, path)
    return expand_points(config)


def _settle_options(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    """The options not given on the command line set to the points' settings (what the
    results file reports)."""
    for key, option in _SETTINGS_FROM_OPTIONS.items():
        setattr(args, option, settings[key])


def _stage(stage: str, point: Any, folder: Path, verbose: int) -> dict[str, Any]:
    """``hgq sweep``'s ``stage`` of ``point`` in ``folder`` (this process); its result."""
    from hgqflow.sweep.stages import log_path, run_stage

    try:
        marker = run_stage(stage, point, folder)
    except Exception:
        print(f"{stage} of {point.id} failed: see {log_path(folder, stage)}", file=sys.stderr)
        raise
    if verbose and stage == "train":
        print(log_path(folder, stage).read_text(encoding="utf-8"), flush=True)
    return marker


def _point_row(
    tag: str, label: str, beta: float, exported: dict[str, Any], spec_path: Path
) -> dict[str, Any]:
    from hgq_hw.spec import load

    meta = load(spec_path).metadata
    return {
        "tag": tag,
        "label": label,
        "beta": beta,
        "accuracy": exported["accuracy"],
        "ebops": exported["ebops"],
        "pruned": meta["pruned_weights"] / meta["weights"],
        "verified_samples": exported["checked"],
        "spec": str(spec_path),
    }


def _train_points(args: argparse.Namespace, points: list[Any], work: Path) -> list[dict[str, Any]]:
    """Train and export every point of :func:`sweep_points` (the stages of ``hgq sweep``),
    measure accuracy and EBOPs and generate its Verilog; returns one dict per table row."""
    import numpy as np

    from hgq_train.callbacks import parse_beta_schedule
    from hgqflow.sweep.stages import export_point

    if args.verify is not None:
        print("note: --verify has no effect: the export checks every training sample", flush=True)
    rows: list[tuple[Any, Path, dict[str, Any]]] = []  # (point, folder, row)
    if args.ramp:
        schedule = parse_beta_schedule(args.ramp)
        if schedule.kind not in ("linear", "log"):
            raise SystemExit(f"--ramp needs a linear or log schedule, got {args.ramp!r}")
        (point,) = points
        ramp = work / "ramp"
        trained = _stage("train", point, ramp, args.verbose)
        per_epoch = trained["seconds"] / point.settings["epochs"]
        pareto = ramp / "train" / "pareto"
        entries = json.loads((pareto / "front.json").read_text(encoding="utf-8"))
        if len(entries) > args.max_points:
            keep = np.linspace(0, len(entries) - 1, args.max_points).round().astype(int)
            entries = [entries[i] for i in np.unique(keep)]
        for n, e in enumerate(entries):
            tag, folder = f"p{n:02d}", work / f"p{n:02d}"
            folder.mkdir(parents=True, exist_ok=True)
            exported = export_point(point, pareto / e["file"], folder / "spec.json")
            beta = schedule(e["epoch"], point.settings["epochs"])
            row = _point_row(tag, f"epoch {e['epoch']}", beta, exported, folder / "spec.json")
            rows.append((point, folder, {**row, "train_s_per_epoch": per_epoch}))
    else:
        for n, point in enumerate(points):
            tag, folder = f"p{n:02d}", work / f"p{n:02d}"
            trained = _stage("train", point, folder, args.verbose)
            per_epoch = trained["seconds"] / point.settings["epochs"]
            print(f"trained beta {point.settings['beta']}: {per_epoch:.2f} s/epoch", flush=True)
            exported = _stage("export", point, folder, args.verbose)["result"]
            beta = float(point.settings["beta"])
            row = _point_row(tag, f"beta {beta:g}", beta, exported, folder / "spec.json")
            rows.append((point, folder, {**row, "train_s_per_epoch": per_epoch}))
    out = []
    for point, folder, row in rows:
        print(
            f"{row['label']}: test accuracy {row['accuracy']:.4f}, EBOPs {row['ebops']:.0f} "
            f"(spec bit-exact on {row['verified_samples']} training samples)",
            flush=True,
        )
        gen = _stage("gen", point, folder, args.verbose)["result"]
        row.update(latency=int(gen["latency"]), adders=int(gen["adders"]), point=point.id)
        out.append(row)
    return out


def _hardware(args: argparse.Namespace, points: list[dict[str, Any]], work: Path) -> None:
    """Synthesize the chosen points (their Verilog is in ``WORK/pNN/gen``)."""
    from hgq_hw.synth import synthesize

    for p in points:
        p.update(luts=None, ffs=None, carry=None, synth_s=None)
    if args.synth == "none":
        return
    front = pareto_indices([(p["accuracy"], p["ebops"]) for p in points])
    rest = sorted(set(range(len(points))) - set(front), key=lambda n: points[n]["ebops"])
    order = front + rest
    if args.max_synth_adders is not None:
        order = [n for n in order if points[n]["adders"] <= args.max_synth_adders]
    if args.max_synth is not None:
        order = order[: args.max_synth]
    for n in order:
        p = points[n]
        start = time.perf_counter()
        try:
            entry = synthesize(work / p["tag"] / "gen", args.synth, clock_mhz=args.clock_mhz)
        except RuntimeError as err:  # a failed Yosys run: keep the other points
            p["synth_error"] = str(err)
            print(f"{p['label']}: synthesis failed: {err}", flush=True)
            continue
        p["synth_s"] = time.perf_counter() - start
        p.update(
            luts=entry["resources"]["luts"],
            ffs=entry["resources"]["ffs"],
            carry=entry["resources"]["carry"],
        )
        if "fmax_mhz" in entry:
            p["fmax_mhz"] = entry["fmax_mhz"]
        print(
            f"{p['label']}: {args.synth} {p['luts']} LUT, {p['ffs']} FF, {p['carry']} carry "
            f"({p['synth_s']:.0f} s)",
            flush=True,
        )
        if args.also_synth:
            _also_synth(args, p, work)


def _also_synth(args: argparse.Namespace, p: dict[str, Any], work: Path) -> None:
    """``--also-synth``: the second target's LUT / FF (and Fmax) as ``p["also"]``."""
    from hgq_hw.synth import synthesize

    start = time.perf_counter()
    try:
        entry = synthesize(work / p["tag"] / "gen", args.also_synth, clock_mhz=args.clock_mhz)
    except RuntimeError as err:
        p["also_error"] = str(err)
        print(f"{p['label']}: {args.also_synth} synthesis failed: {err}", flush=True)
        return
    p["also"] = {
        "target": args.also_synth,
        "luts": entry["resources"]["luts"],
        "ffs": entry["resources"]["ffs"],
        "fmax_mhz": entry.get("fmax_mhz"),
        "seconds": time.perf_counter() - start,
    }
    print(
        f"{p['label']}: {args.also_synth} {p['also']['luts']} LUT, {p['also']['ffs']} FF, "
        f"Fmax {_cell(p['also']['fmax_mhz'], '{:.1f}')} MHz ({p['also']['seconds']:.0f} s)",
        flush=True,
    )


def architecture(
    config: Any, n_features: int, n_classes: int, image_shape: tuple[int, ...] | None
) -> str:
    """A short name of the model: ``64-32-10`` (an MLP's widths) or ``CNN 8x8x1 c4p2-c8-10``
    (``c<filters>`` per convolution, ``p<size>`` after a pooled one, then the dense widths)."""
    from hgq_train.models import CNNConfig

    if not isinstance(config, CNNConfig):
        return "-".join(map(str, (n_features, *config.hidden, n_classes)))
    convs = [f"c{c}" + (f"p{p}" if p > 1 else "") for c, p in zip(config.filters, config.pool)]
    image = "x".join(map(str, image_shape or ()))
    return f"CNN {image} " + "-".join([*convs, *map(str, config.hidden), str(n_classes)])


def _cell(value: Any, fmt: str = "{}") -> str:
    return "—" if value is None else fmt.format(value)


def markdown(points: list[dict[str, Any]], model_name: str, *, mode: str = "betas") -> list[str]:
    """The results table (one row per point, fewest EBOPs last as in the paper)."""
    front = set(pareto_indices([(p["accuracy"], p["ebops"]) for p in points]))
    also = next((p["also"]["target"] for p in points if p.get("also")), None)
    columns = COLUMNS + ((f"{also} LUT", f"{also} FF", f"{also} Fmax (MHz)") if also else ())
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for n, p in sorted(enumerate(points), key=lambda item: -item[1]["ebops"]):
        mark = "*" if n in front else ""
        model = (
            f"HGQ {model_name} {p['label']}{mark}" if mode == "ramp" else f"HGQ {model_name}{mark}"
        )
        rows.append(
            "| "
            + " | ".join(
                (
                    model,
                    f"{p['beta']:.2g}",
                    f"{100 * p['accuracy']:.2f}",
                    _cell(p.get("luts")),
                    _cell(p.get("ffs")),
                    _cell(p.get("latency")),
                    f"{p['ebops']:.0f}",
                    _cell(p.get("adders")),
                    *(
                        (
                            _cell(p.get("also", {}).get("luts")),
                            _cell(p.get("also", {}).get("ffs")),
                            _cell(p.get("also", {}).get("fmax_mhz"), "{:.1f}"),
                        )
                        if also
                        else ()
                    ),
                )
            )
            + " |"
        )
    return rows


def _write_results(
    args: argparse.Namespace,
    command: str,
    data: Any,
    points: list[dict[str, Any]],
    arch: str,
    seconds: float,
) -> str:
    synths = {
        "none": "not run (`--synth none`)",
        "xc7": "Yosys `synth_xilinx -family xc7 -flatten` (LUT = LUT1..LUT6 cells, FF = FD* "
        "cells; no place and route, no DSPs: every product is an adder graph)",
        "ice40": "Yosys `synth_ice40` (LUT = SB_LUT4, FF = SB_DFF*) and nextpnr-ice40",
        "ecp5": "Yosys `synth_ecp5` (LUT = LUT4, FF = TRELLIS_FF) and nextpnr-ecp5",
    }
    synth = synths[args.synth] + (
        f"; `--also-synth {args.also_synth}`: {synths[args.also_synth]} on the same points "
        f"(Fmax from nextpnr at {args.clock_mhz:g} MHz target)"
        if args.also_synth
        else ""
    )
    n_synth = sum(p.get("luts") is not None for p in points)
    mode = "ramp" if args.ramp else "betas"
    how = (
        f"one model, beta ramp `{args.ramp}`, every Pareto checkpoint (validation accuracy vs "
        f"EBOPs, at most {args.max_points}) is a row"
        if args.ramp
        else f"one model per constant beta ({args.betas})"
    )
    lines = [
        f"# HGQ beta sweep on {data.name}: {arch}" + ("" if arch.startswith("CNN") else " MLP"),
        "",
        "Produced by (from the repository root):",
        "",
        f"    {command}",
        "",
        f"- date (UTC): {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M}; host: "
        f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}; "
        f"whole run {seconds / 60:.1f} min",
        f"- data: {data.summary()}",
        f"- training: {how}; {args.epochs} epochs, batch {args.batch_size}, Adam lr {args.lr}, "
        f"seed {args.seed}; XLA {'on' if args.jit else 'off'}, op determinism "
        f"{'on' if args.deterministic else 'off'}; trained and exported by the stages of "
        "`hgq sweep` (`hgqflow.sweep.stages`: `hgq train`'s `run_training`, tf.data batches, "
        "a checkpoint per epoch; the last epoch's model exported), the same spec bit for bit as "
        f"`hgq sweep {CONFIGS[args.dataset].relative_to(ROOT)}` for these settings",
        "- accuracy: test split, argmax of `hgq_hw.reference.predict` on the exported spec (the "
        "bit-exact integer model of the hardware); the spec was checked bit-exact against the "
        f"float64 Keras model on {points[0]['verified_samples'] if points else 0} training "
        "samples",
        "- EBOPs: exact, from the export (calibrated activation widths, weight bit spans)",
        f"- latency and adders: `hgq_hw.emit.generate(spec, pipeline_levels="
        f"{args.pipeline_levels})` report (cycles from input valid to output valid)",
        f"- LUT / FF: {synth}; {n_synth} of {len(points)} points synthesized"
        + (f" (`--max-synth {args.max_synth}`, Pareto points first)" if args.max_synth else "")
        + (
            f" (`--max-synth-adders {args.max_synth_adders}`: designs with more adders skipped)"
            if args.max_synth_adders is not None
            else ""
        ),
        "- `*`: on the Pareto front of (test accuracy, EBOPs) among these rows; `—`: not measured",
        "",
        *markdown(points, arch, mode=mode),
        "",
        "| point | `hgq sweep` point id | pruned weights | train stage s / epochs (data, "
        "tracing, checkpoints included) | synthesis s |",
        "|---|---|---|---|---|",
        *(
            f"| {p['label']} | `{p['point']}` | {100 * p['pruned']:.1f}% | "
            f"{p['train_s_per_epoch']:.2f} | {_cell(p.get('synth_s'), '{:.0f}')} |"
            for p in points
        ),
        "",
    ]
    text = "\n".join(lines)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None, *, dataset: str | None = None) -> int:
    """Run the sweep; ``dataset`` sets the default of ``--dataset``."""
    argv = sys.argv[1:] if argv is None else argv
    args = _options(argv, dataset)
    command = _command(argv)
    print(f"command: {command}", flush=True)
    from hgq_train.data import load_dataset

    try:
        points = sweep_points(args)
        _settle_options(args, points[0].settings)
        data = load_dataset(args.dataset, args.data, seed=args.seed)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from hgq_train.models import resolve_model_config

    config = resolve_model_config(args.model, data.n_features, data.n_classes)
    arch = architecture(config, data.n_features, data.n_classes, data.image_shape)
    print(f"{data.summary()}; {arch if arch.startswith('CNN') else 'MLP ' + arch}", flush=True)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    points = _train_points(args, points, work)
    _hardware(args, points, work)
    seconds = time.perf_counter() - start
    (work / "results.json").write_text(
        json.dumps({"command": command, "points": points}, indent=1) + "\n", encoding="utf-8"
    )
    text = _write_results(args, command, data, points, arch, seconds)
    print()
    print(text)
    print(f"wrote {args.out} and {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
