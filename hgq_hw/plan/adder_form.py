"""How one adder of an adder graph is built from bits: the rule both writers follow.

The Amaranth component (:mod:`hgq_hw.components.dense`) and the direct Verilog writer
(:mod:`hgq_hw.netlist.dense`) both render an :class:`AdderForm`, so the two netlists compute
the same bits by construction (and the tests simulate both to prove it).
"""

from __future__ import annotations

from dataclasses import dataclass

from hgq_hw.cmvm import AdderGraph, Op
from hgq_hw.fixed import signed_bits

__all__ = ["AdderForm", "AdderTerm", "adder_form", "hardware_adders", "is_wiring"]


@dataclass(frozen=True)
class AdderTerm:
    """``sign * (bits << lshift)``, ``bits`` being bits ``rshift .. rshift + n - lshift - 1`` of
    operand ``operand`` (0: ``op.a``, 1: ``op.b``) sign- or zero-extended: one ``n``-bit part
    of the sum."""

    sign: int
    operand: int
    rshift: int
    lshift: int


@dataclass(frozen=True)
class AdderForm:
    """The ``width`` low bits of an op, i.e. its exact value two's complement, as wiring plus
    one ``n``-bit adder.

    From the least significant bit up: ``low`` constant zeros, then (``passed``, when not
    None: ``(operand, h)``) the low ``h`` bits of that operand wired through, then the ``n``
    bits of ``sum(terms) + const`` modulo ``2**n`` (``n == 0``: no adder at all).
    """

    width: int
    low: int
    passed: tuple[int, int] | None
    n: int
    terms: tuple[AdderTerm, ...]
    const: int


def adder_form(op: Op, width: int) -> AdderForm:
    """The form of ``op``'s ``width`` low bits.

    Carries only travel upwards, so the sum is computed modulo ``2**width`` on operands cut to
    that many bits; low bits that one shifted operand cannot change are wired from the other
    (``x + (y << s)`` and ``x - (y << s)`` keep the low ``s`` bits of ``x``), which keeps the
    adder no wider than the bits it really adds.
    """
    terms = [(op.sign_a, 0, op.shift_a)] + ([(op.sign_b, 1, op.shift_b)] if op.b >= 0 else [])
    low = min(shift for _, _, shift in terms)
    if op.const & ((1 << low) - 1):
        low = 0  # the constant has bits below the common shift
    n = width - low
    if n <= 0:
        return AdderForm(width, width, None, 0, (), 0)
    shifted = [(sign, operand, shift - low) for sign, operand, shift in terms]
    const = op.const >> low
    passed = None
    parts = [AdderTerm(sign, operand, 0, shift) for sign, operand, shift in shifted]
    if len(shifted) == 2 and const == 0:
        (s0, v0, h0), (s1, v1, h1) = sorted(shifted, key=lambda term: term[2])
        if h0 == 0 and h1 > 0 and s0 > 0:  # x + (+-y << h1): the low h1 bits are x's
            h = min(h1, n)
            passed = (v0, h)
            parts = [AdderTerm(s0, v0, h, 0), AdderTerm(s1, v1, 0, 0)]
            n -= h
    if n <= 0:
        return AdderForm(width, low, passed, 0, (), 0)
    return AdderForm(width, low, passed, n, tuple(parts), const % (1 << n))


def _term_bits(term: AdderTerm, lo: int, hi: int) -> tuple[int, int]:
    """Interval of the operand bits a term reads (from ``rshift`` up, extended)."""
    return lo >> term.rshift, hi >> term.rshift


def is_wiring(graph: AdderGraph, index: int) -> bool:
    """Whether op ``index`` of ``graph``, built by :func:`adder_form`, is only wires and
    constants: no bits at all; a sum in which at most one term reads bits that are not
    constant zero (``0 + x``: the operands do not overlap, a concatenation) and the constant
    has no bit where that term has one (``(x << 4) + 5``); and that term is added, or is the
    negation of a value of one bit (``0 - x`` with ``x`` in ``[0, 1]`` or ``[-1, 0]``, or only
    one bit of it inside the sum: the bit repeated). Such ops cost no LUT or carry cell and
    are not counted as adders (:func:`hardware_adders`); the writers emit them unchanged.
    """
    op = graph.ops[index]
    width = signed_bits(op.lo, op.hi)[1]
    if width == 0:
        return True
    form = adder_form(op, width)
    if form.n == 0:
        return True
    operands = (op.a, op.b)
    live = []
    for term in form.terms:
        bits = form.n - term.lshift
        if bits <= 0:
            continue  # no bit of the term falls inside the sum
        lo, hi = graph.node_interval(operands[term.operand])
        read = (lo >> term.rshift, hi >> term.rshift)
        if read != (0, 0):
            live.append((term, bits, read))
    if not live:
        return True  # the sum is the constant ``form.const``
    if len(live) > 1:
        return False
    term, bits, read = live[0]
    if form.const >> term.lshift:
        return False  # the constant overlaps the term: a carry chain
    return term.sign > 0 or bits == 1 or read in ((0, 1), (-1, 0), (-1, -1))


def hardware_adders(graph: AdderGraph) -> int:
    """Ops of ``graph`` that are real adders (``graph.n_adders`` less :func:`is_wiring`'s)."""
    return sum(not is_wiring(graph, i) for i in range(graph.n_adders))
