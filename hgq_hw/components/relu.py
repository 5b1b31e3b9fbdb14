"""``ReLU``: ``max(x, 0)`` per element; the sign bit goes away."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from amaranth.hdl import Module, Mux, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.components.bus import pack, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.timing import MUX_DELAY, Stager
from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout

__all__ = ["ReLU", "relu_type"]


def relu_type(t: TensorType) -> TensorType:
    """Type after ReLU: ``k = 0``, same ``i`` and ``f``; width 0 normalised to ``(0, 0, 0)``."""
    zero = (t.i + t.f) <= 0
    return TensorType(np.zeros_like(t.k), np.where(zero, 0, t.i), np.where(zero, 0, t.f))


class ReLU(wiring.Component):
    """``max(x, 0)`` on a 1-d tensor of type ``in_type`` (output type :func:`relu_type`).

    Parameters
    ----------
    in_type:
        Type of the incoming tensor.
    pipeline_levels, t_in:
        As for :class:`~hgq_hw.components.Requantize`.
    out_drop:
        Low bits of each output element that the consumer never reads (see
        :mod:`hgq_hw.components.demand`; at most ``width - k`` of the input element): output
        ``e`` is then ``max(x, 0)`` with its low ``out_drop[e]`` bits cleared, and a register
        carries only the bits above. None: every output is exact.

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports, payloads by ``BusLayout``
    latency: 0 or 1 cycles (1 only when the stage budget is used up on arrival)
    t_out, registers: as for :class:`~hgq_hw.components.Requantize`
    """

    def __init__(
        self,
        in_type: TensorType,
        *,
        pipeline_levels: int = 0,
        t_in: int = 0,
        name: str = "relu",
        out_drop: Sequence[int] | None = None,
    ) -> None:
        if len(in_type.shape) != 1:
            raise ValueError(f"ReLU needs a 1-d type, got shape {in_type.shape}")
        self.in_type, self.out_type, self.name = in_type, relu_type(in_type), name
        n = in_type.shape[0]
        self.out_drop = tuple(int(d) for d in out_drop) if out_drop is not None else (0,) * n
        limit = in_type.width - in_type.k
        if len(self.out_drop) != n or any(
            not 0 <= d <= max(int(lim), 0) for d, lim in zip(self.out_drop, limit)
        ):
            raise ValueError(
                f"out_drop must give 0..width-k low bits for each of {n} elements, got {out_drop!r}"
            )
        signed = bool(np.any((in_type.k > 0) & (in_type.width > 0))) if in_type.k.size else False
        cost = MUX_DELAY if signed else 0
        stage, self.t_out = Stager(pipeline_levels).place([(0, t_in)], cost)
        self.latency = stage
        super().__init__(
            {
                "i_stream": In(stream.Signature(BusLayout.of(in_type).width, always_ready=True)),
                "o_stream": Out(
                    stream.Signature(BusLayout.of(self.out_type).width, always_ready=True)
                ),
            }
        )
        kept = [
            int(self.in_type.width[e]) - self.out_drop[e]
            for e in range(n)
            if int(self.out_type.width[e]) > 0
        ]
        self.registers = self.latency * (1 + sum(kept))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        delayer = Delayer(m, f"{self.name}_")
        values: list[Value | None] = []
        for e, x in enumerate(unpack(self.i_stream.payload, self.in_type)):
            if x is None or int(self.out_type.width[e]) == 0:
                values.append(None)
                continue
            drop = self.out_drop[e]
            if drop:
                x = x >> drop  # arithmetic for a signed x: the sign stays (drop <= width - k)
            x = delayer.at(e, f"x{e}", x, 0, self.latency)
            if self.in_type.k[e]:
                x = Mux(x[-1], 0, x[: len(x) - 1])
            values.append(x << drop if drop else x)
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, values, self.out_type, f"{self.name}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, self.latency, self.name)),
        ]
        return m
