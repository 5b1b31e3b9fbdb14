"""``hgq prove`` without the command line: prove every generated layer (and the network)
equal to the spec's plain reference netlist, with Yosys' SAT engine.

For each live layer of the plan, :func:`prove_spec` builds the miter of the generator's layer
hardware (:func:`~hgq_hw.prove.generated.generated_layer`) against
:func:`~hgq_hw.prove.reference_rtl.layer_module` (with the plan's dropped low bits as zeros),
and proves it: whole, per output column, or (``split="auto"``) whole first and per column
when the whole layer passes the time limit (every target's whole proof runs before any
column proof, so a time budget reaches every layer). Then the whole network: the top module of the
``hgq gen`` Verilog (built here, or read from a design folder) against
:func:`~hgq_hw.prove.reference_rtl.network_module`, the spec's meaning with nothing dropped.
With a design folder, the network proof reads that folder's Verilog (so an edit to it is
seen) while the layers are built by the generator from the spec with the folder's options.
A counterexample is replayed through :mod:`hgq_hw.reference`: its raw inputs, the expected
output and the generated one (and the reference netlist's own output must agree with the
reference, or the run stops with a ``RuntimeError``: a bug here, not in the design).

Every proof's files (``miter.v``, scripts, logs, the counterexample dump) stay in
``out_dir/<layer>/`` (``out_dir/network/``); the results go to ``out_dir/prove.json``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hgq_hw.layout import BusLayout
from hgq_hw.lowering import flat_layer
from hgq_hw.prove.generated import generated_layer, generated_network
from hgq_hw.prove.miter import Miter, SatOutcome, prepare, prove, write_miter
from hgq_hw.prove.reference_rtl import layer_module, network_module
from hgq_hw.prove.report import NETWORK, Counterexample, ProofResult, ProveReport, Verdict
from hgq_hw.spec import ModelSpec

__all__ = ["SPLITS", "prove_spec"]

SPLITS = ("auto", "layer", "column")
"""How a layer is proved: whole then per column on a timeout, whole only, per column only."""

_GEN, _REF = "hgqprove_gen", "hgqprove_ref"


def _flat(raw: np.ndarray) -> list[int]:
    return [int(v) for v in np.asarray(raw).reshape(-1)]


class _Target:
    """One module pair to prove: files in ``folder``, buses, and how to replay an input."""

    def __init__(
        self,
        name: str,
        kind: str,
        folder: Path,
        miter: Miter,
        in_layout: BusLayout,
        out_layout: BusLayout,
        adders: int,
        expect: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        self.name, self.kind, self.folder, self.miter = name, kind, folder, miter
        self.in_layout, self.out_layout, self.adders, self.expect = (
            in_layout,
            out_layout,
            adders,
            expect,
        )

    def result(self, column: int | None, outcome: SatOutcome) -> ProofResult:
        cex = None
        if outcome.verdict == "counterexample":
            cex = self.counterexample(outcome)
        return ProofResult(
            target=self.name,
            kind=self.kind,
            column=column,
            verdict=Verdict(outcome.verdict),
            seconds=outcome.seconds,
            latency=self.miter.latency,
            adders=self.adders,
            in_bits=self.in_layout.width,
            out_bits=self.out_layout.width,
            counterexample=cex,
        )

    def counterexample(self, outcome: SatOutcome) -> Counterexample:
        steps = outcome.steps or {}
        last = self.miter.latency
        sequence = steps.get("x", [0] * (last + 1))
        raw = self.in_layout.unpack([sequence[0]])
        expected = _flat(self.expect(raw))
        generated = _flat(self.out_layout.unpack([steps["y_gen"][last]]))
        from_netlist = _flat(self.out_layout.unpack([steps["y_ref"][last]]))
        if from_netlist != expected:
            raise RuntimeError(
                f"{self.name}: the reference netlist gives {from_netlist} but hgq_hw.reference "
                f"gives {expected} on raw inputs {_flat(raw)}: a bug in hgq_hw.prove.reference_rtl "
                f"(files in {self.folder})"
            )
        columns = [e for e, (a, b) in enumerate(zip(expected, generated)) if a != b]
        return Counterexample(_flat(raw), expected, generated, columns, [int(w) for w in sequence])


def _layer_expect(spec_layer: Any, layer_plan: Any) -> Callable[[np.ndarray], np.ndarray]:
    """The reference output of one layer, with the plan's dropped low bits cleared."""
    from hgq_hw.reference import rule_for

    drops = getattr(layer_plan, "out_drop", None) or (0,) * layer_plan.out_type.shape[0]

    def expect(raw: np.ndarray) -> np.ndarray:
        rule = rule_for(spec_layer)
        out = np.asarray(rule.evaluate(spec_layer, [raw], [layer_plan.in_type])).astype(object)
        for e, d in enumerate(drops):
            out[:, e] = (out[:, e] >> d) << d
        return out

    return expect


def _check_layers(wanted: Sequence[str], spec: ModelSpec, plan: Any) -> list[str]:
    known = {layer.name for layer in spec.layers}
    built = [lp.name for lp in plan.layers if lp.name in known]  # not the delay lines
    merges = {lp.name for lp in plan.layers if len(lp.inputs) != 1}
    for name in wanted:
        if name in merges:
            raise ValueError(
                f"spec {spec.name!r}: cannot prove layer {name!r} on its own: it reads "
                f"{len(plan.layer(name).inputs)} tensors (a merge is proven within the network)"
            )
        if name in built:
            continue
        why = (
            "its tensor never reaches the Output, so it is not built"
            if name in plan.unused
            else "it is the Input or the Output, which are registers only"
            if name in known
            else "no layer has that name"
        )
        raise ValueError(
            f"spec {spec.name!r}: cannot prove layer {name!r}: {why} (generated layers: "
            f"{', '.join(built) or 'none'})"
        )
    return [name for name in built if (not wanted or name in wanted) and name not in merges]


def _design(
    spec: ModelSpec,
    design_dir: str | os.PathLike[str] | None,
    pipeline_levels: int,
    depth_slack: int | None,
) -> tuple[str, str, int, dict[str, Any]]:
    """The generated network: ``(verilog, top, latency, options)`` of a design folder
    (which must belong to ``spec``) or of :func:`hgq_hw.emit.build`."""
    from hgq_hw.emit import build, read_report

    if design_dir is None:
        design = build(spec, pipeline_levels=pipeline_levels, depth_slack=depth_slack)
        report = design.report
        return design.verilog, report["name"], int(report["latency"]), dict(report["options"])
    report = read_report(design_dir)
    if report.get("stream") is not None:
        from hgq_hw.reports import GenReport

        GenReport.from_dict(report).check_parallel(design_dir, "hgq prove")
    if report["spec"] != spec.name:
        raise ValueError(
            f"{Path(design_dir) / 'report.json'}: the design was generated from spec "
            f"{report['spec']!r}, not {spec.name!r}"
        )
    path = Path(design_dir) / report["verilog"]
    try:
        verilog = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ValueError(
            f"{path}: cannot read the design's Verilog ({err.strerror or err})"
        ) from None
    return verilog, report["name"], int(report["latency"]), dict(report["options"])


class _Budget:
    """Seconds left for proofs in all (None: no limit)."""

    def __init__(self, budget_s: float | None) -> None:
        self.deadline = None if budget_s is None else time.monotonic() + budget_s

    def left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()

    def spent(self) -> bool:
        left = self.left()
        return left is not None and left <= 0


class _Runner:
    """Runs proofs under the per-proof limit and the overall budget, collecting results and
    the names of proofs the budget left out."""

    def __init__(self, timeout_s: float, budget: _Budget, say: Callable[[str], None]) -> None:
        self.timeout_s, self.budget, self.say = timeout_s, budget, say
        self.results: list[ProofResult] = []
        self.not_run: list[str] = []

    def one(self, target: _Target, column: int | None) -> ProofResult | None:
        where = "" if column is None else f" column {column}"
        left = self.budget.left()
        if left is not None and left <= 0:
            self.not_run.append(f"{target.name}{where}")
            return None
        limit = self.timeout_s if left is None else min(self.timeout_s, left)
        result = target.result(column, prove(target.miter, target.folder, column, timeout_s=limit))
        self.say(f"  {target.name}{where}: {result.verdict.value} in {result.seconds:.1f} s")
        self.results.append(result)
        return result

    def run(self, targets: Sequence[_Target], split: str) -> None:
        """Whole proofs first (``auto``, ``layer``) for every target, then the columns of those
        that need them (``column``; ``auto``: the whole proof ran out of time), so that a
        budget is spent on every target before any is split."""
        by_column: list[_Target] = []
        for target in targets:
            prepare(target.miter, target.folder)
            if split == "column" and target.miter.columns:
                by_column.append(target)
                continue
            whole = self.one(target, None)
            if (
                split == "auto"
                and whole is not None
                and whole.verdict is Verdict.TIMEOUT
                and len(target.miter.columns) > 1
            ):
                by_column.append(target)
        for target in by_column:
            for column in target.miter.columns:
                self.one(target, column)


def prove_spec(
    spec: ModelSpec,
    out_dir: str | os.PathLike[str],
    *,
    layers: Sequence[str] = (),
    network: bool | None = None,
    layer_proofs: bool = True,
    pipeline_levels: int = 0,
    depth_slack: int | None = None,
    design_dir: str | os.PathLike[str] | None = None,
    timeout_s: float = 60.0,
    split: str = "auto",
    budget_s: float | None = None,
    say: Callable[[str], None] = print,
) -> ProveReport:
    """Prove the generated layers of ``spec`` (all, or those named in ``layers``) and, unless
    ``network`` is False (default: only when no layer is named), the whole generated network;
    ``layer_proofs=False`` leaves the layers out.

    ``pipeline_levels`` / ``depth_slack`` are the generator's options (those of
    ``design_dir``'s report when a ``hgq gen`` folder is given: its Verilog is then the network
    under proof). ``timeout_s`` limits each SAT proof (wall clock); ``split`` is one of
    :data:`SPLITS`. With ``budget_s`` no proof starts after that many seconds in all (and none
    runs past it); the proofs left are listed in ``ProveReport.not_run``. Writes
    ``out_dir/prove.json`` and returns the report; a layer or option that cannot be proved
    raises ``ValueError`` naming it; a Yosys failure ``ToolError``.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not timeout_s > 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout_s!r}")
    if budget_s is not None and not budget_s > 0:
        raise ValueError(f"budget must be > 0 seconds, got {budget_s!r}")
    budget = _Budget(budget_s)
    from hgq_hw.plan import plan_network

    out = Path(out_dir)
    verilog, top, latency, options = _design(spec, design_dir, pipeline_levels, depth_slack)
    plan = plan_network(
        spec, pipeline_levels=options["pipeline_levels"], depth_slack=options["depth_slack"]
    )
    names = _check_layers(list(layers), spec, plan) if layer_proofs else []
    network = not layers if network is None else network
    targets: list[_Target] = []
    for name in names:
        lp = plan.layer(name)
        spec_layer = flat_layer(spec.layer(name), [spec.shape(s) for s in lp.inputs])
        ref = layer_module(
            spec_layer, lp.in_type, lp.out_type, name=_REF, drop=getattr(lp, "out_drop", None)
        )
        targets.append(
            _Target(
                name,
                spec.layer(name).kind,
                out / name,
                write_miter(generated_layer(lp, _GEN), ref, lp.out_layout),
                lp.in_layouts[0],
                lp.out_layout,
                lp.n_adders,
                _layer_expect(spec_layer, lp),
            )
        )
    if network:
        from hgq_hw.reference import evaluate

        net_ref = network_module(spec, name=_REF, prefix=f"{_REF}_")
        targets.append(
            _Target(
                NETWORK,
                "Network",
                out / "network",
                write_miter(generated_network(verilog, top, latency), net_ref, plan.out_layout),
                plan.in_layout,
                plan.out_layout,
                plan.n_adders,
                lambda raw: evaluate(spec, raw).reshape(len(raw), -1),
            )
        )
    runner = _Runner(timeout_s, budget, say)
    runner.run(targets, split)
    results, not_run = runner.results, runner.not_run
    if not_run:
        say(f"  budget of {budget_s:g} s spent; not proved: {', '.join(not_run)}")
    report = ProveReport(
        spec.name,
        {
            "pipeline_levels": options["pipeline_levels"],
            "depth_slack": options["depth_slack"],
            "design": None if design_dir is None else str(design_dir),
            "layers": list(layers),
            "network": network,
            "layer_proofs": layer_proofs,
            "timeout_s": timeout_s,
            "split": split,
            "budget_s": budget_s,
        },
        tuple(results),
        tuple(not_run),
    )
    report.write(out)
    return report
