"""One greedy run: canonical signed digits, pairwise common subexpressions, then adder trees.

Steps (in this order, see :func:`greedy_graph`):

1. **Digits.** Every nonzero ``matrix[i, j]`` becomes its canonical signed digits; column ``j``
   is the multiset of terms ``sign * (x[i] << shift)``. Zero weights and inputs whose interval is
   ``[0, 0]`` give no terms.
2. **Common subexpressions.** Count, over all columns, every pair of terms by its *pattern*
   ``(a, b, ds, negated)``: the value ``x[a] +- (x[b] << ds)`` up to an overall shift and sign.
   Repeatedly take the most frequent pattern, make it one adder, and replace its non-overlapping
   occurrences by a term of the new node, so each later pattern may reuse earlier ones
   (greedy pairwise CSE, in the spirit of Hcub / RAG-n / da4ml). Ties go to the shallower new
   node, then to the smallest pattern (or a seeded hash of it), so the result is deterministic.
3. **Adder trees.** Each column's remaining terms (and its bias, as one constant, and for a
   column with a parent in a :class:`~hgq_hw.cmvm.decompose.ColumnTree` the parent's output) are
   summed by always adding the two shallowest terms first, which reaches the smallest possible
   depth ``ceil(log2(sum_t 2**depth_t))`` for the given terms.

``slack`` bounds the CSE: an occurrence is only replaced when the column's depth estimate stays
within ``slack`` adders of the column's minimum (``None``: no limit).

Every node keeps its exact value as a linear form of the inputs, so its interval -- and hence
its bit width -- is exact, also when one input appears several times in a node.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from enum import Enum

import numpy as np

from hgq_hw.cmvm.csd import csd_digits
from hgq_hw.cmvm.decompose import ColumnTree
from hgq_hw.cmvm.graph import AdderGraph, Op, Output, interval_width, prune

__all__ = ["MAX_NODES", "MAX_WEIGHT_BITS", "Tie", "greedy_graph", "plain_runs"]


class Tie(Enum):
    """Which of the equally frequent patterns the CSE takes first."""

    SHALLOWEST = "shallowest"  # the shallowest new node, then the smallest pattern
    DEEPEST = "deepest"  # the deepest new node, then the smallest pattern
    NEWEST = "newest"  # the pattern of the most recently made nodes (reuse of big sums)


# A pattern ``x[a] +- (x[b] << ds)`` (a <= b, and ds > 0 when a == b) packed into one int:
# bit 0 "negated", bits 1..12 ``ds + _DS_OFFSET``, bits 13..33 ``b``, bits 34.. ``a``.
_Key = int
_DS_OFFSET = 2048
MAX_WEIGHT_BITS = 1024  # shifts differ by less than _DS_OFFSET
MAX_NODES = 1 << 21


def _unpack(key: _Key) -> tuple[int, int, int, bool]:
    """``(a, b, ds, negated)`` of a packed pattern."""
    return (
        key >> 34,
        (key >> 13) & (MAX_NODES - 1),
        ((key >> 1) & 0xFFF) - _DS_OFFSET,
        bool(key & 1),
    )


_ORDER_SHIFT = 16  # a term's order (node, shift) as one int: shifts stay below 2**16
_HEAP_KEY = 55  # a heap entry is (priority << 55) | key: keys are below 2**55


def _partial_keys(node: int, shift: int, sign: int) -> tuple[int, int, int, int]:
    """The halves of the patterns of term ``(node, shift, sign)`` with a later term (``a``)
    and with an earlier one (``b``): ``(a, b)`` for a partner of sign ``+1``, then for ``-1``."""
    a = (node << 34) - (shift << 1)
    b = (node << 13) + (shift << 1)
    g = 1 if sign < 0 else 0
    return a + g, b + g, a + 1 - g, b + 1 - g


class _Column:
    """A column's terms sorted by ``(node, shift)`` (as one int, :data:`_ORDER_SHIFT`), each
    with its partial keys (:func:`_partial_keys`) in four aligned lists, so the patterns of a
    new term with all of them are two slices and additions (:meth:`_Solver.pair_keys`)."""

    __slots__ = ("a_neg", "a_pos", "b_neg", "b_pos", "order")

    def __init__(self) -> None:
        self.order: list[int] = []
        self.a_pos: list[int] = []
        self.b_pos: list[int] = []
        self.a_neg: list[int] = []
        self.b_neg: list[int] = []

    def insert(self, order: int, node: int, shift: int, sign: int) -> None:
        at = bisect_left(self.order, order)
        ap, bp, an, bn = _partial_keys(node, shift, sign)
        self.order.insert(at, order)
        self.a_pos.insert(at, ap)
        self.b_pos.insert(at, bp)
        self.a_neg.insert(at, an)
        self.b_neg.insert(at, bn)

    def remove(self, order: int) -> None:
        at = bisect_left(self.order, order)
        del self.order[at], self.a_pos[at], self.b_pos[at], self.a_neg[at], self.b_neg[at]

    def copy(self) -> _Column:
        other = _Column.__new__(_Column)
        for name in self.__slots__:
            setattr(other, name, list(getattr(self, name)))
        return other


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1 if n else 0


class _Solver:
    def __init__(
        self,
        lo: Sequence[int],
        hi: Sequence[int],
        tie: Tie = Tie.SHALLOWEST,
        tie_seed: int | None = None,
    ) -> None:
        self.tie = tie
        self.tie_seed = tie_seed
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
        self.sorted_cols: list[_Column] = []  # the same terms, sorted, with partial keys
        self.node_cols: dict[int, set[int]] = {}
        self.pow_sum: list[int] = []
        self.bound: list[int | None] = []
        # pattern counts as two monotone tallies (Counter.update counts in C); see count()
        self.plus: Counter[_Key] = Counter()
        self.minus: Counter[_Key] = Counter()
        self.touched: list[_Key] = []
        self.heap: list[int] = []  # (priority << _HEAP_KEY) | key
        self.low: list[int] = []  # entries of count 2, kept out of the heap (merge_low)
        self.blocked: set[_Key] = set()
        self.bound_hit = False  # did the depth bound ever turn an occurrence down?
        self.track = False
        self.minimum: list[int] = []  # per column, the depth of its balanced adder tree
        self.fork = False  # keep a copy of the state at the first bound hit (snapshot)
        self.snapshot: tuple[_Solver, _Key] | None = None

    # -- nodes --------------------------------------------------------------------------------

    def new_op(self, a: int, b: int, sha: int, shb: int, ga: int, gb: int, const: int) -> int:
        ca = self.coef[a]
        if ga > 0:
            coef = dict(ca) if sha == 0 else {i: c << sha for i, c in ca.items()}
        else:
            coef = {i: -(c << sha) for i, c in ca.items()}
        total = const + ga * (self.const[a] << sha)
        overlap = False
        if b >= 0:
            get = coef.get
            for i, c in self.coef[b].items():
                v = gb * (c << shb)
                old = get(i)
                if old is None:
                    coef[i] = v
                else:
                    overlap = True
                    if old + v:
                        coef[i] = old + v
                    else:
                        del coef[i]
            total += gb * (self.const[b] << shb)
        if overlap:
            lo = hi = total
            for i, c in coef.items():
                x, y = c * self.input_lo[i], c * self.input_hi[i]
                lo += min(x, y)
                hi += max(x, y)
        else:  # no input in common: the exact interval is the sum of the operands' (exact)
            lo, hi = self.lo[a] << sha, self.hi[a] << sha
            if ga < 0:
                lo, hi = -hi, -lo
            if b >= 0:
                lb, hb = self.lo[b] << shb, self.hi[b] << shb
                if gb < 0:
                    lb, hb = -hb, -lb
                lo, hi = lo + lb, hi + hb
            lo, hi = lo + const, hi + const
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

    def priority(self, key: _Key, count: int) -> int:
        """Heap order (smallest first): most pairs first, then by :class:`Tie`; equal
        priorities go to the smaller key. The count is ``-(priority >> 56)``."""
        a, b = key >> 34, (key >> 13) & (MAX_NODES - 1)
        if self.tie_seed is None and self.tie is Tie.SHALLOWEST:  # the common case, first
            da, db = self.depth[a], self.depth[b]
            return (-count << 56) | (((da if da > db else db) + 1) << 40)
        if self.tie is Tie.NEWEST:
            if self.tie_seed is None:
                return (-count << 56) | ((1 << 55) - 1 - key)
            salt = hash((self.tie_seed, key)) & 0xFFFFFFFF
            return (-count << 56) | ((MAX_NODES - 1 - max(a, b)) << 32) | salt
        depth = max(self.depth[a], self.depth[b]) + 1
        if self.tie is Tie.DEEPEST:
            depth = 0xFFFF - depth
        salt = 0 if self.tie_seed is None else hash((self.tie_seed, key)) & 0xFFFFFFFF
        return (-count << 56) | (depth << 40) | salt

    # -- columns ------------------------------------------------------------------------------

    def count(self, key: _Key) -> int:
        """Columns-wide number of term pairs with pattern ``key`` (overlaps included)."""
        return self.plus.get(key, 0) - self.minus.get(key, 0)

    def pair_keys(self, j: int, node: int, shift: int, sign: int) -> list[_Key]:
        """Pattern of the pair ``(node, shift, sign)`` with every term of column ``j``.

        Each stored term keeps its two partial keys (:func:`_partial_keys`), so a pattern is
        one addition: ``(n2, node, shift - s2)`` when the other term is smaller, else
        ``(node, n2, s2 - shift)``, the ``negated`` bit already folded in."""
        hi = (node << 13) | ((shift + _DS_OFFSET) << 1)  # (other, node, shift - s2)
        lo = (node << 34) | ((_DS_OFFSET - shift) << 1)  # (node, other, s2 - shift)
        col = self.sorted_cols[j]
        at = bisect_left(col.order, (node << _ORDER_SHIFT) | shift)
        a, b = (col.a_pos, col.b_pos) if sign > 0 else (col.a_neg, col.b_neg)
        return [x + hi for x in a[:at]] + [y + lo for y in b[at:]]

    def add_term(self, j: int, node: int, shift: int, sign: int) -> None:
        col = self.cols[j]
        existing = col.get(node, {}).get(shift)
        if existing is not None:
            self.remove_term(j, node, shift)
            if existing == sign:  # x + x = x << 1
                self.add_term(j, node, shift + 1, sign)
            return  # x - x = 0
        if node == len(self.depth) - 1 and node not in col:
            # the newest node pairs with older nodes only: every key is (other, node, ...)
            hi = (node << 13) | ((shift + _DS_OFFSET) << 1)
            col_s = self.sorted_cols[j]
            keys = [x + hi for x in (col_s.a_pos if sign > 0 else col_s.a_neg)]
        else:
            keys = self.pair_keys(j, node, shift, sign)
        self.plus.update(keys)
        if self.track:
            self.touched.extend(keys)
        col.setdefault(node, {})[shift] = sign
        self.sorted_cols[j].insert((node << _ORDER_SHIFT) | shift, node, shift, sign)
        self.node_cols.setdefault(node, set()).add(j)
        self.pow_sum[j] += 1 << self.depth[node]

    def remove_term(self, j: int, node: int, shift: int) -> None:
        col = self.cols[j]
        sign = col[node].pop(shift)
        if not col[node]:
            del col[node]
            self.node_cols[node].discard(j)
        self.sorted_cols[j].remove((node << _ORDER_SHIFT) | shift)
        self.minus.update(self.pair_keys(j, node, shift, sign))
        self.pow_sum[j] -= 1 << self.depth[node]

    # -- CSE ----------------------------------------------------------------------------------

    def occurrences(self, key: _Key) -> list[tuple[int, int, int, int]]:
        a, b, ds, neg = _unpack(key)
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
                        self.bound_hit = True
                        continue
                    ps = after
                used.add((a, s1))
                used.add((b, s2))
                found.append((j, s1, s2, g1))
        return found

    def apply(self, key: _Key) -> None:
        a, b, ds, neg = _unpack(key)
        hit_before = self.bound_hit
        found = self.occurrences(key)
        if self.fork and not hit_before and self.bound_hit:
            # the first occurrence this bound turned down: up to here every looser bound made
            # the same choices, so a run with one resumes from this state (see plain_runs)
            self.snapshot = (self.copy(), key)
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
        # every pattern that gained pairs is queued once, at its count after this step
        plus, minus, heap, priority = self.plus, self.minus, self.heap, self.priority
        minus_get = minus.get
        low = self.low
        for k in set(self.touched):
            c = plus[k]  # an upper bound of the count: most new pairs are single
            if c >= 2 and (c := c - minus_get(k, 0)) >= 2:
                entry = (priority(k, c) << _HEAP_KEY) | k
                if c == 2:
                    low.append(entry)
                else:
                    heapq.heappush(heap, entry)
        self.touched.clear()

    def cse(self) -> None:
        minus, priority = self.minus, self.priority
        self.heap = [
            (priority(k, c) << _HEAP_KEY) | k
            for k, n in self.plus.items()
            if (c := n - minus.get(k, 0)) >= 3
        ]
        heapq.heapify(self.heap)
        self.low = [
            (priority(k, 2) << _HEAP_KEY) | k
            for k, n in self.plus.items()
            if n - minus.get(k, 0) == 2
        ]
        self.run()

    def merge_low(self) -> None:
        """Move the entries of count 2 waiting in :attr:`low` into the heap.

        They wait there while the heap holds larger counts, which always come first; the ones
        that the loop would now skip (count no longer 2, or blocked) are dropped, which changes
        nothing, since a pattern whose count went up has a newer entry and one whose count came
        back to 2 was queued again."""
        plus, minus_get, blocked = self.plus, self.minus.get, self.blocked
        mask = (1 << _HEAP_KEY) - 1
        kept = [
            e for e in self.low if (k := e & mask) not in blocked and plus[k] - minus_get(k, 0) == 2
        ]
        self.low.clear()
        heap = self.heap
        if len(kept) > len(heap):
            heap.extend(kept)
            heapq.heapify(heap)
        else:
            for e in kept:
                heapq.heappush(heap, e)

    def resume(self, key: _Key) -> None:
        """Continue a copied run (:meth:`copy`) at the pattern it was applying."""
        self.track = True
        self.apply(key)
        self.run()

    def copy(self) -> _Solver:
        """An independent copy of the whole state (between two steps of the CSE)."""
        other = _Solver.__new__(_Solver)
        other.__dict__.update(self.__dict__)
        names = ("const", "lo", "hi", "depth", "ops", "coef", "pow_sum", "bound", "heap", "low")
        for name in names:
            setattr(other, name, list(getattr(self, name)))
        other.cols = [{n: dict(terms) for n, terms in col.items()} for col in self.cols]
        other.sorted_cols = [col.copy() for col in self.sorted_cols]
        other.node_cols = {n: set(cols) for n, cols in self.node_cols.items()}
        other.made = dict(self.made)
        other.plus = self.plus.copy()
        other.minus = self.minus.copy()
        other.touched = list(self.touched)
        other.blocked = set(self.blocked)
        other.snapshot = None
        return other

    def run(self) -> None:
        """The CSE loop: apply the most frequent pattern until none occurs twice."""
        self.track = True
        mask = (1 << _HEAP_KEY) - 1
        heap, plus, minus_get, blocked = self.heap, self.plus, self.minus.get, self.blocked
        low = self.low
        pop, push = heapq.heappop, heapq.heappush
        top = _HEAP_KEY + 56  # entry >> top is minus the count it was queued with
        while True:
            if low and (not heap or heap[0] >> top >= -2):
                self.merge_low()  # nothing above count 2 is left: the waiting ones join
            if not heap:
                break
            entry = pop(heap)
            key = entry & mask
            count = plus[key] - minus_get(key, 0)
            if count < 2 or key in blocked:
                continue
            prio = entry >> _HEAP_KEY
            pushed = -(prio >> 56)
            if count != pushed:
                if count < pushed:  # went down since pushed: requeue at its true count
                    prio += (pushed - count) << 56
                    if count == 2:
                        low.append((prio << _HEAP_KEY) | key)
                    else:
                        push(heap, (prio << _HEAP_KEY) | key)
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

    def column_output(
        self, j: int, bias: int, extra: Sequence[tuple[int, int, int]] = ()
    ) -> Output:
        """Sum column ``j``'s terms, ``extra`` terms ``(node, shift, sign)`` and ``bias``."""
        items: list[tuple[int, int, int, tuple[int, int, int]]] = []
        seq = 0
        for node in sorted(self.cols[j]):
            for shift, sign in sorted(self.cols[j][node].items()):
                items.append((self.depth[node], self.width(node), seq, (node, shift, sign)))
                seq += 1
        for term in extra:
            items.append((self.depth[term[0]], self.width(term[0]), seq, term))
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


def _setup(
    w: np.ndarray,
    input_lo: Sequence[int],
    input_hi: Sequence[int],
    bias: list[int],
    live: list[bool],
    tree: ColumnTree | None,
    tie: Tie,
    tie_seed: int | None,
) -> _Solver:
    """A solver holding the CSD terms of every (residual) column, before any CSE."""
    s = _Solver(input_lo, input_hi, tie, tie_seed)
    n_in, n_out = w.shape
    cols = w if tree is None else tree.residual
    for j in range(n_out):
        s.cols.append({})
        s.sorted_cols.append(_Column())
        s.pow_sum.append(1 if bias[j] else 0)
        for i in range(n_in):
            value = int(cols[i, j])
            if value and live[i]:
                for shift, sign in csd_digits(value):
                    s.add_term(j, i, shift, sign)
        s.minimum.append((s.pow_sum[j] - 1).bit_length() if s.pow_sum[j] else 0)
    return s


def _bounds(s: _Solver, slack: int | None) -> list[int | None]:
    return [None if slack is None else m + slack for m in s.minimum]


def _finish(s: _Solver, bias: list[int], tree: ColumnTree | None) -> AdderGraph:
    """Each column's adder tree after the CSE, and the pruned, checked graph."""
    n_out = len(s.cols)
    if tree is None:
        outputs = [s.column_output(j, bias[j]) for j in range(n_out)]
    else:
        done: dict[int, Output] = {}
        for j in tree.order:
            k, sign = tree.parent[j], tree.sign[j]
            if k < 0:
                done[j] = s.column_output(j, bias[j])
                continue
            up = done[k]
            if up.node < 0:  # the parent is a constant: sign * (y_k - bias_k) folds into the bias
                done[j] = s.column_output(j, bias[j] + sign * (up.const - bias[k]))
            else:
                term = (up.node, up.shift, sign)
                done[j] = s.column_output(j, bias[j] - sign * bias[k], (term,))
        outputs = [done[j] for j in range(n_out)]
    graph = prune(AdderGraph(s.input_lo, s.input_hi, tuple(s.ops), tuple(outputs)))
    graph.check()
    return graph


def greedy_graph(
    w: np.ndarray,
    input_lo: Sequence[int],
    input_hi: Sequence[int],
    bias: list[int],
    live: list[bool],
    slack: int | None = None,
    tree: ColumnTree | None = None,
    tie: Tie = Tie.SHALLOWEST,
    tie_seed: int | None = None,
) -> tuple[AdderGraph, bool]:
    """One greedy run: CSE over the (residual) columns, then each column's adder tree.

    Returns the graph and whether ``slack`` ever turned an occurrence down (when not, the run
    is the same as with any larger slack).

    ``slack`` bounds each residual column's depth estimate during CSE (``None``: unbounded);
    ``tree`` adds ``sign * y_parent`` to the columns that have a parent (``None``: no parents).
    ``tie`` orders equally frequent patterns; ``tie_seed`` breaks the remaining ties by a fixed
    hash instead of the smallest (for ``Tie.NEWEST``: the largest) pattern.
    """
    s = _setup(w, input_lo, input_hi, bias, live, tree, tie, tie_seed)
    s.bound = _bounds(s, slack)
    s.cse()
    return _finish(s, bias, tree), s.bound_hit


def plain_runs(
    w: np.ndarray,
    input_lo: Sequence[int],
    input_hi: Sequence[int],
    bias: list[int],
    live: list[bool],
    slacks: Sequence[int | None],
    tie: Tie = Tie.SHALLOWEST,
    tie_seed: int | None = None,
    base: dict[str, _Solver] | None = None,
) -> list[tuple[AdderGraph, bool]]:
    """``greedy_graph(..., slack, None, tie, tie_seed)`` for each of ``slacks``, the same
    results with less work.

    The runs go from the tightest bound to the loosest. Until a bound first turns an
    occurrence down, every looser bound makes the same choices, so the next run starts from a
    copy of the state at that point instead of from scratch; a run whose bound never turned
    anything down is the result of every looser bound too. ``base`` (a dict, empty at first)
    keeps the solver state before any CSE for further calls on the same problem.
    """
    order = sorted(set(slacks), key=lambda v: (v is None, v or 0))
    done: dict[int | None, tuple[AdderGraph, bool]] = {}
    same: tuple[int, AdderGraph] | None = None
    fork: tuple[_Solver, _Key] | None = None
    for slack in order:
        if same is not None and (slack is None or slack >= same[0]):
            done[slack] = (same[1], False)
            continue
        if fork is None:
            if base is None:
                s = _setup(w, input_lo, input_hi, bias, live, None, tie, tie_seed)
            else:
                if "solver" not in base:
                    base["solver"] = _setup(w, input_lo, input_hi, bias, live, None, tie, None)
                s = base["solver"].copy()
                s.tie, s.tie_seed = tie, tie_seed
            s.bound = _bounds(s, slack)
            s.fork = slack is not None
            s.cse()
        else:
            s, key = fork[0].copy(), fork[1]
            s.bound = _bounds(s, slack)
            s.bound_hit = False
            s.fork = slack is not None
            s.resume(key)
        snapshot, s.snapshot = s.snapshot, None
        done[slack] = (_finish(s, bias, None), s.bound_hit)
        if slack is not None and not s.bound_hit:
            same = (slack, done[slack][0])
        if snapshot is not None:
            fork = snapshot
    return [done[v] for v in slacks]
