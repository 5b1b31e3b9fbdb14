"""Build an :class:`AdderGraph` for ``y = x @ matrix + bias`` without multipliers.

Steps (in this order, see :func:`solve`):

1. **Digits.** Every nonzero ``matrix[i, j]`` becomes its canonical signed digits; column ``j``
   is the multiset of terms ``sign * (x[i] << shift)``. Zero weights and inputs whose interval is
   ``[0, 0]`` give no terms.
2. **Common subexpressions.** Count, over all columns, every pair of terms by its *pattern*
   ``(a, b, ds, negated)``: the value ``x[a] +- (x[b] << ds)`` up to an overall shift and sign.
   Repeatedly take the most frequent pattern, make it one adder, and replace its non-overlapping
   occurrences by a term of the new node, so each later pattern may reuse earlier ones
   (greedy pairwise CSE, in the spirit of Hcub / RAG-n / da4ml). Ties go to the shallower new
   node, then to the smallest pattern, so the result is deterministic.
3. **Adder trees.** Each column's remaining terms (and its bias, as one constant) are summed by
   always adding the two shallowest terms first, which reaches the smallest possible depth
   ``ceil(log2(sum_t 2**depth_t))`` for the given terms.

``depth_slack`` trades adders for depth: an occurrence is only replaced when the column's depth
estimate stays within ``depth_slack`` adders of the column's minimum (``None``: no limit, fewest
adders; ``0``: minimum depth).

Every node keeps its exact value as a linear form of the inputs, so its interval -- and hence
its bit width -- is exact, also when one input appears several times in a node.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

import numpy as np

from hgq_hw.cmvm.csd import csd_digits
from hgq_hw.cmvm.graph import AdderGraph, Op, Output, interval_width

__all__ = ["prune", "solve"]

_Key = tuple[int, int, int, bool]


def _pair_key(n1: int, s1: int, g1: int, n2: int, s2: int, g2: int) -> _Key:
    if (n2, s2) < (n1, s1):
        n1, s1, g1, n2, s2, g2 = n2, s2, g2, n1, s1, g1
    return (n1, n2, s2 - s1, g1 != g2)


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1 if n else 0


class _Solver:
    def __init__(self, lo: Sequence[int], hi: Sequence[int]) -> None:
        self.input_lo = tuple(int(v) for v in lo)
        self.input_hi = tuple(int(v) for v in hi)
        n = len(self.input_lo)
        self.coef: list[dict[int, int]] = [{i: 1} for i in range(n)]
        self.const: list[int] = [0] * n
        self.lo: list[int] = list(self.input_lo)
        self.hi: list[int] = list(self.input_hi)
        self.depth: list[int] = [0] * n
        self.ops: list[Op] = []
        self.made: dict[_Key, int] = {}
        # CSE state
        self.cols: list[dict[int, dict[int, int]]] = []
        self.node_cols: dict[int, set[int]] = {}
        self.pow_sum: list[int] = []
        self.bound: list[int | None] = []
        self.counts: dict[_Key, int] = {}
        self.heap: list[tuple[int, int, _Key]] = []
        self.blocked: set[_Key] = set()
        self.track = False

    # -- nodes --------------------------------------------------------------------------------

    def new_op(self, a: int, b: int, sha: int, shb: int, ga: int, gb: int, const: int) -> int:
        coef: dict[int, int] = {}
        for node, shift, sign in ((a, sha, ga), (b, shb, gb)):
            if node < 0:
                continue
            for i, c in self.coef[node].items():
                coef[i] = coef.get(i, 0) + sign * (c << shift)
        coef = {i: c for i, c in coef.items() if c}
        total = const
        for node, shift, sign in ((a, sha, ga), (b, shb, gb)):
            if node >= 0:
                total += sign * (self.const[node] << shift)
        lo = hi = total
        for i, c in coef.items():
            x, y = c * self.input_lo[i], c * self.input_hi[i]
            lo += min(x, y)
            hi += max(x, y)
        depth = max(self.depth[a], self.depth[b] if b >= 0 else 0) + 1
        self.ops.append(Op(a, b, sha, shb, ga, gb if b >= 0 else 0, const, lo, hi, depth))
        self.coef.append(coef)
        self.const.append(total)
        self.lo.append(lo)
        self.hi.append(hi)
        self.depth.append(depth)
        return len(self.depth) - 1

    def width(self, node: int) -> int:
        return interval_width(self.lo[node], self.hi[node])[1]

    # -- columns ------------------------------------------------------------------------------

    def _bump(self, key: _Key, delta: int) -> None:
        count = self.counts.get(key, 0) + delta
        if count:
            self.counts[key] = count
        else:
            del self.counts[key]
        if self.track and delta > 0 and count >= 2:
            depth = max(self.depth[key[0]], self.depth[key[1]]) + 1
            heapq.heappush(self.heap, (-count, depth, key))

    def add_term(self, j: int, node: int, shift: int, sign: int) -> None:
        col = self.cols[j]
        existing = col.get(node, {}).get(shift)
        if existing is not None:
            self.remove_term(j, node, shift)
            if existing == sign:  # x + x = x << 1
                self.add_term(j, node, shift + 1, sign)
            return  # x - x = 0
        for n2, terms in col.items():
            for s2, g2 in terms.items():
                self._bump(_pair_key(node, shift, sign, n2, s2, g2), 1)
        col.setdefault(node, {})[shift] = sign
        self.node_cols.setdefault(node, set()).add(j)
        self.pow_sum[j] += 1 << self.depth[node]

    def remove_term(self, j: int, node: int, shift: int) -> None:
        col = self.cols[j]
        sign = col[node].pop(shift)
        if not col[node]:
            del col[node]
            self.node_cols[node].discard(j)
        for n2, terms in col.items():
            for s2, g2 in terms.items():
                self._bump(_pair_key(node, shift, sign, n2, s2, g2), -1)
        self.pow_sum[j] -= 1 << self.depth[node]

    # -- CSE ----------------------------------------------------------------------------------

    def occurrences(self, key: _Key) -> list[tuple[int, int, int, int]]:
        a, b, ds, neg = key
        new_depth = max(self.depth[a], self.depth[b]) + 1
        found = []
        for j in sorted(self.node_cols.get(a, set()) & self.node_cols.get(b, set())):
            col = self.cols[j]
            ta, tb = col[a], col[b]
            used: set[tuple[int, int]] = set()
            ps = self.pow_sum[j]
            for s1 in sorted(ta):
                s2 = s1 + ds
                if s2 not in tb or (a, s1) in used or (b, s2) in used or (a == b and ds == 0):
                    continue
                g1, g2 = ta[s1], tb[s2]
                if (g1 != g2) != neg:
                    continue
                bound = self.bound[j]
                if bound is not None:
                    after = ps - (1 << self.depth[a]) - (1 << self.depth[b]) + (1 << new_depth)
                    if (after - 1).bit_length() > bound:
                        continue
                    ps = after
                used.add((a, s1))
                used.add((b, s2))
                found.append((j, s1, s2, g1))
        return found

    def apply(self, key: _Key) -> None:
        a, b, ds, neg = key
        found = self.occurrences(key)
        if key in self.made:
            node = self.made[key]
        elif len(found) < 2:
            self.blocked.add(key)
            return
        else:
            node = self.new_op(a, b, max(0, -ds), max(0, ds), 1, -1 if neg else 1, 0)
            self.made[key] = node
        for j, s1, s2, g1 in found:
            self.remove_term(j, a, s1)
            self.remove_term(j, b, s2)
            self.add_term(j, node, min(s1, s2), g1)

    def cse(self) -> None:
        self.heap = [
            (-c, max(self.depth[k[0]], self.depth[k[1]]) + 1, k)
            for k, c in self.counts.items()
            if c >= 2
        ]
        heapq.heapify(self.heap)
        self.track = True
        while self.heap:
            neg_count, depth, key = heapq.heappop(self.heap)
            count = self.counts.get(key, 0)
            if key in self.blocked or count < 2:
                continue
            if count != -neg_count:
                if count < -neg_count:  # went down since pushed: requeue at its true count
                    heapq.heappush(self.heap, (-count, depth, key))
                continue
            self.apply(key)
        self.track = False

    # -- adder trees --------------------------------------------------------------------------

    def merge(self, p: tuple[int, int, int], q: tuple[int, int, int]) -> tuple[int, int, int]:
        """Add two terms ``(node, shift, sign)``; node ``-1`` is the constant ``sign``."""
        if p[0] < 0:
            p, q = q, p
        n1, s1, g1 = p
        if q[0] < 0:  # node + constant
            c = q[2]
            m = min(s1, _trailing_zeros(c))
            return (self.new_op(n1, -1, s1 - m, 0, g1, 0, c >> m), m, 1)
        n2, s2, g2 = q
        m = min(s1, s2)
        if g1 == g2:
            return (self.new_op(n1, n2, s1 - m, s2 - m, 1, 1, 0), m, g1)
        if g1 < 0:
            n1, s1, n2, s2 = n2, s2, n1, s1
        return (self.new_op(n1, n2, s1 - m, s2 - m, 1, -1, 0), m, 1)

    def column_output(self, j: int, bias: int) -> Output:
        items: list[tuple[int, int, int, tuple[int, int, int]]] = []
        seq = 0
        for node in sorted(self.cols[j]):
            for shift, sign in sorted(self.cols[j][node].items()):
                items.append((self.depth[node], self.width(node), seq, (node, shift, sign)))
                seq += 1
        if bias:
            items.append((0, interval_width(bias, bias)[1], seq, (-1, 0, bias)))
            seq += 1
        if not items:
            return Output(-1, 0, 0, 0, 0)
        heapq.heapify(items)
        if len(items) > 1 and all(item[3][0] >= 0 and item[3][2] < 0 for item in items):
            # All terms negative: negate the shallowest one, so the sum ends positive without a
            # negation after the deepest adder.
            _, _, _, (node, shift, _) = heapq.heappop(items)
            neg = self.new_op(node, -1, 0, 0, -1, 0, 0)
            heapq.heappush(items, (self.depth[neg], self.width(neg), seq, (neg, shift, 1)))
            seq += 1
        while len(items) > 1:
            _, _, _, p = heapq.heappop(items)
            _, _, _, q = heapq.heappop(items)
            term = self.merge(p, q)
            heapq.heappush(items, (self.depth[term[0]], self.width(term[0]), seq, term))
            seq += 1
        node, shift, sign = items[0][3]
        if node < 0:
            return Output(-1, 0, sign, sign, sign)
        if sign < 0:
            node = self.new_op(node, -1, 0, 0, -1, 0, 0)
        return Output(node, shift, 0, self.lo[node] << shift, self.hi[node] << shift)


def solve(
    matrix: np.ndarray | Sequence[Sequence[int]],
    input_lo: Sequence[int],
    input_hi: Sequence[int],
    bias: Sequence[int] | None = None,
    *,
    depth_slack: int | None = None,
) -> AdderGraph:
    """Adder graph for ``y_raw = x_raw @ matrix + bias`` (all integers, exact).

    Parameters
    ----------
    matrix:
        Integer matrix of shape ``(n_in, n_out)`` (int64 or object array of Python ints).
    input_lo, input_hi:
        Raw interval of each input; widths of all intermediate signals follow from them.
    bias:
        Integer per output (default zeros).
    depth_slack:
        ``None`` minimises adders; ``d >= 0`` keeps each output within ``d`` adders of its
        smallest possible depth.
    """
    w = np.asarray(matrix, dtype=object)
    if w.ndim != 2:
        raise ValueError(f"matrix must be 2-d (n_in, n_out), got shape {w.shape}")
    n_in, n_out = w.shape
    if len(input_lo) != n_in or len(input_hi) != n_in:
        raise ValueError(
            f"need {n_in} input bounds, got {len(input_lo)} lows and {len(input_hi)} highs"
        )
    if any(int(lo) > int(hi) for lo, hi in zip(input_lo, input_hi)):
        raise ValueError("every input interval needs lo <= hi")
    b = [0] * n_out if bias is None else [int(v) for v in bias]
    if len(b) != n_out:
        raise ValueError(f"bias needs {n_out} entries, got {len(b)}")
    if depth_slack is not None and depth_slack < 0:
        raise ValueError(f"depth_slack must be None or >= 0, got {depth_slack}")

    s = _Solver(input_lo, input_hi)
    live = [not (s.input_lo[i] == 0 and s.input_hi[i] == 0) for i in range(n_in)]
    for j in range(n_out):
        s.cols.append({})
        s.pow_sum.append(1 if b[j] else 0)
        for i in range(n_in):
            value = int(w[i, j])
            if value and live[i]:
                for shift, sign in csd_digits(value):
                    s.add_term(j, i, shift, sign)
        minimum = (s.pow_sum[j] - 1).bit_length() if s.pow_sum[j] else 0
        s.bound.append(None if depth_slack is None else minimum + depth_slack)
    s.cse()
    outputs = tuple(s.column_output(j, b[j]) for j in range(n_out))
    graph = prune(AdderGraph(s.input_lo, s.input_hi, tuple(s.ops), outputs))
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
