"""The generated side of a proof: which Verilog module is the hardware under proof.

Everything :mod:`hgq_hw.prove` assumes about the generator's Verilog is in this file:

* the **network** is the top module of the ``hgq gen`` Verilog, with the ports that
  ``report.json`` lists (``clk``, ``rst``, ``i_stream__payload``, ``i_stream__valid``,
  ``o_stream__payload``, ``o_stream__valid``; a payload of width 0 is left out) and the
  report's ``latency``: the contract every consumer (cocotb, boards) relies on;
* a **layer** is the hardware the generator builds for one layer plan, written as a module
  with the same stream port names on the layer's own buses (:func:`generated_layer`, the
  one function that knows how the generator makes a layer's Verilog).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PORTS", "GeneratedModule", "generated_layer", "generated_network", "module_ports"]

PORTS = {
    "clk": "clk",
    "rst": "rst",
    "in": "i_stream__payload",
    "in_valid": "i_stream__valid",
    "out": "o_stream__payload",
    "out_valid": "o_stream__valid",
}
"""Role -> port name of a generated module (the ``report.json`` port names)."""


@dataclass(frozen=True)
class GeneratedModule:
    """A generated module under proof: ``text`` (Verilog, maybe with submodules) holds module
    ``name`` with ports ``ports``; an input is seen at the output ``latency`` cycles later."""

    name: str
    text: str
    ports: tuple[str, ...]
    latency: int


_ID = r"(?:\\\S+|[A-Za-z_][A-Za-z0-9_$]*)"


def module_ports(text: str, module: str) -> tuple[str, ...]:
    """Port names of ``module`` in Verilog ``text`` (ANSI or not); ``ValueError`` if absent."""
    for match in re.finditer(rf"\bmodule\s+({_ID})\s*(?:#\s*\(.*?\)\s*)?\((.*?)\)\s*;", text, re.S):
        found = match.group(1)
        if found.lstrip("\\") != module.lstrip("\\"):
            continue
        names = []
        for item in match.group(2).split(","):
            tokens = re.findall(_ID, re.sub(r"\[[^\]]*\]", " ", item))
            if tokens:
                names.append(tokens[-1])
        return tuple(names)
    raise ValueError(f"the Verilog has no module {module!r}")


def generated_network(verilog: str, top: str, latency: int) -> GeneratedModule:
    """The whole generated network: module ``top`` of the ``hgq gen`` Verilog ``verilog``."""
    return GeneratedModule(top, verilog, module_ports(verilog, top), int(latency))


def generated_layer(layer: Any, name: str) -> GeneratedModule:
    """The generator's hardware of one layer plan (:mod:`hgq_hw.plan`) as Verilog module
    ``name`` with the stream ports of :data:`PORTS` on the layer's buses.

    Today the generator builds each layer with its Amaranth component (``component_for``),
    and this converts that component on its own; a generator that writes Verilog itself
    gives its layer module here instead.
    """
    from amaranth.back import verilog

    from hgq_hw.components import component_for

    component = component_for(layer)(layer)
    ports = [
        component.i_stream.payload,
        component.i_stream.valid,
        component.o_stream.payload,
        component.o_stream.valid,
    ]
    text = verilog.convert(component, name=name, ports=[p for p in ports if len(p)], emit_src=False)
    return GeneratedModule(name, text, module_ports(text, name), int(layer.latency))
