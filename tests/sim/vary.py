"""Preconditions of a regression: the spec's outputs vary with the input and with where each
input element is. A spec whose outputs are constant (or take two values) passes on a design
that drops, repeats or reorders its inputs, so the regressions check this first.

:func:`assert_each_output_varies` and :func:`assert_order_matters` are the generic parts,
shared by the parallel regressions (:func:`assert_vectors_vary`, on the vectors
:func:`sim.vectors.build_vectors` gives the testbench) and the stream ones
(``tests/sim/test_stream_sim.assert_outputs_vary``, on images)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hgq_hw.reference import evaluate, infer_types, input_bounds
from hgq_hw.spec import ModelSpec
from sim.vectors import VectorSet, build_vectors

__all__ = [
    "MIN_DISTINCT",
    "assert_each_output_varies",
    "assert_inputs_vary",
    "assert_order_matters",
    "assert_vectors_vary",
    "distinct_per_output",
    "output_floor",
    "reverse_positions",
]

MIN_DISTINCT = 3
"""Every output takes at least this many values over a regression's inputs (fewer only where
its type holds fewer: :func:`output_floor`), and the inputs with one element (one pixel) set
give at least this many different outputs."""


def distinct_per_output(y_raw: np.ndarray) -> list[int]:
    """The number of distinct values of each output element over the rows of ``y_raw``
    (``(n, ...)``, flattened per row)."""
    y = np.asarray(y_raw, dtype=object).reshape(len(y_raw), -1)
    return [len(set(y[:, e].tolist())) for e in range(y.shape[1])]


def output_floor(spec: ModelSpec) -> np.ndarray:
    """Per flat output element: :data:`MIN_DISTINCT`, or the number of raw values its type
    holds (``2**width``: 1 for a width-0 element, 2 for a 1-bit one) where that is smaller."""
    width = infer_types(spec)[spec.output.name].flat().width
    return np.minimum(MIN_DISTINCT, 2 ** np.minimum(width, 8)).astype(int)


def assert_each_output_varies(name: str, y_raw: np.ndarray, floor: int | np.ndarray) -> None:
    """Every output element of ``y_raw`` takes at least ``floor`` values (an int or one per
    flat output). Raises AssertionError listing the distinct counts."""
    distinct = np.array(distinct_per_output(y_raw))
    low = np.flatnonzero(distinct < floor)
    assert not len(low), (
        f"{name}: outputs {low.tolist()} take fewer than {MIN_DISTINCT} values (or than their "
        f"type holds); distinct values per output {distinct.tolist()}"
    )


def reverse_positions(spec: ModelSpec, x_raw: np.ndarray) -> np.ndarray:
    """``x_raw`` (``(n, *input_shape)`` or flattened ``(n, size)``, same shape returned) with
    the input positions in reverse order: the elements of a 1-d input, the spatial positions
    (each with its channels, in order) of an N-d one. A value that falls outside its new
    element's type is wrapped into it (raw ``lo + (v - lo) mod (hi - lo + 1)``), so the result
    is a valid input; where positions share types (per-channel types) it is a pure reordering."""
    shape = tuple(spec.input_shape)
    x = np.asarray(x_raw, dtype=object)
    channels = 1 if len(shape) == 1 else shape[-1]
    flipped = x.reshape(len(x), -1, channels)[:, ::-1].reshape(len(x), -1)
    lo, hi = (b.ravel() for b in input_bounds(spec))
    span = hi - lo + 1
    return (lo + (flipped - lo) % span).reshape(x.shape)


def assert_order_matters(name: str, spec: ModelSpec, x_raw: np.ndarray, y_raw: np.ndarray) -> int:
    """Reversing the input positions (:func:`reverse_positions`) of the inputs ``x_raw``
    changes the outputs ``y_raw`` (the reference's on ``x_raw``) of at least half of them.
    Returns how many changed; raises AssertionError when too few did."""
    n = len(x_raw)
    shape = tuple(spec.input_shape)
    reversed_ = reverse_positions(spec, x_raw).reshape(n, *shape)
    y_rev = np.asarray(evaluate(spec, reversed_), dtype=object).reshape(n, -1)
    y = np.asarray(y_raw, dtype=object).reshape(n, -1)
    changed = int(np.sum(np.any(y_rev != y, axis=1)))
    assert 2 * changed >= n, f"{name}: reversing the input positions changes {changed} of {n}"
    return changed


def assert_inputs_vary(
    spec: ModelSpec,
    x_raw: np.ndarray,
    y_raw: np.ndarray,
    sources: Sequence[str],
    *,
    floor: int | np.ndarray,
    single: Callable[[str], bool],
    random: Callable[[str], bool],
    what: str,
) -> None:
    """The three preconditions on the inputs ``x_raw`` of a regression, ``y_raw`` their
    reference outputs and ``sources`` their names: every output takes at least ``floor``
    values (:func:`assert_each_output_varies`); the inputs whose source satisfies ``single``
    (one element or pixel set; ``what`` names them in the message) give at least
    :data:`MIN_DISTINCT` different outputs; and reversing the input positions of those whose
    source satisfies ``random`` changes at least half of their outputs
    (:func:`assert_order_matters`). Raises AssertionError naming the failed property."""
    assert_each_output_varies(spec.name, y_raw, floor)
    ones = {tuple(y_raw[n]) for n, s in enumerate(sources) if single(s)}
    assert len(ones) >= MIN_DISTINCT, f"{spec.name}: {what} give {len(ones)} different outputs"
    random_ = [n for n, s in enumerate(sources) if random(s)]
    assert_order_matters(spec.name, spec, x_raw[random_], y_raw[random_])


def assert_vectors_vary(spec: ModelSpec, *, samples: int, seed: int) -> VectorSet:
    """The precondition of a parallel regression on ``spec`` with ``samples`` random vectors of
    ``seed`` (the vectors :func:`sim.runner.run_regression` sends, returned):
    :func:`assert_inputs_vary` with :func:`output_floor`, the single-element corner vectors and
    the random ones."""
    vectors = build_vectors(spec, samples=samples, seed=seed)
    assert_inputs_vary(
        spec,
        vectors.x_raw,
        vectors.y_raw,
        vectors.sources,
        floor=output_floor(spec),
        single=lambda s: "@" in s,
        random=lambda s: s == "random",
        what="single-element corner vectors",
    )
    return vectors
