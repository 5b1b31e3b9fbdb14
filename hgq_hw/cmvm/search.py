"""Which greedy runs :func:`hgq_hw.cmvm.solve` tries, and which result it keeps.

The plan (:func:`plan`) is written down here in one place, in this order:

1. plain greedy CSE (:func:`hgq_hw.cmvm.cse.greedy_graph`) at inner slacks 0, 1, 2 and
   unbounded: the minimum-depth solutions;
2. CSE over the residuals of column trees (:func:`hgq_hw.cmvm.decompose.spanning_tree`), for
   chain lengths 1, 2, 3, 4, 6, 8 and unbounded, each with link costs 2, 1 and 3: every chain
   link adds about one adder of depth and can save adders, so each depth gets its own candidates;
3. for small problems, the same again with other tie-breaks of the CSE (seeded hashes).

Large problems (many term pairs) get a shorter plan so one solve stays within seconds. The plan
only grows with the allowed depth (a candidate is planned for a bound only when it is planned
for every looser bound), so more slack never gives more adders.

:func:`best` keeps the fewest adders among the results that meet the bounds; ties go to the
smaller depth, then to fewer adder bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hgq_hw.cmvm.graph import AdderGraph

__all__ = ["Candidate", "best", "output_depths", "plan"]

_INNER_SLACKS: tuple[int | None, ...] = (0, 1, 2, None)
_TREE_LEVELS: tuple[int | None, ...] = (1, 2, 3, 4, 6, 8, None)
_LINK_COSTS: tuple[int, ...] = (2, 1, 3)
_TIE_SEEDS: tuple[int, ...] = (1, 2, 3)
# Term pairs (sum over columns of terms**2 / 2) up to which a problem counts as small / medium.
_SMALL_PAIRS = 60_000
_MEDIUM_PAIRS = 400_000


@dataclass(frozen=True)
class Candidate:
    """One greedy run.

    ``slack``: inner CSE depth bound (``None``: unbounded). ``tree_level``: ``0`` plain CSE,
    else the longest chain of column parents (``None``: unbounded). ``link_cost``: adders
    charged for using a parent column. ``tie_seed``: CSE tie-break (``None``: smallest pattern).
    """

    slack: int | None = None
    tree_level: int | None = 0
    link_cost: int = 2
    tie_seed: int | None = None

    @property
    def by_construction(self) -> bool:
        """Plain CSE at a finite slack meets that slack's bound by construction."""
        return self.tree_level == 0 and self.slack is not None


def _within(level: int | None, bound: int | None) -> bool:
    """``level`` (``None``: unbounded) is at most ``bound`` (``None``: unbounded)."""
    return bound is None or (level is not None and level <= bound)


def plan(pairs: int, depth_slack: int | None, max_depth: int | None) -> list[Candidate]:
    """The candidates for a problem with ``pairs`` term pairs under the given bounds.

    A chain of ``L`` parents adds at least ``L`` adders of depth, so trees deeper than the
    bounds allow are not planned; the plan only grows as a bound is relaxed.
    """
    size = 0 if pairs <= _SMALL_PAIRS else 1 if pairs <= _MEDIUM_PAIRS else 2
    out = [
        Candidate(slack=t)
        for t in _INNER_SLACKS
        if _within(t, depth_slack) and (size < 2 or t in (0, None))
    ]
    levels = _TREE_LEVELS if size < 2 else (1, 2, 4, None)
    costs = _LINK_COSTS if size == 0 else (2,)
    depth_room = None if max_depth is None else max_depth - 1
    for cost in costs:
        for level in levels:
            if _within(level, depth_slack) and _within(level, depth_room):
                out.append(Candidate(tree_level=level, link_cost=cost))
    if size == 0:
        out += [Candidate(tie_seed=s) for s in _TIE_SEEDS]
        for level in (2, 4, None):
            if _within(level, depth_slack) and _within(level, depth_room):
                out += [Candidate(tree_level=level, tie_seed=s) for s in _TIE_SEEDS]
    return out


def output_depths(graph: AdderGraph) -> list[int]:
    """Adder depth of every output (a constant output: 0)."""
    return [graph.node_depth(o.node) if o.node >= 0 else 0 for o in graph.outputs]


def best(
    results: Sequence[tuple[Candidate, AdderGraph]],
    limit: Sequence[int] | None,
    max_depth: int | None,
) -> AdderGraph:
    """The fewest adders among ``results`` that meet ``limit`` (per output) and ``max_depth``.

    A plain-CSE candidate at a finite slack meets ``limit`` by construction. When no result
    meets ``max_depth``, the shallowest one that meets ``limit`` is returned.
    """

    def meets_limit(c: Candidate, g: AdderGraph) -> bool:
        if limit is None or c.by_construction:
            return True
        return all(d <= m for d, m in zip(output_depths(g), limit))

    ok = [g for c, g in results if meets_limit(c, g)]
    if not ok:
        raise RuntimeError("no candidate meets depth_slack (a bug in hgq_hw.cmvm.search)")
    fit = [g for g in ok if max_depth is None or g.depth <= max_depth]
    if fit:
        return min(fit, key=lambda g: (g.n_adders, g.depth, g.adder_bits))
    return min(ok, key=lambda g: (g.depth, g.n_adders, g.adder_bits))
