"""Column decompositions: write some columns of a matrix as another column plus a cheap residual.

``w[:, j] == sign[j] * w[:, parent[j]] + residual[:, j]`` for every column with a parent
(``parent[j] == -1``: no parent, ``residual[:, j] == w[:, j]``). Then ``y_j`` costs the adders
of its residual plus one more for ``y_parent``, at a deeper adder depth: the first stage of the
factorisation ``W = R @ T`` (``T`` the tree of parents) that da4ml also searches over.

The parents come from a minimum spanning tree (Prim) over the columns, with a virtual root whose
edge to column ``j`` costs its canonical signed digits and an edge ``k -> j`` costing the digits
of ``w_j - sign * w_k`` plus one adder; ``max_level`` caps the chain length (how many parents
deep a column may sit), which caps the depth this adds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ColumnTree", "csd_weight", "spanning_tree"]


def csd_weight(values: np.ndarray) -> np.ndarray:
    """Number of nonzero canonical signed digits of every entry (same shape, int64).

    Uses the identity ``weight(n) == popcount(h ^ (n + h))`` with ``h = |n| >> 1``. Entries beyond
    int64 (object arrays of Python ints) are counted one by one.
    """
    v = np.asarray(values)
    if v.dtype == object and all(abs(int(n)) < (1 << 61) for n in v.ravel()):
        v = v.astype(np.int64)
    if v.dtype == object:
        flat = [abs(int(n)) for n in v.ravel()]
        return np.array(
            [bin((n >> 1) ^ (n + (n >> 1))).count("1") for n in flat], dtype=np.int64
        ).reshape(v.shape)
    n = np.abs(v.astype(np.int64))
    h = n >> 1
    return np.bitwise_count(h ^ (n + h)).astype(np.int64)


@dataclass(frozen=True)
class ColumnTree:
    """``w[:, j] == sign[j] * w[:, parent[j]] + residual[:, j]``; ``order``: parents first."""

    parent: tuple[int, ...]
    sign: tuple[int, ...]
    residual: np.ndarray
    order: tuple[int, ...]

    @property
    def n_linked(self) -> int:
        """Columns that have a parent."""
        return sum(p >= 0 for p in self.parent)


def _fits_int64(w: np.ndarray) -> bool:
    """Sums of two entries stay exact in int64."""
    if w.dtype != object:
        return True
    return all(abs(int(v)) < (1 << 60) for v in w.ravel())


def spanning_tree(w: np.ndarray, max_level: int | None = None, link_cost: int = 1) -> ColumnTree:
    """The cheapest tree of column parents (see the module docstring), deterministic.

    ``max_level``: a column may sit at most this many parents below a root column (``None``:
    no limit; ``0``: no parents at all). A parent is only taken when it is strictly cheaper
    than the column on its own.
    """
    n_in, n_out = w.shape
    wide = not _fits_int64(w)
    wi = w.astype(object) if wide else w.astype(np.int64)
    own = csd_weight(wi).sum(axis=0) if n_in else np.zeros(n_out, dtype=np.int64)
    parent = [-1] * n_out
    sign = [1] * n_out
    level = [0] * n_out
    order: list[int] = []
    if max_level == 0 or n_out < 2 or wide:
        return ColumnTree(tuple(parent), tuple(sign), wi.copy(), tuple(range(n_out)))
    # cost[k, j] of "column j from column k", sign chosen per pair; +1 for the extra adder.
    minus = csd_weight(wi[:, None, :] - wi[:, :, None]).sum(axis=0)  # [k, j]: w_j - w_k
    plus = csd_weight(wi[:, None, :] + wi[:, :, None]).sum(axis=0)
    pair_sign = np.where(plus < minus, -1, 1)
    pair_cost = np.minimum(plus, minus) + link_cost
    best = own.copy()
    best_parent = np.full(n_out, -1)
    done = np.zeros(n_out, dtype=bool)
    for _ in range(n_out):
        candidates = np.where(done, np.iinfo(np.int64).max, best)
        j = int(np.argmin(candidates))
        done[j] = True
        k = int(best_parent[j])
        if k >= 0:
            parent[j], sign[j], level[j] = k, int(pair_sign[k, j]), level[k] + 1
        order.append(j)
        if max_level is not None and level[j] >= max_level:
            continue
        better = ~done & (pair_cost[j] < best)
        best[better] = pair_cost[j][better]
        best_parent[better] = j
    residual = wi.copy()
    for j in range(n_out):
        if parent[j] >= 0:
            residual[:, j] = wi[:, j] - sign[j] * wi[:, parent[j]]
    return ColumnTree(tuple(parent), tuple(sign), residual, tuple(order))
