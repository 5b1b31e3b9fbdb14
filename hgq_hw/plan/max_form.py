"""How a :class:`~hgq_hw.plan.MaxPlan` is built from bits: the rule both writers follow.

The Amaranth component (:mod:`hgq_hw.components.max`) and the direct Verilog writer
(:mod:`hgq_hw.netlist.max`) both render the :class:`CompareSelect` of every op and the
:class:`Readout` of every output, so the two netlists compare the same words, break ties the
same way and keep the same bits by construction (the tests simulate both to prove it). How a
value is brought to other fractional bits (:func:`hgq_hw.plan.max.align`: a left shift, or an
arithmetic right shift) is each writer's own wiring.
"""

from __future__ import annotations

from dataclasses import dataclass

from hgq_hw.fixed import signed_bits
from hgq_hw.plan.max import MaxPlan, align

__all__ = ["CompareSelect", "Readout", "compare_selects", "readouts"]


@dataclass(frozen=True)
class CompareSelect:
    """Node ``node``, in stage ``stage``: operands ``a`` and ``b`` (nodes, at ``f_a`` and
    ``f_b`` fractional bits) aligned to ``f`` as signed words of ``width`` bits; the node is
    ``a`` when ``a >= b`` (signed; a tie takes ``a``), else ``b``, cut to its ``bits`` low bits
    (two's complement when ``signed``; ``bits == 0``: the constant 0)."""

    node: int
    stage: int
    a: int
    f_a: int
    b: int
    f_b: int
    f: int
    width: int
    signed: bool
    bits: int


def compare_selects(plan: MaxPlan) -> list[CompareSelect]:
    """The :class:`CompareSelect` of every op of ``plan``, in order (node ``n_in + k`` for
    ``ops[k]``)."""
    out = []
    for index, op in enumerate(plan.ops):
        node = plan.n_in + index
        lo, hi, _ = plan.nodes[node]
        k, bits = signed_bits(lo, hi)
        out.append(
            CompareSelect(
                node=node,
                stage=plan.placed[node][0],
                a=op.a,
                f_a=plan.nodes[op.a][2],
                b=op.b,
                f_b=plan.nodes[op.b][2],
                f=op.f,
                width=plan.compare_width(index),
                signed=bool(k),
                bits=bits,
            )
        )
    return out


@dataclass(frozen=True)
class Readout:
    """How an output reads node ``node`` (at ``f_node`` fractional bits): with ``drop == 0``
    the node itself, carried to the last stage; otherwise the node brought down by ``drop``
    fractional bits in stage ``start`` (a value of ``bits`` bits, two's complement when
    ``signed``), carried from there to the last stage. Then shifted left by ``shift`` to the
    output's fractional bits."""

    node: int
    f_node: int
    drop: int
    start: int
    signed: bool
    bits: int
    shift: int


def readouts(plan: MaxPlan) -> list[Readout | None]:
    """The :class:`Readout` of every output of ``plan``; None for a width-0 output or one
    whose node is the constant 0."""
    _, narrow = plan.register_chains()
    out: list[Readout | None] = []
    for j, v in enumerate(plan.outputs):
        if int(plan.out_type.width[j]) == 0 or plan.node_width(v) == 0:
            out.append(None)
            continue
        lo, hi, f_node = plan.nodes[v]
        c = plan.output_f(j)
        if c >= f_node:
            k, bits = signed_bits(lo, hi)
            start, drop = plan.latency, 0
        else:
            k, bits = signed_bits(align(lo, f_node, c), align(hi, f_node, c))
            start, drop = narrow[(v, c)], f_node - c
        shift = int(plan.out_type.f[j]) - c
        out.append(Readout(v, f_node, drop, start, bool(k), bits, shift))
    return out
