"""Constant matrix-vector multiplication as multiplier-free adder graphs.

Build (:func:`solve`, :func:`dense_graph`) and evaluate (:class:`AdderGraph` is callable) are
separate from hardware emission (:mod:`hgq_hw.components`), so every graph can be checked bit for
bit against :mod:`hgq_hw.reference` before any Verilog exists.
"""

from __future__ import annotations

from hgq_hw.cmvm.csd import csd_digits, csd_value
from hgq_hw.cmvm.dense import dense_graph
from hgq_hw.cmvm.graph import AdderGraph, Op, Output, interval_width, prune
from hgq_hw.cmvm.solve import solve

__all__ = [
    "AdderGraph",
    "Op",
    "Output",
    "csd_digits",
    "csd_value",
    "dense_graph",
    "interval_width",
    "prune",
    "solve",
]
