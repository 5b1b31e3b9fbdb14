"""How far the fixed-point softmax (:class:`hgq_train.layers.QSoftmax`) is from the float one.

For each bit budget ``f`` (the fractional bits of every quantizer inside the softmax: the exp
table's input and output, the sum, the reciprocal and the output), a ``QInput -> QSoftmax``
model over ``n`` logits is calibrated on random logits (normal, scale ``--scale``, quantized
to 8 fractional bits by the ``QInput``), exported, and its spec evaluated exactly
(:func:`hgq_hw.reference.evaluate`, what the hardware computes bit for bit). Printed per
budget: the table sizes, the softmax EBOPs, the largest and mean absolute error against the
float64 softmax of the same quantized logits, and how often the argmax agrees with the float
argmax (ties of the fixed-point output go to the lowest index, as the board tops' argmax).

    PYTHONPATH=. python benchmarks/softmax_error.py [--samples 2000] [--n 10] [--seed 0]
"""

from __future__ import annotations

import argparse

import keras
import numpy as np

from boards.protocol import argmax_exact
from hgq_hw.reference import evaluate, infer_types, quantize_inputs
from hgq_train.ebops import ebops_per_layer
from hgq_train.export import export_with_model, verify
from hgq_train.layers import QInput, QSoftmax

__all__ = ["main", "measure"]


def _model(n: int, f: int) -> keras.Model:
    common = {"gamma": 0.0, "overflow": "SAT"}
    return keras.Sequential(
        [
            keras.Input(shape=(n,)),
            QInput(f_init=8.0, name="logits", **common),
            QSoftmax(
                f_init=float(f),
                exp_in_f_init=float(f),
                exp_out_f_init=float(f),
                sum_f_init=float(f),
                recip_f_init=float(f),
                out_f_init=float(f),
                table_f_max=float(f),
                name="sm",
                **common,
            ),
        ]
    )


def measure(f: int, x: np.ndarray) -> dict[str, float]:
    """Errors of the exported softmax of budget ``f`` on logits ``x`` (module docstring)."""
    model = _model(x.shape[1], f)
    result = export_with_model(model, x)
    spec = result.spec
    verify(result.model64, spec, x[:256])  # the spec is the Keras model, bit for bit
    types = infer_types(spec)
    raw_in = quantize_inputs(spec, x)
    logits = raw_in.astype(np.float64) * 2.0 ** -types[spec.layers[0].name].f
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    exact = e / e.sum(axis=1, keepdims=True)
    out_type = types[spec.output.name]
    raw = np.asarray(evaluate(spec, raw_in), dtype=object).reshape(len(x), -1)
    fixed = raw.astype(np.float64) * 2.0 ** -out_type.f.astype(np.float64)
    agree = [argmax_exact(r, out_type) == int(np.argmax(p)) for r, p in zip(raw, exact)]
    width = {name: t.width for name, t in types.items()}
    return {
        "exp_entries": float(np.sum(2.0 ** width["sm_exp_in"])),
        "recip_entries": float(np.sum(2.0 ** width["sm_recip_in"])),
        "ebops": ebops_per_layer(result.model64, exact=True)["sm"],
        "max_abs": float(np.max(np.abs(fixed - exact))),
        "mean_abs": float(np.mean(np.abs(fixed - exact))),
        "argmax_agree": float(np.mean(agree)),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--n", type=int, default=10, help="softmax width (classes)")
    parser.add_argument("--scale", type=float, default=3.0, help="std of the logits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budgets", type=int, nargs="+", default=[2, 3, 4, 5, 6])
    args = parser.parse_args(argv)
    print(f"seed {args.seed}, {args.samples} samples of {args.n} logits ~ N(0, {args.scale}^2)")
    x = np.random.default_rng(args.seed).normal(scale=args.scale, size=(args.samples, args.n))
    print(
        f"{'f':>3} {'exp entries':>11} {'1/x entries':>11} {'EBOPs':>9} "
        f"{'max |err|':>10} {'mean |err|':>10} {'argmax = float':>14}"
    )
    for f in args.budgets:
        m = measure(f, x)
        print(
            f"{f:>3} {m['exp_entries']:>11.0f} {m['recip_entries']:>11.0f} {m['ebops']:>9.1f} "
            f"{m['max_abs']:>10.5f} {m['mean_abs']:>10.5f} {m['argmax_agree']:>14.4f}"
        )


if __name__ == "__main__":
    main()
