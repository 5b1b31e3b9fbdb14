"""``Network``: a whole :class:`~hgq_hw.plan.NetworkPlan` as one pipelined dataflow component."""

from __future__ import annotations

from amaranth.hdl import Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.components.registry import component_for
from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.plan import NetworkPlan, plan_network
from hgq_hw.spec import ModelSpec

__all__ = ["Network"]


class Network(wiring.Component):
    """Every layer of a :class:`~hgq_hw.plan.NetworkPlan` in hardware, one sample per cycle.

    The input and output are registered; each layer plan is built by its component (looked up
    in :data:`hgq_hw.components.registry.COMPONENTS`) and reads the tensors its plan names.
    There is no backpressure: ``valid`` travels with the data and the synchronous reset clears
    it. The output equals ``plan(x_raw)`` bit for bit.

    Parameters
    ----------
    plan:
        The plan (:func:`hgq_hw.plan.plan_network`; :meth:`from_spec` plans a spec first).

    Members
    -------
    i_stream: ``In(stream.Signature(W_in, always_ready=True))``; the payload holds the raw input
        tensor packed by ``plan.in_layout``.
    o_stream: ``Out(stream.Signature(W_out, always_ready=True))``; the payload holds the raw
        output tensor packed by ``plan.out_layout``.
    plan: the plan; ``latency`` (>= 2), ``registers``, ``n_adders``, ``adder_depth``,
        ``in_type``, ``out_type``, ``in_layout``, ``out_layout`` are its numbers.
    """

    def __init__(self, plan: NetworkPlan) -> None:
        if not isinstance(plan, NetworkPlan):
            raise TypeError(
                f"plan must be a NetworkPlan, got {type(plan).__name__} "
                "(Network.from_spec plans a ModelSpec)"
            )
        self.plan = plan
        super().__init__(
            {
                "i_stream": In(stream.Signature(plan.in_layout.width, always_ready=True)),
                "o_stream": Out(stream.Signature(plan.out_layout.width, always_ready=True)),
            }
        )

    @classmethod
    def from_spec(
        cls, spec: ModelSpec, *, pipeline_levels: int = 0, depth_slack: int | None = None
    ) -> Network:
        """``Network(plan_network(spec, ...))``."""
        return cls(plan_network(spec, pipeline_levels=pipeline_levels, depth_slack=depth_slack))

    @property
    def latency(self) -> int:
        return self.plan.latency

    @property
    def registers(self) -> int:
        return self.plan.registers

    @property
    def n_adders(self) -> int:
        return self.plan.n_adders

    @property
    def adder_depth(self) -> int:
        return self.plan.adder_depth

    @property
    def in_type(self) -> TensorType:
        return self.plan.in_type

    @property
    def out_type(self) -> TensorType:
        return self.plan.out_type

    @property
    def in_layout(self) -> BusLayout:
        return self.plan.in_layout

    @property
    def out_layout(self) -> BusLayout:
        return self.plan.out_layout

    def elaborate(self, platform: object) -> Module:
        m = Module()
        plan = self.plan
        in_payload = Signal(plan.in_layout.width, reset_less=True, name="in_payload")
        in_valid = Signal(name="in_valid")
        m.d.sync += [in_payload.eq(self.i_stream.payload), in_valid.eq(self.i_stream.valid)]
        tensors: dict[str, tuple[Value, Value]] = {plan.input_name: (in_payload, in_valid)}
        for index, layer in enumerate(plan.layers):
            stage = component_for(layer)(layer)
            m.submodules[f"stage{index}_{layer.name}"] = stage
            ports = (
                [stage.i_stream]
                if len(layer.inputs) == 1
                else [getattr(stage, f"i_stream{n}") for n in range(len(layer.inputs))]
            )
            for port, source in zip(ports, layer.inputs):
                payload, valid = tensors[source]
                m.d.comb += [port.payload.eq(payload), port.valid.eq(valid)]
            tensors[layer.name] = (stage.o_stream.payload, stage.o_stream.valid)
        payload, valid = tensors[plan.output_tensor]
        out_payload = Signal(plan.out_layout.width, reset_less=True, name="out_payload")
        out_valid = Signal(name="out_valid")
        m.d.sync += [out_payload.eq(payload), out_valid.eq(valid)]
        m.d.comb += [self.o_stream.payload.eq(out_payload), self.o_stream.valid.eq(out_valid)]
        return m
