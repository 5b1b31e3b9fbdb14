"""A Dense layer of a spec as an adder graph over its raw inputs."""

from __future__ import annotations

import numpy as np

from hgq_hw.cmvm.graph import AdderGraph
from hgq_hw.cmvm.solve import solve
from hgq_hw.fixed import TensorType
from hgq_hw.reference import dense_effective
from hgq_hw.spec import DenseSpec

__all__ = ["dense_graph"]


def dense_graph(
    layer: DenseSpec,
    x_type: TensorType,
    *,
    depth_slack: int | None = None,
    max_depth: int | None = None,
    effort: float = 1.0,
) -> AdderGraph:
    """Adder graph with ``graph(x_raw) == x_raw @ w_eff + b_eff`` for ``layer`` on ``x_type``.

    Output ``j`` is the raw value at the fractional bits ``f_out[j]`` of
    :func:`hgq_hw.reference.dense_effective`, and its interval gives exactly the type that
    :func:`hgq_hw.reference.infer_types` infers (checked here; a mismatch is a bug).
    ``depth_slack``, ``max_depth`` and ``effort`` go to :func:`hgq_hw.cmvm.solve`.
    """
    if x_type.shape != (layer.n_in,):
        raise ValueError(
            f"layer {layer.name!r} has {layer.n_in} inputs but x_type has shape {x_type.shape}"
        )
    w_eff, b_eff, _ = dense_effective(layer, x_type)
    lo, hi = x_type.raw_bounds()
    graph = solve(
        w_eff,
        list(lo),
        list(hi),
        list(b_eff),
        depth_slack=depth_slack,
        max_depth=max_depth,
        effort=effort,
    )
    for j, o in enumerate(graph.outputs):
        ref_lo = ref_hi = int(b_eff[j])
        for i in np.flatnonzero(w_eff[:, j] != 0):
            a, b = int(lo[i]) * int(w_eff[i, j]), int(hi[i]) * int(w_eff[i, j])
            ref_lo, ref_hi = ref_lo + min(a, b), ref_hi + max(a, b)
        if (o.lo, o.hi) != (ref_lo, ref_hi):
            raise RuntimeError(
                f"output {j} of {layer.name!r}: adder-graph interval [{o.lo}, {o.hi}] differs "
                f"from the reference interval [{ref_lo}, {ref_hi}] (a bug in hgq_hw.cmvm)"
            )
    return graph
