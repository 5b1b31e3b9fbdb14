"""Deploy one of OUR exported specs through da4ml and synthesize both generators' Verilog alike.

    .venv/bin/python benchmarks/peers/spec_via_da4ml.py SPEC.json OUT_DIR [--hard-dc 2]

Separates the generator from the training: the same network (same integer weights, biases and
quantizers) is traced with da4ml's public tracing API (``FixedVariableArray.from_kif`` on the
spec's input types, ``@`` with the real-valued kernel, ``+`` bias, ``relu``, ``quantize`` with
the spec's ``k, i, f``, TRN/RND and WRAP/SAT), ``comb_trace``, then ``RTLModel(...,
flavor="verilog", latency_cutoff=-1).write()`` (combinational). The traced logic must equal
:func:`hgq_hw.reference.evaluate` on every sample (raw inputs drawn uniformly in the input types,
plus every input's extremes) before anything is synthesized. Supported layers: Input, Dense,
ReLU, Requantize, Output. The Verilog (``OUT_DIR/da4ml``) is synthesized with the script the
peer benchmark uses for both sides (``benchmarks/yosys_luts.py``, xc7 with ``abc9.nomfs``;
cache in ``OUT_DIR/cache``). Prints the trace check and one JSON line of cell counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))

from hgq_hw.reference import evaluate, infer_types, to_real  # noqa: E402
from hgq_hw.spec import (  # noqa: E402
    DenseSpec,
    InputSpec,
    ModelSpec,
    OutputSpec,
    ReLUSpec,
    RequantizeSpec,
    load,
)


def trace(spec: ModelSpec, hard_dc: int):
    """da4ml's ``CombLogic`` of ``spec``, traced layer by layer."""
    from da4ml.trace import FixedVariableArray, comb_trace

    types = infer_types(spec)
    opts = {"hard_dc": hard_dc}
    vals: dict[str, object] = {}
    inp = None
    for layer in spec.layers:
        if isinstance(layer, InputSpec):
            t = types[layer.name]
            inp = FixedVariableArray.from_kif(t.k, t.i, t.f, solver_options=opts)
            vals[layer.name] = inp
        elif isinstance(layer, DenseSpec):
            x = vals[layer.inputs[0]]
            w = np.ldexp(layer.weight_raw.astype(np.float64), -layer.weight_f.astype(np.int32))
            b = np.ldexp(layer.bias_raw.astype(np.float64), -layer.bias_f.astype(np.int32))
            vals[layer.name] = (x @ w) + b
        elif isinstance(layer, ReLUSpec):
            vals[layer.name] = vals[layer.inputs[0]].relu()
        elif isinstance(layer, RequantizeSpec):
            to = layer.type
            vals[layer.name] = vals[layer.inputs[0]].quantize(
                k=to.k,
                i=to.i,
                f=to.f,
                overflow_mode=layer.overflow.name,
                round_mode=layer.round.name,
            )
        elif isinstance(layer, OutputSpec):
            vals[layer.name] = vals[layer.inputs[0]]
        else:
            raise TypeError(f"unsupported layer kind {type(layer).__name__}")
    out = vals[spec.output.name]
    return comb_trace(inp, out)


def check(spec: ModelSpec, comb, n: int = 2000, seed: int = 0) -> int:
    """Outputs of ``comb`` that differ from the reference on ``n`` random raw inputs + extremes."""
    types = infer_types(spec)
    t = types[spec.input.name]
    lo, hi = t.raw_bounds()
    lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
    rng = np.random.default_rng(seed)
    x = np.vstack([rng.integers(lo, hi + 1, (n, len(lo))), lo, hi])
    want = to_real(evaluate(spec, x), types[spec.output.name])
    got = np.asarray(comb.predict(np.ldexp(x.astype(np.float64), -t.f.astype(np.int32))))
    return int(np.sum(got.reshape(want.shape) != want))


def main() -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("spec")
    p.add_argument("out")
    p.add_argument("--hard-dc", type=int, default=2)
    args = p.parse_args()
    from da4ml.codegen import RTLModel
    from yosys_luts import yosys_cells

    sys.path.insert(0, str(BENCH / "peers"))
    from hgq2_vs_ours import da4ml_sources

    spec = load(args.spec)
    out = Path(args.out).resolve()
    comb = trace(spec, args.hard_dc)
    bad = check(spec, comb)
    print(f"da4ml trace: cost {comb.cost}, mismatches {bad} (seed 0)", flush=True)
    if bad:
        return 1
    RTLModel(comb, "model", out / "da4ml", flavor="verilog", latency_cutoff=-1).write()
    files, top, _ = da4ml_sources(out / "da4ml")
    cells = yosys_cells(out / "da4ml" / "src", files, top, "xc7", out / "cache", nomfs=True)
    print(json.dumps({"design": "da4ml", **{k: cells[k] for k in ("luts", "carry", "ffs")}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
