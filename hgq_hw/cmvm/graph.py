"""The adder graph: a constant matrix times a vector as plain data that can evaluate itself.

Nodes ``0 .. n_in - 1`` are the inputs; node ``n_in + n`` is ``ops[n]``. Every op computes

    value = sign_a * (v[a] << shift_a) + sign_b * (v[b] << shift_b) + const

with ``b == -1`` meaning "no second operand" (a negation or a constant addition). Shifts are
left shifts (``>= 0``); signs are ``+1`` / ``-1``. Each op carries the exact interval ``[lo, hi]``
of its value given the input intervals and its depth in adders. Output ``j`` is
``v[node] << shift`` (``node == -1``: the constant ``const``).

Ops are in topological order (operands always come earlier), so evaluation and hardware emission
are one pass. An :class:`AdderGraph` is built by :func:`hgq_hw.cmvm.solve.solve`; it never
changes afterwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hgq_hw.fixed import signed_bits

__all__ = ["AdderGraph", "Op", "Output", "interval_width", "prune"]


def interval_width(lo: int, hi: int) -> tuple[int, int]:
    """``(k, width)`` of the smallest signed (k=1) or unsigned (k=0) type for ``[lo, hi]``.

    ``[0, 0]`` gives ``(0, 0)``: a constant zero that takes no bits.
    """
    return signed_bits(lo, hi)


@dataclass(frozen=True)
class Op:
    """One adder: ``sign_a * (v[a] << shift_a) + sign_b * (v[b] << shift_b) + const``."""

    a: int
    b: int
    shift_a: int
    shift_b: int
    sign_a: int
    sign_b: int
    const: int
    lo: int
    hi: int
    depth: int

    @property
    def width(self) -> int:
        """Bits of the result (exact for the interval)."""
        return interval_width(self.lo, self.hi)[1]

    @property
    def signed(self) -> bool:
        return self.lo < 0


@dataclass(frozen=True)
class Output:
    """Output ``j`` = ``v[node] << shift``, or the constant ``const`` when ``node == -1``."""

    node: int
    shift: int
    const: int
    lo: int
    hi: int


@dataclass(frozen=True)
class AdderGraph:
    """A multiplier-free constant matrix-vector product (see the module docstring).

    Members
    -------
    input_lo, input_hi:
        Raw value interval of each input (``[0, 0]`` for an input that is constant zero).
    ops:
        The adders, in topological order.
    outputs:
        One :class:`Output` per column of the matrix.
    """

    input_lo: tuple[int, ...]
    input_hi: tuple[int, ...]
    ops: tuple[Op, ...]
    outputs: tuple[Output, ...]

    @property
    def n_in(self) -> int:
        return len(self.input_lo)

    @property
    def n_out(self) -> int:
        return len(self.outputs)

    @property
    def n_adders(self) -> int:
        """Number of adders / subtractors (every op is one)."""
        return len(self.ops)

    def node_interval(self, node: int) -> tuple[int, int]:
        """``(lo, hi)`` of node ``node`` (an input or an op)."""
        if node < self.n_in:
            return self.input_lo[node], self.input_hi[node]
        op = self.ops[node - self.n_in]
        return op.lo, op.hi

    def node_depth(self, node: int) -> int:
        """Adders on the longest path from an input to ``node`` (inputs: 0)."""
        return 0 if node < self.n_in else self.ops[node - self.n_in].depth

    @property
    def depth(self) -> int:
        """Adder depth of the whole graph (longest input-to-output path in adders)."""
        return max((self.node_depth(o.node) for o in self.outputs if o.node >= 0), default=0)

    @property
    def adder_bits(self) -> int:
        """Sum of the result widths of all adders (a proxy for LUTs / carry cells)."""
        return sum(op.width for op in self.ops)

    def node_values(self, x_raw: np.ndarray) -> list[np.ndarray]:
        """Value of every node (inputs, then ops) on a batch ``(batch, n_in)``, exactly."""
        x = np.asarray(x_raw)
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"expected raw inputs of shape (batch, {self.n_in}), got {x.shape}")
        x = x.astype(object)
        values: list[np.ndarray] = [x[:, i] for i in range(self.n_in)]
        for op in self.ops:
            v = op.sign_a * (values[op.a] << op.shift_a)
            if op.b >= 0:
                v = v + op.sign_b * (values[op.b] << op.shift_b)
            values.append(v + op.const)
        return values

    def __call__(self, x_raw: np.ndarray) -> np.ndarray:
        """Evaluate on a batch of raw inputs of shape ``(batch, n_in)``, exactly.

        Returns an ``object`` array of Python ints of shape ``(batch, n_out)``.
        """
        values = self.node_values(x_raw)
        out = np.zeros((np.shape(x_raw)[0], self.n_out), dtype=object)
        for j, o in enumerate(self.outputs):
            out[:, j] = o.const if o.node < 0 else values[o.node] << o.shift
        return out

    def check(self) -> None:
        """Raise ``ValueError`` if the graph is malformed (order, signs, shifts, intervals)."""
        n = self.n_in
        for index, op in enumerate(self.ops):
            node = n + index
            if not 0 <= op.a < node or not -1 <= op.b < node:
                raise ValueError(f"op {index}: operands ({op.a}, {op.b}) are not earlier nodes")
            if op.shift_a < 0 or op.shift_b < 0 or op.sign_a not in (1, -1):
                raise ValueError(f"op {index}: negative shift or bad sign")
            if op.b >= 0 and op.sign_b not in (1, -1):
                raise ValueError(f"op {index}: bad sign_b {op.sign_b}")
            if op.lo > op.hi:
                raise ValueError(f"op {index}: empty interval [{op.lo}, {op.hi}]")

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (Python ints; wide constants stay exact)."""
        return {
            "input_lo": list(self.input_lo),
            "input_hi": list(self.input_hi),
            "ops": [asdict(op) for op in self.ops],
            "outputs": [asdict(o) for o in self.outputs],
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> AdderGraph:
        graph = cls(
            tuple(obj["input_lo"]),
            tuple(obj["input_hi"]),
            tuple(Op(**op) for op in obj["ops"]),
            tuple(Output(**o) for o in obj["outputs"]),
        )
        graph.check()
        return graph


def prune(graph: AdderGraph) -> AdderGraph:
    """The same graph without ops that no output needs (renumbered, order kept)."""
    n = graph.n_in
    needed = [False] * graph.n_adders
    for o in graph.outputs:
        if o.node >= n:
            needed[o.node - n] = True
    for index in range(graph.n_adders - 1, -1, -1):
        if needed[index]:
            op = graph.ops[index]
            for node in (op.a, op.b):
                if node >= n:
                    needed[node - n] = True
    if all(needed):
        return graph
    new_id: dict[int, int] = {i: i for i in range(n)}
    new_id[-1] = -1
    ops = []
    for index, op in enumerate(graph.ops):
        if needed[index]:
            new_id[n + index] = n + len(ops)
            ops.append(
                Op(
                    new_id[op.a],
                    new_id[op.b],
                    op.shift_a,
                    op.shift_b,
                    op.sign_a,
                    op.sign_b,
                    op.const,
                    op.lo,
                    op.hi,
                    op.depth,
                )
            )
    outputs = tuple(Output(new_id[o.node], o.shift, o.const, o.lo, o.hi) for o in graph.outputs)
    return AdderGraph(graph.input_lo, graph.input_hi, tuple(ops), outputs)
