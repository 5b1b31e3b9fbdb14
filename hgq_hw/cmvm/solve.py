"""Build an :class:`AdderGraph` for ``y = x @ matrix + bias`` without multipliers.

:func:`solve` checks its input, runs the greedy solver of :mod:`hgq_hw.cmvm.cse` on the plan of
:mod:`hgq_hw.cmvm.search` (plain CSE and column-tree decompositions of
:mod:`hgq_hw.cmvm.decompose`) and keeps the fewest adders within the depth bounds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hgq_hw.cmvm.cse import MAX_NODES, MAX_WEIGHT_BITS, Tie, greedy_graph, plain_runs
from hgq_hw.cmvm.decompose import ColumnTree, csd_weight, spanning_tree
from hgq_hw.cmvm.graph import AdderGraph, prune
from hgq_hw.cmvm.search import Candidate, best, plan

__all__ = ["prune", "solve"]


def solve(
    matrix: np.ndarray | Sequence[Sequence[int]],
    input_lo: Sequence[int],
    input_hi: Sequence[int],
    bias: Sequence[int] | None = None,
    *,
    depth_slack: int | None = None,
    max_depth: int | None = None,
    effort: float = 1.0,
) -> AdderGraph:
    """Adder graph for ``y_raw = x_raw @ matrix + bias`` (all integers, exact).

    Several greedy solutions are built (:func:`hgq_hw.cmvm.search.plan`: plain CSE at several
    inner depth bounds, CSE over column-tree decompositions, other tie-breaks); the one with
    the fewest adders that meets both depth bounds is returned (ties: smaller depth, then fewer
    adder bits). More ``depth_slack`` or ``max_depth`` never gives more adders (as long as
    ``max_depth`` is reached at all). Large matrices get fewer runs (see ``effort``).

    Parameters
    ----------
    matrix:
        Integer matrix of shape ``(n_in, n_out)`` (int64 or object array of Python ints).
    input_lo, input_hi:
        Raw interval of each input; widths of all intermediate signals follow from them.
    bias:
        Integer per output (default zeros).
    depth_slack:
        ``None``: no per-output bound. ``d >= 0``: every output ``j`` within ``d`` adders of
        ``ceil(log2(t_j))``, ``t_j`` the CSD terms of column ``j`` (plus one for a bias); the
        plain greedy solution built with inner slack ``d`` is always allowed (it may exceed
        this by one adder for a column whose terms are all negative).
    max_depth:
        ``None``: no bound. Otherwise the graph's adder depth is at most ``max_depth`` when
        any candidate reaches it; when none does, the shallowest candidate is returned (check
        ``graph.depth``).
    effort:
        Scales how many greedy runs are tried (:data:`hgq_hw.cmvm.search.WORK_BUDGET`); the
        result is deterministic for a given ``effort``.
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
    if max_depth is not None and max_depth < 0:
        raise ValueError(f"max_depth must be None or >= 0, got {max_depth}")
    if not effort > 0:
        raise ValueError(f"effort must be > 0, got {effort}")

    if any(abs(int(v)).bit_length() > MAX_WEIGHT_BITS for v in w.ravel()):
        raise ValueError(f"matrix entries must have at most {MAX_WEIGHT_BITS} bits")
    if int(csd_weight(w).sum()) + n_in >= MAX_NODES:
        raise ValueError(f"matrix too large: {MAX_NODES} adder-graph nodes at most")
    lo_t = tuple(int(v) for v in input_lo)
    hi_t = tuple(int(v) for v in input_hi)
    live = [not (lo_t[i] == 0 and hi_t[i] == 0) for i in range(n_in)]
    weights = csd_weight(w) * np.array(live, dtype=np.int64).reshape(n_in, 1)
    terms = weights.sum(axis=0) + np.array([1 if v else 0 for v in b], dtype=np.int64)
    minimum = [int(t - 1).bit_length() if t else 0 for t in terms.tolist()]
    limit = None if depth_slack is None else [m + depth_slack for m in minimum]
    w_live = w * np.array(live, dtype=object).reshape(n_in, 1)
    pairs = int((terms * terms).sum()) // 2

    candidates = plan(pairs, depth_slack, max_depth, effort)
    # the plain runs of one tie-break share their work (plain_runs); results keep plan order
    groups: dict[tuple[Tie, int | None], list[int | None]] = {}
    for cand in candidates:
        if cand.tree_level == 0:
            groups.setdefault((cand.tie, cand.tie_seed), []).append(cand.slack)
    plain: dict[tuple[Tie, int | None, int | None], AdderGraph] = {}
    base: dict = {}  # the terms before any CSE, shared by the tie-breaks
    for (tie, seed), slacks in groups.items():
        runs = plain_runs(w_live, lo_t, hi_t, b, live, slacks, tie, seed, base)
        for slack, (graph, _) in zip(slacks, runs):
            plain[tie, seed, slack] = graph
    results: list[tuple[Candidate, AdderGraph]] = []
    trees: dict[tuple[int | None, int], ColumnTree] = {}
    seen: set[tuple[tuple[int, ...], Tie, int | None]] = set()
    for cand in candidates:
        if cand.tree_level == 0:
            results.append((cand, plain[cand.tie, cand.tie_seed, cand.slack]))
            continue
        index = (cand.tree_level, cand.link_cost)
        if index not in trees:
            trees[index] = spanning_tree(w_live, cand.tree_level, cand.link_cost)
        tree = trees[index]
        shape = tree.parent + tree.sign
        if tree.n_linked == 0 or (shape, cand.tie, cand.tie_seed) in seen:
            continue  # no tree, or the same tree as an earlier candidate
        seen.add((shape, cand.tie, cand.tie_seed))
        graph, _ = greedy_graph(
            w_live, lo_t, hi_t, b, live, cand.slack, tree, cand.tie, cand.tie_seed
        )
        results.append((cand, graph))
    chosen = best(results, limit, max_depth)
    _self_check(chosen, w_live, b, lo_t, hi_t)
    return chosen


def _self_check(
    graph: AdderGraph, w: np.ndarray, bias: list[int], lo: tuple[int, ...], hi: tuple[int, ...]
) -> None:
    """Evaluate ``graph`` on the input box's two extreme corners and two fixed random points
    and compare with ``x @ w + bias`` exactly; a mismatch is a bug in hgq_hw.cmvm."""
    rng = np.random.default_rng(0)
    points = [list(lo), list(hi)]
    for _ in range(2):
        points.append([a + int(rng.integers(0, 1 << 62)) % (b - a + 1) for a, b in zip(lo, hi)])
    x = np.array(points, dtype=object).reshape(len(points), len(lo))
    want = x @ w + np.array(bias, dtype=object)
    if not np.array_equal(graph(x), want):
        raise RuntimeError("adder graph differs from x @ matrix + bias (a bug in hgq_hw.cmvm)")
