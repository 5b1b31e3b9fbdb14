"""Stream mode on an SVHN-shaped network (the HGQ paper's SVHN model, random weights).

32x32x3 input, Conv2D 3x3 -> 16, MaxPool 2, Conv2D 3x3 -> 16, MaxPool 2, Conv2D 3x3 -> 24,
MaxPool 2, Flatten, Dense 42, Dense 64, Dense 10 ("valid" convolutions, a Requantize and a
ReLU after every Conv and Dense, one type per channel, pruned low-bit weights). Prints the
seconds to plan and to write the Verilog, the plan's numbers (adders, registers, line-buffer
and gather bits, initiation interval in cycles per image, latency), and checks the cycle model
on a few images streamed back to back against the reference (seconds, and whether every
output matched).

    python benchmarks/stream_svhn.py [--seed 0] [--images 2] [--pipeline-levels 2] [-o DIR]
        [--icarus DIR] [--cocotb N [--sim verilator|icarus] [--work DIR]]

With ``-o DIR`` the Verilog and ``report.json`` are written there (``hgq gen --io stream``);
with ``--icarus DIR`` the Verilog also runs in Icarus on the same stream, checked cycle by
cycle against the cycle model; with ``--cocotb N`` the design runs in cocotb
(:mod:`sim.tb_stream`, on Verilator by default) on its corner and border images and ``N``
random images, pixel by pixel with gaps in ``valid`` and a reset mid-image, every output
checked against the reference; it prints the regression's summary and the build seconds.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from hgq_hw.fixed import Overflow, Round
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import (
    ConvSpec,
    DenseSpec,
    InputSpec,
    MaxPoolSpec,
    ModelSpec,
    OutputSpec,
    Padding,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
)


def svhn_like(seed: int, *, prune: float = 0.5, weight_max: int = 7) -> ModelSpec:
    """The SVHN-shaped chain with random pruned weights (see the module): each weight is zero
    with probability ``prune``, otherwise a raw integer in ``[-weight_max, weight_max]`` (the
    defaults are this script's numbers; ``benchmarks/svhn_fit.py`` draws sparser, narrower
    ones)."""
    rng = np.random.default_rng(seed)
    shape: tuple[int, ...] = (32, 32, 3)
    layers: list = [
        InputSpec(name="x", k=np.zeros(shape, int), i=np.zeros(shape, int), f=np.full(shape, 8))
    ]

    def add(layer) -> None:
        nonlocal shape
        shape = layer.output_shape([shape])
        layers.append(layer)

    def weights(size) -> tuple[np.ndarray, np.ndarray]:
        raw = rng.integers(-weight_max, weight_max + 1, size)
        raw[rng.random(size) < prune] = 0
        return raw, rng.integers(2, 5, size)

    def quantize(name: str) -> None:
        c = shape[-1]
        bits = rng.integers(4, 7, c)
        f = rng.integers(2, 5, c)
        tile = (*shape[:-1], 1)
        add(
            RequantizeSpec(
                name=name,
                inputs=(layers[-1].name,),
                k=np.tile(np.ones(c, int), tile),
                i=np.tile(bits - 1 - f, tile),
                f=np.tile(f, tile),
                round=Round.RND,
                overflow=Overflow.SAT,
            )
        )
        add(ReLUSpec(name=f"{name}_relu", inputs=(layers[-1].name,)))

    for n, c_out in enumerate((16, 16, 24)):
        kernel, kernel_f = weights((3, 3, shape[-1], c_out))
        add(
            ConvSpec(
                name=f"conv{n}",
                inputs=(layers[-1].name,),
                kernel_raw=kernel,
                kernel_f=kernel_f,
                bias_raw=rng.integers(-4, 5, c_out),
                bias_f=np.full(c_out, 3),
                strides=(1, 1),
                padding=Padding.VALID,
            )
        )
        quantize(f"q{n}")
        add(
            MaxPoolSpec(
                name=f"pool{n}",
                inputs=(layers[-1].name,),
                pool_size=(2, 2),
                strides=(2, 2),
                padding=Padding.VALID,
            )
        )
    add(ReshapeSpec(name="flat", inputs=(layers[-1].name,), shape=(int(np.prod(shape)),)))
    for n, n_out in enumerate((42, 64, 10)):
        w, wf = weights((shape[0], n_out))
        add(
            DenseSpec(
                name=f"dense{n}",
                inputs=(layers[-1].name,),
                weight_raw=w,
                weight_f=wf,
                bias_raw=rng.integers(-4, 5, n_out),
                bias_f=np.full(n_out, 3),
            )
        )
        if n < 2:
            quantize(f"qd{n}")
    layers.append(OutputSpec(name="out", inputs=(layers[-1].name,)))
    return ModelSpec(f"svhn_like_{seed}", layers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--pipeline-levels", type=int, default=2)
    parser.add_argument("-o", "--output", default=None)
    parser.add_argument(
        "--icarus", default=None, metavar="DIR", help="also run the Verilog in Icarus in DIR"
    )
    parser.add_argument(
        "--cocotb", type=int, default=None, metavar="N", help="cocotb on N random images too"
    )
    parser.add_argument("--sim", default="verilator", choices=["verilator", "icarus"])
    parser.add_argument("--work", default="runs/stream_svhn", help="cocotb work folder")
    args = parser.parse_args()

    from hgq_hw.stream import plan_stream_network
    from hgq_hw.stream.netlist import write_stream_network

    spec = svhn_like(args.seed)
    t0 = time.perf_counter()
    plan = plan_stream_network(spec, pipeline_levels=args.pipeline_levels)
    t_plan = time.perf_counter() - t0
    t0 = time.perf_counter()
    text = write_stream_network(plan, "dut")
    t_write = time.perf_counter() - t0
    print(f"spec {spec.name}, pipeline_levels={args.pipeline_levels}")
    print(f"plan: {t_plan:.2f} s, Verilog: {t_write:.2f} s ({len(text.splitlines())} lines)")
    report = plan.report()
    for key in ("ii", "latency", "buffer_bits", "registers", "adders"):
        print(f"  {key}: {report[key]}")
    for st in report["stages"]:
        print("  stage", {k: v for k, v in st.items() if k != "adder_depth"})
    print(f"  dense part: latency {plan.dense.latency}, adders {plan.dense.n_adders}")

    rng = np.random.default_rng(args.seed)
    lo, hi = (np.asarray(v, dtype=np.int64).ravel() for v in spec.input.type.raw_bounds())
    images = np.array([rng.integers(lo, hi + 1) for _ in range(args.images)])
    pixels = images.reshape(args.images, plan.n_pixels, plan.c_in)
    valid, data = [], []
    for image in pixels:  # back to back, one pixel per cycle
        for px in image:
            valid.append(True)
            data.append([int(v) for v in px])
    for _ in range(plan.latency + 2):
        valid.append(False)
        data.append([0] * plan.c_in)
    t0 = time.perf_counter()
    out_valid, outs = plan.run(valid, data)
    t_run = time.perf_counter() - t0
    got = [o for v, o in zip(out_valid, outs) if v]
    want = np.asarray(evaluate(spec, images)).reshape(args.images, -1)
    f_ref = infer_types(spec)["out"].f.ravel()
    f_got = plan.out_type.f
    same = len(got) == len(want) and all(
        int(g) << max(int(fr) - int(fg), 0) == int(r) << max(int(fg) - int(fr), 0)
        for row_g, row_r in zip(got, want)
        for g, r, fg, fr in zip(row_g, row_r, f_got, f_ref)
    )
    print(
        f"cycle model: {args.images} images, {len(valid)} cycles in {t_run:.1f} s; "
        f"outputs equal to the reference: {same}"
    )
    if args.icarus:
        from hgq_hw.stream.testbench import run_stream_verilog

        t0 = time.perf_counter()
        rst = [False] * len(valid)
        sim = run_stream_verilog(
            text, plan.pixel_layout, plan.out_layout, valid, data, rst, args.icarus
        )
        t_sim = time.perf_counter() - t0
        words = [
            plan.out_layout.pack(np.array([o], dtype=object))[0] if v else 0
            for v, o in zip(out_valid, outs)
        ]
        equal = [(v, w) for v, w in zip(out_valid, words)] == sim
        print(f"Icarus: {len(valid)} cycles in {t_sim:.1f} s; equal to the cycle model: {equal}")
    if args.cocotb is not None:
        cocotb_run(spec, plan, text, args)
    if args.output:
        from hgq_hw.emit import generate

        generate(spec, args.output, io="stream", pipeline_levels=args.pipeline_levels)
        print(f"wrote {args.output}")


def cocotb_run(spec: ModelSpec, plan, text: str, args: argparse.Namespace) -> None:
    """``--cocotb N``: the plan's Verilog in cocotb on corner, border and N random images."""
    from pathlib import Path

    from sim.runner import DesignFiles, run_regression

    work = Path(args.work)
    (work / "gen").mkdir(parents=True, exist_ok=True)
    verilog = work / "gen" / "dut.v"
    verilog.write_text(text)
    options = {"pipeline_levels": args.pipeline_levels, "depth_slack": None}
    design = DesignFiles(verilog, "dut", plan.latency, stream=True, options=options, plan=plan)
    t0 = time.perf_counter()
    result = run_regression(
        spec, design, work_dir=work, simulator=args.sim, samples=args.cocotb, seed=args.seed
    )
    print(f"cocotb ({args.sim}): {time.perf_counter() - t0:.1f} s in all")
    print(result.summary())


if __name__ == "__main__":
    main()
