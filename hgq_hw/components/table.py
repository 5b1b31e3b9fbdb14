"""``LookupTable``: a ROM in logic per element, as its :class:`~hgq_hw.plan.TablePlan` says."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Signal, Value

from hgq_hw.components.bus import element_shape, pack, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.planned import PlannedLayer
from hgq_hw.components.registry import register_component
from hgq_hw.plan.table import TablePlan

__all__ = ["LookupTable"]


class LookupTable(PlannedLayer):
    """Output ``e`` is ``plan.entries(e)[x[e] - raw_min]`` (a ``Switch`` on the input bits, one
    case per entry); the inputs pass a register stage first when ``latency == 1``.

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports, payloads by ``BusLayout``
    plan: the plan; ``latency``, ``t_out``, ``registers`` are its numbers
    """

    plan_class = TablePlan
    plan: TablePlan

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        delayer = Delayer(m, f"{plan.name}_")
        values: list[Value | int | None] = []
        for e, x in enumerate(unpack(self.i_stream.payload, plan.in_type)):
            entries = plan.entries(e)
            if int(plan.out_type.width[e]) <= 0:
                values.append(None)
                continue
            if x is None:
                values.append(int(entries[0]))  # a width-0 input: the constant table[0]
                continue
            x = delayer.at(e, f"x{e}", x, 0, plan.latency)
            width = len(x)
            low = int(plan.in_type.element(e).raw_min)
            y = Signal(element_shape(plan.out_type, e), name=f"{plan.name}_rom{e}")
            with m.Switch(x.as_unsigned()):
                for index, entry in enumerate(entries):
                    with m.Case((index + low) % (1 << width)):
                        m.d.comb += y.eq(Const(int(entry), y.shape()))
            values.append(y)
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, values, plan.out_type, f"{plan.name}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, plan.latency, plan.name)),
        ]
        return m


register_component(TablePlan, LookupTable)
