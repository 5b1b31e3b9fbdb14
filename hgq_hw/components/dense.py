"""``DenseLayer``: a Dense layer as a pipelined adder graph (no multipliers)."""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Const, Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hgq_hw.cmvm import AdderGraph, dense_graph
from hgq_hw.components.bus import pack, shape_for, unpack
from hgq_hw.components.pipeline import Delayer, delay_valid
from hgq_hw.components.timing import Stager, adder_delay
from hgq_hw.fixed import TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.spec import DenseSpec

__all__ = ["DenseLayer", "schedule"]


def schedule(
    graph: AdderGraph, pipeline_levels: int, t_in: int = 0, *, retime: bool = True
) -> tuple[list[tuple[int, int]], int, int]:
    """Pipeline stage of every node of ``graph``.

    Ops are placed as soon as possible (:class:`~hgq_hw.components.timing.Stager`), which fixes
    the latency; then, with ``retime``, ops whose results would be carried through registers
    move to later stages when that saves register bits without breaking the stage budget, the
    latency or the delay left at the output.

    Returns ``(placed, latency, t_out)``: ``placed[node] = (stage, t)`` (inputs at stage 0 with
    delay ``t_in``), the stage count of the outputs and the delay used in the last stage.
    """
    stager = Stager(pipeline_levels)
    placed: list[tuple[int, int]] = [(0, t_in)] * graph.n_in
    for op in graph.ops:
        operands = [placed[op.a]] + ([placed[op.b]] if op.b >= 0 else [])
        placed.append(stager.place(operands, adder_delay(op.width)))
    live = [placed[o.node] for o in graph.outputs if o.node >= 0]
    latency = max((s for s, _ in live), default=0)
    t_out = max((t for s, t in live if s == latency), default=0)
    if retime and stager.budget is not None and latency > 0:
        placed = _Retimer(graph, placed, stager.budget, latency, t_out).run()
    return placed, latency, t_out


class _Retimer:
    """Moves ops to later stages while that saves register bits (see :func:`schedule`)."""

    def __init__(
        self,
        graph: AdderGraph,
        placed: list[tuple[int, int]],
        budget: int,
        latency: int,
        t_out: int,
    ) -> None:
        n = graph.n_in
        self.n, self.budget, self.latency, self.t_out = n, budget, latency, t_out
        self.stage = [s for s, _ in placed]
        self.t = [t for _, t in placed]
        total = len(placed)
        self.cost = [0] * n + [adder_delay(op.width) for op in graph.ops]
        self.width = [shape_for(*graph.node_interval(v)).width for v in range(total)]
        self.operands: list[list[int]] = [[] for _ in range(n)]
        self.consumers: list[list[int]] = [[] for _ in range(total)]
        for index, op in enumerate(graph.ops):
            node = n + index
            ops = sorted({op.a} | ({op.b} if op.b >= 0 else set()))
            self.operands.append(ops)
            for u in ops:
                self.consumers[u].append(node)
        self.is_output = [False] * total
        for o in graph.outputs:
            if o.node >= 0:
                self.is_output[o.node] = True

    def last_use(self, u: int) -> int:
        uses = [self.stage[c] for c in self.consumers[u]]
        if self.is_output[u]:
            uses.append(self.latency)
        return max(uses, default=self.stage[u])

    def start(self, v: int) -> int:
        return max(
            (self.t[u] for u in self.operands[v] if self.stage[u] == self.stage[v]), default=0
        )

    def try_move(self, v: int) -> bool:
        s = self.stage[v]
        if any(self.stage[c] <= s for c in self.consumers[v]):
            return False
        if self.is_output[v] and s >= self.latency:
            return False
        extra = sum(self.width[u] for u in self.operands[v] if self.last_use(u) <= s)
        if self.width[v] <= extra:
            return False
        saved = {v: (self.stage[v], self.t[v])}
        self.stage[v], self.t[v] = s + 1, self.cost[v]
        ok = self.t_ok(v)
        work = sorted(c for c in self.consumers[v] if self.stage[c] == s + 1)
        while ok and work:
            c = work.pop(0)
            start = self.start(c)
            new_t = start + self.cost[c]
            if new_t > self.budget and start > 0:
                ok = False
                break
            if new_t != self.t[c]:
                saved.setdefault(c, (self.stage[c], self.t[c]))
                self.t[c] = new_t
                ok = self.t_ok(c)
                work = sorted(set(work) | {d for d in self.consumers[c] if self.stage[d] == s + 1})
        if not ok:
            for node, (stage, t) in saved.items():
                self.stage[node], self.t[node] = stage, t
        return ok

    def t_ok(self, v: int) -> bool:
        """An output in the last stage may not leave more delay than before."""
        return not (self.is_output[v] and self.stage[v] == self.latency and self.t[v] > self.t_out)

    def run(self, max_passes: int = 8) -> list[tuple[int, int]]:
        """Sweep the ops from the outputs back, moving each as far as it pays; repeat while a
        sweep moved something (a move can make an earlier op's move pay)."""
        for _ in range(max_passes):
            moved = False
            for v in range(len(self.stage) - 1, self.n - 1, -1):
                while self.try_move(v):
                    moved = True
            if not moved:
                break
        return list(zip(self.stage, self.t))


class DenseLayer(wiring.Component):
    """``y = x @ w + b`` of one :class:`~hgq_hw.spec.DenseSpec`, exact, from adders only.

    Parameters
    ----------
    layer:
        The Dense layer of the spec.
    in_type:
        Type of its input tensor; the output type is the one ``infer_types`` gives the layer.
    out_type:
        That output type (pass ``infer_types(spec)[layer.name]``).
    pipeline_levels, t_in:
        Register budget (see :mod:`hgq_hw.components.timing`) and delay already used in the
        current stage when the input arrives.
    depth_slack:
        Passed to :func:`hgq_hw.cmvm.solve` (``None``: fewest adders).
    graph:
        A precomputed adder graph for ``layer`` on ``in_type`` (else one is solved).
    out_drop:
        Low bits of each output that the consumer never reads (see
        :mod:`hgq_hw.components.demand`; at most ``width - k`` of the output element): output
        ``j`` is then ``y[j]`` with its low ``out_drop[j]`` bits cleared, and the registers that
        carry it to the last stage hold only the bits above. None: every output is exact.

    Members
    -------
    i_stream, o_stream: ``lib.stream`` ports (``always_ready``), payloads by ``BusLayout``
    graph: the :class:`~hgq_hw.cmvm.AdderGraph`
    latency: register stages inside (cycles from ``i_stream`` to ``o_stream``)
    t_out: delay used in the last stage at the output
    registers: flip-flops inside (after elaboration counts the data registers exactly)
    """

    def __init__(
        self,
        layer: DenseSpec,
        in_type: TensorType,
        out_type: TensorType,
        *,
        pipeline_levels: int = 0,
        t_in: int = 0,
        depth_slack: int | None = None,
        graph: AdderGraph | None = None,
        out_drop: Sequence[int] | None = None,
    ) -> None:
        if not isinstance(layer, DenseSpec):
            raise TypeError(f"layer must be a DenseSpec, got {type(layer).__name__}")
        if out_type.shape != (layer.n_out,):
            raise ValueError(
                f"out_type has shape {out_type.shape}, layer {layer.name!r} has {layer.n_out} "
                "outputs"
            )
        self.layer, self.in_type, self.out_type = layer, in_type, out_type
        self.graph = (
            graph if graph is not None else dense_graph(layer, in_type, depth_slack=depth_slack)
        )
        n_out = layer.n_out
        drops = tuple(int(d) for d in out_drop) if out_drop is not None else (0,) * n_out
        limit = out_type.width - out_type.k
        if len(drops) != n_out or any(
            not 0 <= d <= max(int(lim), 0) for d, lim in zip(drops, limit)
        ):
            raise ValueError(
                f"out_drop must give 0..width-k low bits for each of {n_out} outputs, "
                f"got {out_drop!r}"
            )
        self.out_drop = drops
        self.placed, self.latency, self.t_out = schedule(self.graph, pipeline_levels, t_in)
        self.registers = self._count_registers()
        super().__init__(
            {
                "i_stream": In(stream.Signature(BusLayout.of(in_type).width, always_ready=True)),
                "o_stream": Out(stream.Signature(BusLayout.of(out_type).width, always_ready=True)),
            }
        )

    def _node_drop(self, j: int) -> int:
        """Low bits of output ``j``'s node that no register needs to carry."""
        return max(self.out_drop[j] - self.graph.outputs[j].shift, 0)

    def _carried(self) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        """Register chains: ``full[node] = last stage`` (the whole node) and
        ``narrow[(node, e)] = first stage`` of ``node >> e`` carried to the last stage."""
        g = self.graph
        full: dict[int, int] = {}
        for index, op in enumerate(g.ops):
            stage = self.placed[g.n_in + index][0]
            for node in (op.a, op.b):
                if node >= 0:
                    full[node] = max(full.get(node, 0), stage)
        narrow: dict[tuple[int, int], int] = {}
        for j, o in enumerate(g.outputs):
            if o.node < 0:
                continue
            e = self._node_drop(j)
            if e == 0:
                full[o.node] = self.latency
            else:
                narrow[(o.node, e)] = 0
        for node, e in narrow:
            narrow[(node, e)] = max(self.placed[node][0], full.get(node, 0))
        return full, narrow

    def _count_registers(self) -> int:
        """Flip-flops the elaboration will make (data chains plus valid)."""
        g = self.graph
        full, narrow = self._carried()
        bits = self.latency
        for node, stage in full.items():
            lo, hi = g.node_interval(node)
            bits += (stage - self.placed[node][0]) * shape_for(lo, hi).width
        for (node, e), start in narrow.items():
            lo, hi = g.node_interval(node)
            bits += (self.latency - start) * shape_for(lo >> e, hi >> e).width
        return bits

    def elaborate(self, platform: object) -> Module:
        m = Module()
        g = self.graph
        prefix = self.layer.name
        delayer = Delayer(m, f"{prefix}_")
        nodes: list[Value | None] = list(unpack(self.i_stream.payload, self.in_type))

        def at(node: int, stage: int) -> Value:
            value = nodes[node]
            if value is None:
                return Const(0, 1)
            return delayer.at(node, f"n{node}", value, self.placed[node][0], stage)

        for index, op in enumerate(g.ops):
            node = g.n_in + index
            stage = self.placed[node][0]
            a = at(op.a, stage) << op.shift_a
            if op.b < 0:  # a constant addition or a negation
                expr = a + op.const if op.sign_a > 0 else Const(op.const) - a
            else:
                b = at(op.b, stage) << op.shift_b
                if op.sign_a > 0:
                    expr = a + b if op.sign_b > 0 else a - b
                else:
                    expr = b - a if op.sign_b > 0 else -(a + b)
                if op.const:
                    expr = expr + op.const
            sig = Signal(shape_for(op.lo, op.hi), name=f"{prefix}_n{node}")
            m.d.comb += sig.eq(expr)
            nodes.append(sig)

        _, narrow = self._carried()
        outputs: list[Value | int | None] = []
        for j, o in enumerate(g.outputs):
            drop = self.out_drop[j]
            if o.node < 0:
                outputs.append((o.const >> drop) << drop)
                continue
            e = self._node_drop(j)
            if e == 0:
                outputs.append(at(o.node, self.latency) << o.shift)
                continue
            start = narrow[(o.node, e)]
            lo, hi = g.node_interval(o.node)
            sig = Signal(shape_for(lo >> e, hi >> e), name=f"{prefix}_n{o.node}_d{e}")
            m.d.comb += sig.eq(at(o.node, start) >> e)
            value = delayer.at((o.node, e), f"n{o.node}_d{e}", sig, start, self.latency)
            outputs.append(value << (o.shift + e))
        m.d.comb += [
            self.o_stream.payload.eq(pack(m, outputs, self.out_type, f"{prefix}_y")),
            self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, self.latency, prefix)),
        ]
        return m
