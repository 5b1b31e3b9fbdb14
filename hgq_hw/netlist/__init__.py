"""The direct Verilog writer: a :class:`~hgq_hw.plan.NetworkPlan` as one flat Verilog-2001
module, written as text from the plan (no Amaranth, no Yosys).

It gives the same ports and the same cycle-by-cycle behaviour as
:class:`hgq_hw.components.Network` converted by Amaranth (the tests simulate both), in a
fraction of the time. Each layer kind has one writer (:data:`WRITERS`,
:func:`register_writer`), as it has one planner and one component; the bit-level rule of an
adder (:func:`hgq_hw.plan.adder_form.adder_form`) is shared with the component.
"""

from __future__ import annotations

from hgq_hw.netlist import delay as _delay  # noqa: F401  (registers its writer)
from hgq_hw.netlist import dense as _dense  # noqa: F401
from hgq_hw.netlist import max as _max  # noqa: F401
from hgq_hw.netlist import merge as _merge  # noqa: F401
from hgq_hw.netlist import relu as _relu  # noqa: F401
from hgq_hw.netlist import requantize as _requantize  # noqa: F401
from hgq_hw.netlist import reshape as _reshape  # noqa: F401
from hgq_hw.netlist import table as _table  # noqa: F401
from hgq_hw.netlist.layers import WRITERS, Tensor, register_writer, writer_for
from hgq_hw.netlist.network import network_ports, write_network

__all__ = ["WRITERS", "Tensor", "network_ports", "register_writer", "write_network", "writer_for"]
