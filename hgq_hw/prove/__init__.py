"""Formal equivalence of the generated hardware and the spec, beside simulation.

:func:`prove_spec` (``hgq prove``) writes, for every generated layer and for the whole
network, a miter between the generated Verilog and a plain reference netlist written from the
spec (:mod:`~hgq_hw.prove.reference_rtl`: constant products as ``*``, exact widths), and asks
Yosys' SAT engine (YoWASP) whether they can ever differ: combinationally, or over the
pipeline's latency unrolled (:mod:`~hgq_hw.prove.miter`). Each proof ends proven, with a
counterexample (raw inputs replayed through :mod:`hgq_hw.reference`) or at its time limit
(:class:`~hgq_hw.prove.report.ProveReport`, ``prove.json``). What the prover assumes about the
generator's Verilog is all in :mod:`~hgq_hw.prove.generated`.
"""

from __future__ import annotations

from hgq_hw.prove.prover import SPLITS, prove_spec
from hgq_hw.prove.report import (
    NETWORK,
    PROVE_JSON,
    Counterexample,
    ProofResult,
    ProveReport,
    Verdict,
    format_table,
)

__all__ = [
    "NETWORK",
    "PROVE_JSON",
    "SPLITS",
    "Counterexample",
    "ProofResult",
    "ProveReport",
    "Verdict",
    "format_table",
    "prove_spec",
]
