"""The plain reference Verilog of the merging layers (Add, Subtract, Multiply, Concatenate),
for :mod:`hgq_hw.prove.reference_rtl`.

A merge reads several tensors; its reference module reads them as one bus, the inputs'
buses side by side (input 0 in the low bits), so its input type is the concatenation of the
inputs' flattened types (:func:`hgq_hw.prove.reference_rtl.joined_type`) and element ``e``
of input ``n`` is wire ``x<offset_n + e>``. Written the obvious way: ``(a <<< s_a) +
(b <<< s_b)``, ``a - b`` and ``a * b`` in a signed word wide enough for the exact value,
knowing nothing of the generator's adders.
"""

from __future__ import annotations

import numpy as np

from hgq_hw.fixed import TensorType
from hgq_hw.lowering import FlatConcatenateSpec
from hgq_hw.prove.reference_rtl import ElementExprs, register_writer
from hgq_hw.spec import AddSpec, LayerSpec, MultiplySpec, SubtractSpec

__all__: list[str] = []


def _elementwise(layer: LayerSpec, in_type: TensorType, out_type: TensorType) -> ElementExprs:
    n = out_type.shape[0]
    lo, hi = in_type.raw_bounds()
    out: ElementExprs = []
    for e in range(n):
        if int(out_type.width[e]) <= 0:
            out.append(None)
            continue
        f = int(out_type.f[e])
        terms, bound = [], 1
        for idx in (e, n + e):
            if int(in_type.width[idx]) == 0:
                terms.append(None)
                continue
            mag = max(-int(lo[idx]), int(hi[idx]))
            if isinstance(layer, MultiplySpec):
                terms.append(f"x{idx}")
                bound *= mag
            else:
                shift = f - int(in_type.f[idx])
                terms.append(f"(x{idx} <<< {shift})")
                bound += mag << shift
        if isinstance(layer, MultiplySpec):
            if None in terms:
                out.append(([], "0"))
                continue
            expr = f"{terms[0]} * {terms[1]}"
        elif isinstance(layer, SubtractSpec):
            a, b = terms
            expr = f"{a or '0'} - {b}" if b else a
        else:
            expr = " + ".join(t for t in terms if t)
        width = int(bound).bit_length() + 2
        out.append(([f"  wire signed [{width - 1}:0] y{e} = {expr};"], f"y{e}"))
    return out


def _concatenate(
    layer: FlatConcatenateSpec, in_type: TensorType, out_type: TensorType
) -> ElementExprs:
    offsets = np.cumsum([0] + [int(np.prod(s)) for s in layer.in_shapes])
    out: ElementExprs = []
    for j, (n, e) in enumerate(layer.sources):
        idx = int(offsets[n]) + e
        out.append(([], f"x{idx}") if int(in_type.width[idx]) > 0 else None)
        if int(out_type.width[j]) <= 0:
            out[-1] = None
    return out


for _kind in (AddSpec, SubtractSpec, MultiplySpec):
    register_writer(_kind, _elementwise)
register_writer(FlatConcatenateSpec, _concatenate)
