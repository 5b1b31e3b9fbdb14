"""What every layer writer shares: the tensor it reads and writes, register chains, the
writer registry (one writer per plan class, as :data:`hgq_hw.components.COMPONENTS` has one
component per plan class)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from hgq_hw.fixed import TensorType
from hgq_hw.netlist.text import Net, Netlist, const_bits, resized
from hgq_hw.plan.base import LayerPlan

__all__ = [
    "WRITERS",
    "Delays",
    "Tensor",
    "delay_valid",
    "element_nets",
    "register_writer",
    "writer_for",
]


@dataclass(frozen=True)
class Tensor:
    """A tensor in the netlist: one net per element (None: width 0, the constant 0), each of
    exactly its element's width and signedness, plus the ``valid`` that travels with it."""

    elements: tuple[Net | None, ...]
    valid: Net


LayerWriter = Callable[[Netlist, LayerPlan, list[Tensor], str], Tensor]
"""``writer(netlist, plan, inputs, prefix) -> output``: the layer's nets (named from ``prefix``)."""

WRITERS: dict[type[LayerPlan], LayerWriter] = {}
"""Layer plan class -> its direct Verilog writer."""


def register_writer(kind: type[LayerPlan], writer: LayerWriter) -> None:
    """Write plans of class ``kind`` with ``writer`` (replaces an earlier one)."""
    if not (isinstance(kind, type) and issubclass(kind, LayerPlan)):
        raise TypeError(f"kind must be a LayerPlan subclass, got {kind!r}")
    if not callable(writer):
        raise TypeError(f"writer must be callable, got {writer!r}")
    WRITERS[kind] = writer


def writer_for(plan: LayerPlan) -> LayerWriter:
    """The writer of ``plan``'s class (or of its nearest registered base class); a
    ``ValueError`` naming the layer when there is none."""
    for cls in type(plan).__mro__:
        writer = WRITERS.get(cls)
        if writer is not None:
            return writer
    raise ValueError(
        f"no direct Verilog writer for layer kind {plan.kind!r} (layer {plan.name!r}): register "
        "one with hgq_hw.netlist.register_writer, or use the Amaranth writer (writer='amaranth', "
        "hgq gen --writer amaranth)"
    )


def element_nets(
    nl: Netlist, values: list[tuple[Net | None, int] | int | None], t: TensorType, prefix: str
) -> tuple[Net | None, ...]:
    """The output elements of a layer: each value ``(net, shift)`` (``net << shift``) or an
    integer is assigned to a net of its element's exact width, as the Amaranth components'
    ``pack`` does (wider values cut to their low bits, narrower ones sign- or zero-extended)."""
    out: list[Net | None] = []
    for e, value in enumerate(values):
        width = int(t.width[e])
        if width <= 0:
            out.append(None)
            continue
        signed = bool(t.k[e])
        if value is None or isinstance(value, int):
            expr = const_bits(value or 0, width)
        else:
            net, shift = value
            if shift >= width:
                expr = f"{width}'h0"
            elif shift:
                expr = f"{{{resized(net, width - shift)}, {shift}'h0}}"
            else:
                expr = resized(net, width)
        out.append(nl.wire(f"{prefix}_y{e}", width, signed, expr))
    return tuple(out)


class Delays:
    """Register chains that carry values from stage to stage, shared per key (the netlist
    twin of :class:`hgq_hw.components.pipeline.Delayer`)."""

    def __init__(self, nl: Netlist, prefix: str) -> None:
        self.nl = nl
        self.prefix = prefix
        self.chains: dict[Hashable, list[Net | None]] = {}

    def at(self, key: Hashable, name: str, value: Net | None, born: int, stage: int) -> Net | None:
        """``value`` (made in stage ``born``) as seen in ``stage`` (registers in between)."""
        if stage < born:
            raise ValueError(f"{name}: cannot read stage {stage} before it is made ({born})")
        chain = self.chains.setdefault(key, [value])
        while len(chain) <= stage - born:
            reg_name = f"{self.prefix}_{name}_s{born + len(chain)}"
            chain.append(self.nl.reg(reg_name, chain[-1]))
        return chain[stage - born]


def delay_valid(nl: Netlist, valid: Net, cycles: int, prefix: str) -> Net:
    """``valid`` delayed by ``cycles`` registers that the synchronous reset clears."""
    for n in range(cycles):
        reg = nl.reg(f"{prefix}_valid{n + 1}", valid, reset=True)
        if reg is None:
            raise RuntimeError("valid has no bits (a bug in hgq_hw.netlist)")
        valid = reg
    return valid
