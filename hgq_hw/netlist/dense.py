"""A :class:`~hgq_hw.plan.DensePlan` as nets: every adder of its graph in the stage the plan
places it, each built as :func:`hgq_hw.plan.adder_form.adder_form` says (as
:class:`hgq_hw.components.DenseLayer` builds it)."""

from __future__ import annotations

from hgq_hw.cmvm import Op
from hgq_hw.fixed import signed_bits
from hgq_hw.netlist.layers import Delays, Tensor, delay_valid, element_nets, register_writer
from hgq_hw.netlist.text import Net, Netlist, const_bits, resized, slice_bits
from hgq_hw.plan.adder_form import adder_form
from hgq_hw.plan.dense import DensePlan

__all__ = ["write_dense"]


def _adder_expr(nl: Netlist, name: str, op: Op, width: int, a: Net | None, b: Net | None) -> str:
    """The ``width``-bit expression of ``op`` on operand nets ``a`` and ``b``."""
    form = adder_form(op, width)
    operands = (a, b)
    pieces: list[str] = []  # most significant first
    if form.n > 0:
        n = form.n
        plus, minus = [], []
        for t in form.terms:
            bits_n = n - t.lshift
            if bits_n <= 0:
                part = f"{n}'h0"
            elif t.lshift:
                part = f"{{{slice_bits(operands[t.operand], t.rshift, bits_n)}, {t.lshift}'h0}}"
            else:
                part = slice_bits(operands[t.operand], t.rshift, bits_n)
            (plus if t.sign > 0 else minus).append(part)
        if form.const:
            plus.append(const_bits(form.const, n))
        expr = " + ".join(plus) if plus else f"{n}'h0"
        if minus:
            expr += "".join(f" - {part}" for part in minus)
        if form.low == 0 and form.passed is None:
            return expr
        total = nl.wire(f"{name}_sum", n, False, expr)
        pieces.append(total.name if total is not None else f"{n}'h0")
    if form.passed is not None:
        operand, h = form.passed
        pieces.append(resized(operands[operand], h))
    if form.low:
        pieces.append(f"{form.low}'h0")
    return pieces[0] if len(pieces) == 1 else "{" + ", ".join(pieces) + "}"


def write_dense(nl: Netlist, plan: DensePlan, inputs: list[Tensor], prefix: str) -> Tensor:
    """Nets of ``plan`` reading ``inputs[0]`` (its adders, register chains, outputs with their
    dropped low bits cleared, and ``valid`` delayed by the latency)."""
    (source,) = inputs
    g = plan.graph
    placed = plan.placed
    delays = Delays(nl, prefix)
    nodes: list[Net | None] = list(source.elements)

    def at(node: int, stage: int) -> Net | None:
        value = nodes[node]
        if value is None:
            return None
        return delays.at(node, f"n{node}", value, placed[node][0], stage)

    for index, op in enumerate(g.ops):
        node = g.n_in + index
        stage = placed[node][0]
        k, width = signed_bits(op.lo, op.hi)
        name = f"{prefix}_n{node}"
        a = at(op.a, stage)
        b = at(op.b, stage) if op.b >= 0 else None
        if width == 0:
            nodes.append(None)
            continue
        nodes.append(nl.wire(name, width, bool(k), _adder_expr(nl, name, op, width, a, b)))

    _, narrow = plan.register_chains()
    values: list[tuple[Net | None, int] | int | None] = []
    for j, o in enumerate(g.outputs):
        drop = plan.out_drop[j]
        if o.node < 0:
            values.append((o.const >> drop) << drop)
            continue
        e = plan.node_drop(j)
        if e == 0:
            values.append((at(o.node, plan.latency), o.shift))
            continue
        start = narrow[(o.node, e)]
        lo, hi = g.node_interval(o.node)
        k, width = signed_bits(lo >> e, hi >> e)
        full = at(o.node, start)
        sig = nl.wire(f"{prefix}_n{o.node}_d{e}", width, bool(k), slice_bits(full, e, width))
        value = delays.at((o.node, e), f"n{o.node}_d{e}", sig, start, plan.latency)
        values.append((value, o.shift + e))
    return Tensor(
        element_nets(nl, values, plan.out_type, prefix),
        delay_valid(nl, source.valid, plan.latency, prefix),
    )


register_writer(DensePlan, write_dense)
