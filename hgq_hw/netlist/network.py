"""A whole :class:`~hgq_hw.plan.NetworkPlan` as one flat Verilog-2001 module."""

from __future__ import annotations

from hgq_hw.layout import BusLayout
from hgq_hw.netlist.layers import Tensor, writer_for
from hgq_hw.netlist.text import Net, Netlist, slice_bits
from hgq_hw.plan import NetworkPlan

__all__ = ["module_ports", "network_ports", "write_network"]


def module_ports(in_width: int, out_width: int) -> list[tuple[str, str, int]]:
    """``(verilog_name, direction, width)`` of a streaming module's ports, as ``hgq gen`` has
    them: ``clk``, ``rst``, then ``i_stream`` and ``o_stream``, each its ``__payload`` (when it
    has bits) and its ``__valid``."""
    ports = [("clk", "input", 1), ("rst", "input", 1)]
    for stream, direction, width in (
        ("i_stream", "input", in_width),
        ("o_stream", "output", out_width),
    ):
        if width:
            ports.append((f"{stream}__payload", direction, width))
        ports.append((f"{stream}__valid", direction, 1))
    return ports


def network_ports(plan: NetworkPlan) -> list[tuple[str, str, int]]:
    """The network's :func:`module_ports` (its input and output bus widths)."""
    return module_ports(plan.in_layout.width, plan.out_layout.width)


def _prefix(index: int, name: str) -> str:
    """Net prefix of layer ``index``: unique by the index, readable by the name."""
    safe = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return f"L{index}_{safe}"


def write_network(plan: NetworkPlan, name: str) -> str:
    """The Verilog text of module ``name``: the same ports and cycle-by-cycle behaviour as
    :class:`hgq_hw.components.Network` converted by Amaranth (registered input and output,
    each layer as its plan says, ``valid`` cleared by the synchronous ``rst``). Deterministic:
    the text depends only on the plan and ``name``."""
    if not isinstance(plan, NetworkPlan):
        raise TypeError(f"plan must be a NetworkPlan, got {type(plan).__name__}")
    nl = Netlist()
    in_layout, out_layout = plan.in_layout, plan.out_layout
    in_port = Net("i_stream__payload", in_layout.width, False)
    in_payload = nl.reg("in_payload", in_port if in_layout.width else None)
    in_valid = nl.reg("in_valid", Net("i_stream__valid", 1, False), reset=True)
    tensors = {plan.input_name: Tensor(_unpack(nl, in_payload, in_layout), in_valid)}
    for index, layer in enumerate(plan.layers):
        inputs = [tensors[s] for s in layer.inputs]
        tensors[layer.name] = writer_for(layer)(nl, layer, inputs, _prefix(index, layer.name))
    out = tensors[plan.output_tensor]
    parts = [net.name for net in reversed(out.elements) if net is not None]
    if parts:
        word = nl.wire("out_word", out_layout.width, False, "{" + ", ".join(parts) + "}")
        nl.reg("out_payload", word)
        nl.decls.append("  assign o_stream__payload = out_payload;")
    nl.reg("out_valid", out.valid, reset=True)
    nl.decls.append("  assign o_stream__valid = out_valid;")
    return nl.text(name, network_ports(plan))


def _unpack(nl: Netlist, payload: Net | None, layout: BusLayout) -> tuple[Net | None, ...]:
    """The input register's elements, one net each (``BusLayout`` order and signedness)."""
    out: list[Net | None] = []
    for e, f in enumerate(layout.fields):
        if f.width == 0 or payload is None:
            out.append(None)
            continue
        out.append(nl.wire(f"in_x{e}", f.width, f.signed, slice_bits(payload, f.offset, f.width)))
    return tuple(out)
