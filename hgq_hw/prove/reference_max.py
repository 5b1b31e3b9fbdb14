"""The plain reference Verilog of a maximum over windows, for the reference writers of layer
kinds such as MaxPool (:func:`hgq_hw.prove.reference_rtl.register_writer`).

Written the obvious way, knowing nothing of the generator's compare-and-select trees: each
source element is shifted to the output's fractional bits in a signed word wide enough for
every value, and the words are folded left to right with ``a > b ? a : b``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hgq_hw.fixed import TensorType
from hgq_hw.prove.reference_rtl import ElementExprs

__all__ = ["max_elements"]


def max_elements(
    in_type: TensorType, out_type: TensorType, sources: Sequence[Sequence[int]]
) -> ElementExprs:
    """Per output element ``j``, the declarations and the signed wire of
    ``max(x[e] for e in sources[j])`` at ``out_type.f[j]`` fractional bits, on the reference's
    input wires ``x<e>`` (one bit wider than element ``e``, signed).

    ``out_type`` holds every maximum (as :func:`hgq_hw.plan.plan_max` requires); a window whose
    maximum is the constant 0 (every source pruned, or no source above 0 next to a pruned one
    with fewer fractional bits than a source) is the constant ``"0"``.
    """
    lo, hi = in_type.raw_bounds()
    out: ElementExprs = []
    for j, window in enumerate(sources):
        if int(out_type.width[j]) <= 0:
            out.append(None)
            continue
        f_out = int(out_type.f[j])
        live = [int(e) for e in window if int(in_type.width[e]) > 0]
        pruned = len(live) < len(window)
        if not live or any(int(in_type.f[e]) > f_out for e in live):
            out.append(([], "0"))  # the maximum is the constant 0 (the plan checks it)
            continue
        shifts = {e: f_out - int(in_type.f[e]) for e in live}
        bound = max(max(-int(lo[e]), int(hi[e])) << shifts[e] for e in live)
        width = int(bound).bit_length() + 2
        lines: list[str] = []
        terms = []
        for n, e in enumerate(live):
            name = f"m{j}_s{n}"
            lines.append(f"  wire signed [{width - 1}:0] {name} = x{e} <<< {shifts[e]};")
            terms.append(name)
        if pruned:
            terms.append(f"{width}'sd0")
        acc = terms[0]
        for n, term in enumerate(terms[1:]):
            name = f"m{j}_a{n}"
            lines.append(f"  wire signed [{width - 1}:0] {name} = {acc} > {term} ? {acc} : {term};")
            acc = name
        out.append((lines, acc))
    return out
