"""``Network``: a whole spec as one fully unrolled, pipelined dataflow component."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.components.demand import clamp_drop, unread_low_bits
from hgq_hw.components.dense import DenseLayer
from hgq_hw.components.relu import ReLU
from hgq_hw.components.requantize import Requantize
from hgq_hw.layout import BusLayout
from hgq_hw.reference import infer_types
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec, ReLUSpec, RequantizeSpec

__all__ = ["Network"]


class Network(wiring.Component):
    """Every layer of a :class:`~hgq_hw.spec.ModelSpec` in hardware, one sample per cycle.

    The input and output are registered; in between, registers are cut by the delay model of
    :mod:`hgq_hw.components.timing` every ``pipeline_levels`` adder levels (0: none). There is no
    backpressure: ``valid`` travels with the data and the synchronous reset clears it. Low bits
    that a layer's consumer never reads (:mod:`hgq_hw.components.demand`) are cleared at the
    producer and carried by no register; the network output is exact.

    Parameters
    ----------
    spec:
        The model.
    pipeline_levels:
        Stage budget in adder levels (``>= 0``).
    depth_slack:
        Adder-count / depth trade-off of every Dense layer (see :func:`hgq_hw.cmvm.solve`).

    Members
    -------
    i_stream: ``In(stream.Signature(W_in, always_ready=True))``; the payload holds the raw input
        tensor packed by ``BusLayout.of(spec.input.type)``.
    o_stream: ``Out(stream.Signature(W_out, always_ready=True))``; the payload holds the raw
        output tensor packed by ``BusLayout.of(infer_types(spec)[spec.output.name])``.
    latency: cycles from an input with ``valid`` to its output with ``valid`` (>= 2).
    stages: the layer components, in order.
    registers: flip-flops in total (data and valid).
    """

    def __init__(
        self, spec: ModelSpec, *, pipeline_levels: int = 0, depth_slack: int | None = None
    ) -> None:
        if not isinstance(spec, ModelSpec):
            self._MustUse__silence = True  # a refused argument is not an unused design
            raise TypeError(f"spec must be a ModelSpec, got {type(spec).__name__}")
        if not isinstance(pipeline_levels, int) or pipeline_levels < 0:
            self._MustUse__silence = True
            raise ValueError(f"pipeline_levels must be an int >= 0, got {pipeline_levels!r}")
        self.spec = spec
        self.pipeline_levels = pipeline_levels
        self.depth_slack = depth_slack
        types = infer_types(spec)
        self.in_type = spec.input.type
        self.out_type = types[spec.output.name]
        self.in_layout = BusLayout.of(self.in_type)
        self.out_layout = BusLayout.of(self.out_type)
        self.stages: list[wiring.Component] = []
        unread = unread_low_bits(spec, types)
        t = 0
        for layer in spec.layers:
            if isinstance(layer, InputSpec | OutputSpec):
                continue
            x_type = types[layer.inputs[0]]
            options = {"pipeline_levels": pipeline_levels, "t_in": t}
            if isinstance(layer, DenseSpec):
                stage = DenseLayer(
                    layer,
                    x_type,
                    types[layer.name],
                    depth_slack=depth_slack,
                    out_drop=clamp_drop(unread[layer.name], types[layer.name]),
                    **options,
                )
            elif isinstance(layer, RequantizeSpec):
                stage = Requantize(
                    x_type, layer.type, layer.round, layer.overflow, name=layer.name, **options
                )
            elif isinstance(layer, ReLUSpec):
                stage = ReLU(
                    x_type,
                    name=layer.name,
                    out_drop=clamp_drop(unread[layer.name], x_type),
                    **options,
                )
            else:
                raise TypeError(f"no hardware for layer kind {layer.kind!r} ({layer.name!r})")
            t = stage.t_out
            # An unused Network warns once for itself, not once more per layer.
            stage._MustUse__silence = True
            self.stages.append(stage)
        self.latency = 2 + sum(s.latency for s in self.stages)
        self.registers = (
            self.in_layout.width + self.out_layout.width + 2 + sum(s.registers for s in self.stages)
        )
        super().__init__(
            {
                "i_stream": In(stream.Signature(self.in_layout.width, always_ready=True)),
                "o_stream": Out(stream.Signature(self.out_layout.width, always_ready=True)),
            }
        )

    @property
    def dense_layers(self) -> list[DenseLayer]:
        return [s for s in self.stages if isinstance(s, DenseLayer)]

    @property
    def n_adders(self) -> int:
        """Adders of all Dense layers."""
        return sum(s.graph.n_adders for s in self.dense_layers)

    @property
    def adder_depth(self) -> int:
        """Sum over Dense layers of their adder depth (the network's longest adder path)."""
        return sum(s.graph.depth for s in self.dense_layers)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        in_payload = Signal(self.in_layout.width, reset_less=True, name="in_payload")
        in_valid = Signal(name="in_valid")
        m.d.sync += [in_payload.eq(self.i_stream.payload), in_valid.eq(self.i_stream.valid)]
        payload, valid = in_payload, in_valid
        for index, stage in enumerate(self.stages):
            m.submodules[f"stage{index}_{stage_name(stage)}"] = stage
            if index == 0:
                m.d.comb += [stage.i_stream.payload.eq(payload), stage.i_stream.valid.eq(valid)]
            else:
                wiring.connect(m, self.stages[index - 1].o_stream, stage.i_stream)
            payload, valid = stage.o_stream.payload, stage.o_stream.valid
        out_payload = Signal(self.out_layout.width, reset_less=True, name="out_payload")
        out_valid = Signal(name="out_valid")
        m.d.sync += [out_payload.eq(payload), out_valid.eq(valid)]
        m.d.comb += [self.o_stream.payload.eq(out_payload), self.o_stream.valid.eq(out_valid)]
        return m


def stage_name(stage: wiring.Component) -> str:
    """The spec layer name a stage component was made for."""
    return stage.layer.name if isinstance(stage, DenseLayer) else stage.name
