"""Which greedy runs :func:`hgq_hw.cmvm.solve` tries, and which result it keeps.

The plan is written down here in one place (:data:`RANKED`), most useful first:

1. plain greedy CSE (:func:`hgq_hw.cmvm.cse.greedy_graph`) at inner slack 0 and unbounded,
   with the :class:`~hgq_hw.cmvm.cse.Tie` rules: the minimum-depth solutions;
2. CSE over the residuals of column trees (:func:`hgq_hw.cmvm.decompose.spanning_tree`) of
   chain lengths 1, 2, 4 and unbounded: every chain link adds about one adder of depth and can
   save adders, so each depth gets its own candidates;
3. more chain lengths (3, 6, 8), other link costs, inner slacks 1 and 2, seeded tie-breaks
   (most with ``Tie.NEWEST``, which usually needs the fewest adders).

:func:`plan` takes the first candidates of that list that fit a work budget (runs times term
pairs, so large matrices get few runs), then drops those that the depth bounds rule out. The
budget cut does not depend on the bounds and the bound filter only lets more through as a bound
is relaxed, so more slack never gives more adders.

:func:`best` keeps the fewest adders among the results that meet the bounds; ties go to the
smaller depth, then to fewer adder bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hgq_hw.cmvm.cse import Tie
from hgq_hw.cmvm.graph import AdderGraph

__all__ = ["RANKED", "Candidate", "best", "output_depths", "plan"]

# Term pairs times runs that one solve may spend (about 4 s of CPU), and the runs always made.
WORK_BUDGET = 1_200_000
_ALWAYS = 2


@dataclass(frozen=True)
class Candidate:
    """One greedy run.

    ``slack``: inner CSE depth bound (``None``: unbounded). ``tree_level``: ``0`` plain CSE,
    else the longest chain of column parents (``None``: unbounded). ``link_cost``: adders
    charged for using a parent column. ``tie`` and ``tie_seed``: CSE tie-breaks.
    """

    slack: int | None = None
    tree_level: int | None = 0
    link_cost: int = 2
    tie: Tie = Tie.SHALLOWEST
    tie_seed: int | None = None

    @property
    def by_construction(self) -> bool:
        """Plain CSE at a finite slack meets that slack's bound by construction."""
        return self.tree_level == 0 and self.slack is not None


def _ranked() -> tuple[Candidate, ...]:
    out = [Candidate(slack=0), Candidate(), Candidate(tie=Tie.NEWEST)]
    out.append(Candidate(slack=0, tie=Tie.NEWEST))
    for level in (1, 2, 4, None):
        out += [Candidate(tree_level=level), Candidate(tree_level=level, tie=Tie.NEWEST)]
    out += [Candidate(slack=1), Candidate(slack=2), Candidate(tie=Tie.DEEPEST)]
    for level in (3, 6, 8):
        out += [Candidate(tree_level=level), Candidate(tree_level=level, tie=Tie.NEWEST)]
    for cost in (3, 1):
        for level in (1, 2, 4, None):
            out.append(Candidate(tree_level=level, link_cost=cost, tie=Tie.NEWEST))
    for seed in (1, 2, 3):
        out.append(Candidate(tie=Tie.NEWEST, tie_seed=seed))
        for level in (1, 2, 4, None):
            out.append(Candidate(tree_level=level, tie=Tie.NEWEST, tie_seed=seed))
    out += [Candidate(tie_seed=seed) for seed in (1, 2, 3)]
    return tuple(out)


RANKED: tuple[Candidate, ...] = _ranked()


def _within(level: int | None, bound: int | None) -> bool:
    """``level`` (``None``: unbounded) is at most ``bound`` (``None``: unbounded)."""
    return bound is None or (level is not None and level <= bound)


def plan(
    pairs: int, depth_slack: int | None, max_depth: int | None, effort: float = 1.0
) -> list[Candidate]:
    """The candidates for a problem with ``pairs`` term pairs under the given bounds.

    ``effort`` scales :data:`WORK_BUDGET`. A plain run at a finite inner slack above
    ``depth_slack`` is not planned; a chain of ``L`` parents adds at least ``L`` adders of
    depth, so chains longer than ``depth_slack`` or ``max_depth - 1`` allow are not planned
    (unbounded chains still are under ``max_depth``: they often stay shallow enough).
    """
    runs = max(_ALWAYS, int(effort * WORK_BUDGET) // max(pairs, 1))
    room = None if max_depth is None else max_depth - 1
    out = []
    for c in RANKED[:runs]:
        if c.tree_level == 0:
            if c.slack is None or _within(c.slack, depth_slack):
                out.append(c)
        elif _within(c.tree_level, depth_slack) and (
            c.tree_level is None or _within(c.tree_level, room)
        ):
            out.append(c)
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
