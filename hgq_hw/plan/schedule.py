"""Stage placement of an adder graph: ASAP under the stage budget, then register-saving
retiming (numpy-free integer bookkeeping; no hardware)."""

from __future__ import annotations

from hgq_hw.cmvm import AdderGraph
from hgq_hw.fixed import signed_bits
from hgq_hw.plan.timing import Stager, adder_delay

__all__ = ["check_placement", "node_width", "schedule"]


def node_width(lo: int, hi: int) -> int:
    """Bits of a node whose raw value lies in ``[lo, hi]`` (0 for the constant 0)."""
    return signed_bits(int(lo), int(hi))[1]


def schedule(
    graph: AdderGraph, pipeline_levels: int, t_in: int = 0, *, retime: bool = True
) -> tuple[list[tuple[int, int]], int, int]:
    """Pipeline stage of every node of ``graph``.

    Ops are placed as soon as possible (:class:`~hgq_hw.plan.timing.Stager`), which fixes
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
        self.width = [node_width(*graph.node_interval(v)) for v in range(total)]
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


def check_placement(
    graph: AdderGraph,
    placed: list[tuple[int, int]],
    pipeline_levels: int,
    latency: int,
    t_in: int = 0,
) -> None:
    """Raise ``ValueError`` unless ``placed`` is a causal placement of ``graph``: every op in a
    stage no earlier than its operands, no op past the latency, and its delay ``t`` equal to the
    delay model's (the operands' delay in its own stage plus its own cost) and within the stage
    budget unless it starts a stage."""
    if len(placed) != graph.n_in + graph.n_adders:
        raise ValueError(f"{len(placed)} placements for {graph.n_in + graph.n_adders} nodes")
    budget = Stager(pipeline_levels).budget
    for v in range(graph.n_in):
        if placed[v] != (0, t_in):
            raise ValueError(f"input {v} placed at {placed[v]}, expected (0, {t_in})")
    for index, op in enumerate(graph.ops):
        v = graph.n_in + index
        stage, t = placed[v]
        operands = [op.a] + ([op.b] if op.b >= 0 else [])
        if any(placed[u][0] > stage for u in operands) or stage > latency:
            raise ValueError(f"node {v} at stage {stage} reads a later operand or passes latency")
        start = max((placed[u][1] for u in operands if placed[u][0] == stage), default=0)
        if t != start + adder_delay(op.width):
            raise ValueError(f"node {v}: delay {t} != {start} + {adder_delay(op.width)}")
        if budget is not None and start > 0 and t > budget:
            raise ValueError(f"node {v}: delay {t} over the stage budget {budget}")
