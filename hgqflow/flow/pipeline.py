"""``hgq flow``: dataset -> HGQ training -> Pareto front -> chosen model -> spec -> Verilog ->
cocotb regression -> synthesis -> (board bitstream) -> report with plots.

Every stage writes files into the run folder and the next stage reads only those files, so each
can be re-run alone with its own command::

    RUN/train/        hgq train   (model.keras, pareto/*.keras + front.json, history.json)
    RUN/front.json    the Pareto checkpoints exported and measured exactly (this module)
    RUN/spec.json     hgq export  of the chosen checkpoint
    RUN/gen/          hgq gen     (<name>.v, report.json; hgq synth adds to report.json)
    RUN/sim/          hgq sim
    RUN/board/        hgq build   (optional)
    RUN/report.md, RUN/report.json, RUN/plots/*.png

The chosen checkpoint is the one with the fewest exact EBOPs whose validation accuracy is
within ``tolerance`` of the best validation accuracy on the front (test data never chooses).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw import atomic
from hgq_hw.synth import timing_note

__all__ = ["FlowOptions", "choose", "run_flow"]


@dataclass
class FlowOptions:
    """Everything ``hgq flow`` can be told; the defaults make the bundled digits demo."""

    out: Path
    dataset: str = "digits"
    data: str | None = None
    model: str | None = None
    epochs: int = 60
    beta: str = "log:1e-7:1e-3"
    seed: int = 0
    batch_size: int = 64
    lr: float = 3e-3
    tolerance: float = 0.01
    max_front: int = 12
    pipeline_levels: int = 2
    io: str = "parallel"
    simulator: str = "verilator"
    samples: int = 200
    target: str | None = "ecp5"
    clock_mhz: float = 100.0
    board: str | None = None
    top: str = "selftest"
    resume: bool = False
    verbose: int = 2
    jit: bool = True
    deterministic: bool = True
    sign_bits: bool | None = None
    weight_f_init: float | None = None
    weight_init_bits: float | None = None
    grad_scale_on: str | None = None
    cost: str = "ebops"
    lr_schedule: str = "constant"
    calibration_margin_bits: int = 0
    fold_rounding: bool = True


@dataclass
class Stage:
    name: str
    seconds: float = 0.0
    status: str = "pending"
    detail: dict[str, Any] = field(default_factory=dict)


class _Stages:
    """Prints one banner per stage with its number and the time it took."""

    def __init__(self, names: list[str]) -> None:
        self.stages = {name: Stage(name) for name in names}
        self.order = names
        self.start = time.perf_counter()

    def run(
        self,
        name: str,
        fn: Callable[[], dict[str, Any]],
        verdict: Callable[[dict[str, Any]], str | None] | None = None,
    ) -> dict[str, Any]:
        """Run stage ``name``; its status is "ok", or "ok, <what verdict says>" when
        ``verdict`` finds something to say about the result (a missed clock), or "failed"."""
        stage = self.stages[name]
        number = self.order.index(name) + 1
        print(
            f"\n=== [{number}/{len(self.order)}] {name} "
            f"(flow time {time.perf_counter() - self.start:.0f} s) ===",
            flush=True,
        )
        t0 = time.perf_counter()
        try:
            stage.detail = fn() or {}
            note = verdict(stage.detail) if verdict else None
            stage.status = f"ok, {note}" if note else "ok"
        except BaseException:
            stage.status = "failed"
            raise
        finally:
            stage.seconds = time.perf_counter() - t0
            print(f"--- {name}: {stage.status} in {stage.seconds:.1f} s", flush=True)
        return stage.detail

    def skip(self, name: str, why: str) -> None:
        self.stages[name].status = f"skipped ({why})"
        print(f"\n=== {name}: skipped ({why}) ===", flush=True)

    def table(self) -> list[dict[str, Any]]:
        return [
            {"stage": s.name, "status": s.status, "seconds": round(s.seconds, 2)}
            for s in (self.stages[n] for n in self.order)
        ]


def _accuracy(spec: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Exact accuracy of a spec: argmax of the real output values of the integer reference."""
    from hgq_hw.reference import predict

    return float(np.mean(np.argmax(predict(spec, x), axis=1) == y))


def _lut_estimate(spec: Any, pipeline_levels: int) -> dict[str, int]:
    """Adder count and adder bits of the generated network (adder bits ~ LUTs on 4-LUT FPGAs)."""
    from hgq_hw.plan import plan_network

    plan = plan_network(spec, pipeline_levels=pipeline_levels)
    return {"adders": plan.n_adders, "adder_bits": plan.adder_bits, "registers": plan.registers}


def choose(front: list[dict[str, Any]], tolerance: float) -> dict[str, Any]:
    """The fewest-EBOPs point whose ``val_accuracy`` is within ``tolerance`` of the best."""
    if not front:
        raise ValueError("the Pareto front is empty: did training run for at least one epoch?")
    best = max(p["val_accuracy"] for p in front)
    good = [p for p in front if p["val_accuracy"] >= best - tolerance]
    return min(good, key=lambda p: (p["ebops"], -p["val_accuracy"]))


def _train(opts: FlowOptions, run: Path) -> dict[str, Any]:
    from hgq_train.run import TrainOptions, run_training

    result = run_training(
        TrainOptions(
            out=run / "train",
            dataset=opts.dataset,
            data=opts.data,
            model=opts.model,
            epochs=opts.epochs,
            beta=opts.beta,
            seed=opts.seed,
            batch_size=opts.batch_size,
            lr=opts.lr,
            resume=opts.resume and (run / "train").exists(),
            verbose=opts.verbose,
            jit=opts.jit,
            deterministic=opts.deterministic,
            sign_bits=opts.sign_bits,
            weight_f_init=opts.weight_f_init,
            weight_init_bits=opts.weight_init_bits,
            grad_scale_on=opts.grad_scale_on,
            cost=opts.cost,
            lr_schedule=opts.lr_schedule,
        )
    )
    history = json.loads(result.history_path.read_text())
    return {"epochs": len(history), "history": str(result.history_path)}


def _front(opts: FlowOptions, run: Path) -> dict[str, Any]:
    """Export every Pareto checkpoint and measure it exactly (accuracy, EBOPs, adders)."""
    from tqdm import tqdm

    import hgq_train
    from hgq_hw.spec import save
    from hgq_train.data import load_dataset
    from hgq_train.export import export_with_model

    data = load_dataset(opts.dataset, opts.data, seed=opts.seed)
    pareto = run / "train" / "pareto"
    entries = json.loads((pareto / "front.json").read_text())
    if len(entries) > opts.max_front:  # keep an even spread over EBOPs
        keep = np.unique(np.linspace(0, len(entries) - 1, opts.max_front).round().astype(int))
        entries = [entries[i] for i in keep]
    specs_dir = run / "front"
    specs_dir.mkdir(exist_ok=True)
    points = []
    for entry in tqdm(entries, desc="export Pareto checkpoints", unit="ckpt"):
        model = hgq_train.load_model(str(pareto / entry["file"]))
        result = export_with_model(
            model,
            data.x_train,
            name=f"{data.name}_e{entry['epoch']}",
            metadata={"dataset": opts.dataset, "epoch": entry["epoch"]},
            calibration_margin_bits=opts.calibration_margin_bits,
            fold_rounding=opts.fold_rounding,
        )
        spec_path = save(result.spec, specs_dir / f"epoch{entry['epoch']:04d}.json")
        points.append(
            {
                "epoch": entry["epoch"],
                "file": entry["file"],
                "spec": str(spec_path),
                "ebops": float(result.ebops),
                "val_accuracy": _accuracy(result.spec, data.x_val, data.y_val),
                "accuracy": _accuracy(result.spec, data.x_test, data.y_test),
                **_lut_estimate(result.spec, opts.pipeline_levels),
            }
        )
    points.sort(key=lambda p: p["ebops"])
    chosen = choose(points, opts.tolerance)
    front = {"points": points, "chosen": chosen}
    atomic.write_text(run / "front.json", json.dumps(front, indent=1))
    print(
        f"{len(points)} Pareto checkpoints; chosen epoch {chosen['epoch']}: "
        f"val {chosen['val_accuracy']:.4f}, test {chosen['accuracy']:.4f}, "
        f"EBOPs {chosen['ebops']:.0f}, ~{chosen['adder_bits']} adder bits"
    )
    return {"points": len(points), "chosen": chosen}


def _export(opts: FlowOptions, run: Path, chosen: dict[str, Any]) -> dict[str, Any]:
    from hgq_train.run import export_checkpoint
    from hgqflow.cli.spec_cmds import spec_summary

    result = export_checkpoint(
        run / "train" / "pareto" / chosen["file"],
        run / "spec.json",
        name=f"{opts.dataset}_hgq" if opts.dataset in ("digits", "jets") else "hgq_model",
        calibration_margin_bits=opts.calibration_margin_bits,
        fold_rounding=opts.fold_rounding,
    )
    print(spec_summary(result.path))
    print(
        f"EBOPs {result.ebops:.0f}; spec test accuracy {result.test_accuracy:.4f}; bit-exact "
        f"against the Keras model (float64) on {result.checked} calibration samples"
    )
    return {"spec": str(run / "spec.json")}


def _gen(opts: FlowOptions, run: Path) -> dict[str, Any]:
    from hgq_hw.emit import format_report, generate
    from hgq_hw.spec import load

    design = generate(
        load(run / "spec.json"), run / "gen", pipeline_levels=opts.pipeline_levels, io=opts.io
    )
    print(format_report(design.report))
    keys = ("name", "verilog", "latency", "adders", "adder_depth", "adder_bits", "registers")
    return {k: design.report[k] for k in keys if k in design.report}


def _sim(opts: FlowOptions, run: Path) -> dict[str, Any]:
    from hgq_hw.spec import load
    from hgq_train.data import load_dataset
    from sim.design import design_from_dir
    from sim.runner import run_regression

    spec = load(run / "spec.json")
    data = load_dataset(opts.dataset, opts.data, seed=opts.seed)
    result = run_regression(
        spec,
        design_from_dir(run / "gen", spec),
        work_dir=run / "sim",
        simulator=opts.simulator,
        samples=opts.samples,
        seed=opts.seed,
        data=data.x_test.reshape(len(data.x_test), -1),
    )
    print(result.summary())
    if not result.passed:
        from hgq_hw.toolchain import ToolError

        raise ToolError(
            result.simulator,
            f"cocotb regression of {run / 'gen'} failed: {result.mismatch_count} mismatches, "
            f"{result.failures} of {result.tests} cocotb tests failed",
            log=result.log,
        )
    return {
        "simulator": result.simulator,
        "checked": result.checked,
        "mismatches": result.mismatch_count,
        "latency": result.latency,
        "cycles_per_second": round(result.cycles_per_second),
        "edge_coverage": list(result.edge_coverage),
        "table_coverage": list(result.table_coverage),
    }


def _synth(opts: FlowOptions, run: Path) -> dict[str, Any]:
    from hgq_hw.synth import synthesize

    entry = synthesize(
        run / "gen",
        opts.target,
        clock_mhz=opts.clock_mhz,
        progress=lambda line: print(f"  {line}", flush=True),
    )
    fmax = entry.get("fmax_mhz")
    timing = f"Fmax {fmax:.1f} MHz" if fmax is not None else "no place-and-route result"
    print(f"  {opts.target}: {entry['resources']}, {timing}")
    return {"target": opts.target, **{k: v for k, v in entry.items() if k != "cells"}}


def _board(opts: FlowOptions, run: Path) -> dict[str, Any]:
    from boards.build import build_board, format_build_report
    from boards.registry import get_board
    from hgq_hw.emit import read_report
    from hgq_hw.spec import load

    target = get_board(opts.board)
    # the board gets the network as gen built it (a stream design: the stream tops)
    io = "stream" if "stream" in read_report(run / "gen") else "parallel"
    print(f"building the {opts.top} top ({io}) for the {target.description} in {run / 'board'}")
    report = build_board(load(run / "spec.json"), target, opts.top, run / "board", io=io)
    print(format_build_report(report))
    return report


def run_flow(opts: FlowOptions) -> dict[str, Any]:
    """Run every stage into ``opts.out``; returns (and writes) the report dict."""
    from hgqflow.flow.report import write_report

    run = Path(opts.out)
    run.mkdir(parents=True, exist_ok=True)
    names = ["train", "pareto front", "export", "gen", "sim", "synth", "board", "report"]
    stages = _Stages(names)
    print(f"hgq flow -> {run} (dataset {opts.dataset}, seed {opts.seed})")
    results: dict[str, Any] = {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(opts).items()}
    }
    results["train"] = stages.run("train", lambda: _train(opts, run))
    results["front"] = stages.run("pareto front", lambda: _front(opts, run))
    chosen = results["front"]["chosen"]
    results["export"] = stages.run("export", lambda: _export(opts, run, chosen))
    results["gen"] = stages.run("gen", lambda: _gen(opts, run))
    results["sim"] = stages.run("sim", lambda: _sim(opts, run))
    if opts.target:
        results["synth"] = stages.run("synth", lambda: _synth(opts, run), timing_note)
    else:
        stages.skip("synth", "no --target")
    if opts.board:
        results["board"] = stages.run("board", lambda: _board(opts, run))
    else:
        stages.skip("board", "no --board")
    results["stages"] = stages.table()
    report = stages.run("report", lambda: write_report(run, results))
    results["stages"] = stages.table()
    atomic.write_json(run / "report.json", results, indent=1, default=str)
    print(f"\nreport: {run / 'report.md'}")
    return report
