"""The Max plan (hgq_hw.plan.max) against a plain numpy maximum, its JSON and its pipelining."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from hgq_hw.fixed import TensorType, type_for_range
from hgq_hw.lowering import pool_sources
from hgq_hw.plan import MaxPlan, PlanError, max_unread_inputs, plan_max
from hgq_hw.plan.max import COMPARE_SELECT_DELAY, align
from hgq_hw.plan.max_form import compare_selects, readouts
from hgq_hw.plan.timing import LEVEL
from hgq_hw.spec import MaxPoolSpec

__all__ = ["max_out_type", "numpy_max", "random_max_case", "random_raw"]


def random_type(rng: np.random.Generator, n: int, zero_width: float = 0.2) -> TensorType:
    """``n`` elements, signed and unsigned, ``f`` from -2 to 4, some of width 0."""
    k = rng.integers(0, 2, n)
    f = rng.integers(-2, 5, n)
    width = rng.integers(1, 7, n)
    width = np.where(rng.random(n) < zero_width, 0, np.maximum(width, k))
    i = width - k - f
    return TensorType(
        np.where(width > 0, k, 0), np.where(width > 0, i, 0), np.where(width > 0, f, 0)
    )


def max_out_type(in_type: TensorType, sources, extra_f=None) -> TensorType:
    """The smallest type of each maximum (``extra_f[j]`` more fractional bits)."""
    lo, hi = in_type.raw_bounds()
    types = []
    for j, s in enumerate(sources):
        live = [e for e in s if int(in_type.width[e]) > 0]
        f = max((int(in_type.f[e]) for e in live), default=0)
        f += 0 if extra_f is None else int(extra_f[j])
        a = max(align(int(lo[e]), int(in_type.f[e]), f) for e in s)
        b = max(align(int(hi[e]), int(in_type.f[e]), f) for e in s)
        t = type_for_range(a, b, f)
        types.append((t.k, t.i, t.f))
    k, i, f = (np.array([t[n] for t in types]) for n in range(3))
    return TensorType(k, i, f)


def random_raw(t: TensorType, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` raw rows over ``t`` plus its all-min and all-max rows (object ints)."""
    lo, hi = t.raw_bounds()
    rows = [lo, hi]
    for _ in range(n):
        rows.append(np.array([int(rng.integers(a, b + 1)) for a, b in zip(lo, hi)], dtype=object))
    return np.array(rows, dtype=object).reshape(len(rows), t.shape[0])


def numpy_max(x, in_type: TensorType, out_type: TensorType, sources, drop=None) -> np.ndarray:
    """The exact maximum of each window (as fractions, by ``np.max``) at the output's ``f``,
    low ``drop`` bits cleared."""
    scale = np.array([Fraction(2) ** -int(f) for f in in_type.f], dtype=object)
    real = np.asarray(x, dtype=object) * scale
    out = np.zeros((x.shape[0], len(sources)), dtype=object)
    for j, s in enumerate(sources):
        y = np.max(real[:, list(s)], axis=1) * Fraction(2) ** int(out_type.f[j])
        assert all(v.denominator == 1 for v in y), "the output type must hold the maximum"
        d = 0 if drop is None else drop[j]
        out[:, j] = [(int(v) >> d) << d for v in y]
    return out


def random_max_case(seed: int):
    """A random ``(in_type, out_type, sources, out_drop)``: overlapping windows of 1 to 6
    elements, one-source windows, repeats, extra output fractional bits."""
    rng = np.random.default_rng(seed)
    in_type = random_type(rng, int(rng.integers(2, 12)))
    n_in = in_type.shape[0]
    n_out = int(rng.integers(1, 8))
    sources = []
    for _ in range(n_out):
        size = int(rng.integers(1, 7))
        sources.append([int(e) for e in rng.integers(0, n_in, size)])
    out_type = max_out_type(in_type, sources, rng.integers(0, 3, n_out))
    limit = np.maximum(out_type.width - out_type.k, 0)
    drop = [int(rng.integers(0, d + 1)) if rng.random() < 0.5 else 0 for d in limit]
    return in_type, out_type, sources, drop


@pytest.mark.parametrize("seed", range(40))
def test_plan_max_equals_numpy_max(seed: int) -> None:
    print(f"seed {seed}")
    in_type, out_type, sources, drop = random_max_case(seed)
    levels = seed % 3
    plan = plan_max(
        "pool", ("x",), in_type, out_type, sources, pipeline_levels=levels, out_drop=drop
    )
    x = random_raw(in_type, 60, np.random.default_rng(seed))
    got = plan.evaluate([x])
    want = numpy_max(x, in_type, out_type, sources, drop)
    assert np.array_equal(got, want), f"seed {seed}: got {got[:3]}, want {want[:3]}"
    assert MaxPlan.from_json(plan.to_json()) == plan


def _wrap(value: np.ndarray, bits: int, signed: bool) -> np.ndarray:
    """``value``'s low ``bits`` bits read back as an integer (two's complement if signed)."""
    if bits == 0:
        return value * 0
    low = value & ((1 << bits) - 1)
    return low - ((low >> (bits - 1)) << bits) if signed else low


@pytest.mark.parametrize("seed", range(20))
def test_the_writers_bit_rule_equals_the_plan(seed: int) -> None:
    """Words, tie rule and cut widths of hgq_hw.plan.max_form, evaluated at those very
    widths (wrapping), give what the plan evaluates: no word or node is too narrow."""
    print(f"seed {seed}")
    in_type, out_type, sources, drop = random_max_case(seed)
    plan = plan_max("pool", ("x",), in_type, out_type, sources, pipeline_levels=seed % 3,
                    out_drop=drop)  # fmt: skip
    x = random_raw(in_type, 60, np.random.default_rng(seed))
    nodes = [x[:, e] for e in range(plan.n_in)]
    for op in compare_selects(plan):
        a = _wrap(align(nodes[op.a], op.f_a, op.f), op.width, True)
        b = _wrap(align(nodes[op.b], op.f_b, op.f), op.width, True)
        nodes.append(_wrap(np.where(a >= b, a, b), op.bits, op.signed))
    got = np.zeros((len(x), len(plan.outputs)), dtype=object)
    for j, r in enumerate(readouts(plan)):
        if r is not None:
            value = _wrap(nodes[r.node] >> r.drop, r.bits, r.signed) if r.drop else nodes[r.node]
            got[:, j] = value << r.shift
    assert np.array_equal(got, plan.evaluate([x])), f"seed {seed}"


def test_plan_max_exhaustive_on_small_mixed_types() -> None:
    # signed f=1, unsigned f=0, signed f=-1, width 0, unsigned f=2
    in_type = TensorType(
        np.array([1, 0, 1, 0, 0]), np.array([1, 2, 2, 0, 0]), np.array([1, 0, -1, 0, 2])
    )
    sources = [[0, 1, 2, 3, 4], [3], [0], [2, 3], [1, 4, 1], [0, 2]]
    out_type = max_out_type(in_type, sources, [0, 0, 1, 0, 2, 0])
    lo, hi = in_type.raw_bounds()
    x = np.array(
        list(itertools.product(*[range(int(a), int(b) + 1) for a, b in zip(lo, hi)])),
        dtype=object,
    )
    for levels in (0, 1, 2):
        plan = plan_max("m", ("x",), in_type, out_type, sources, pipeline_levels=levels)
        assert np.array_equal(plan.evaluate([x]), numpy_max(x, in_type, out_type, sources))
    # a width-0 element alone is the constant 0; an unsigned element beats it without a
    # comparator, and a repeated source needs none either
    few = [[3, 1], [1, 1], [3]]
    plan = plan_max("m", ("x",), in_type, max_out_type(in_type, few), few)
    assert plan.ops == () and plan.outputs == (1, 1, 3)


def test_the_tree_is_balanced_and_shares_ops() -> None:
    t = TensorType.uniform((8,), 1, 3, 0)
    plan = plan_max("m", ("x",), t, TensorType.uniform((2,), 1, 3, 0), [range(8), range(4)])
    assert plan.adder_depth == 3
    # [0..3] is a subtree of [0..7]: 7 comparators, the second output reuses three
    assert plan.n_adders == 7
    assert plan.outputs[1] == plan.ops[-1].a


@pytest.mark.parametrize(
    ("levels", "latency", "t_out"), [(0, 0, 3 * LEVEL), (1, 2, LEVEL), (2, 1, LEVEL)]
)
def test_pipelining_places_one_compare_per_level(levels: int, latency: int, t_out: int) -> None:
    assert COMPARE_SELECT_DELAY == LEVEL
    t = TensorType.uniform((8,), 1, 4, 1)
    plan = plan_max(
        "m", ("x",), t, TensorType.uniform((1,), 1, 4, 1), [range(8)], pipeline_levels=levels
    )
    assert (plan.latency, plan.t_out) == (latency, t_out)
    stages = [s for s, _ in plan.placed[8:]]
    assert stages == {0: [0] * 7, 1: [0, 0, 0, 0, 1, 1, 2], 2: [0, 0, 0, 0, 0, 0, 1]}[levels]
    # registers: valid, plus each value carried across a stage boundary (6-bit words)
    carried = {0: 0, 1: 4 * 6 + 2 * 6, 2: 2 * 6}[levels]
    assert plan.registers == latency + carried
    x = random_raw(t, 30, np.random.default_rng(1))
    assert np.array_equal(plan.evaluate([x]), numpy_max(x, t, plan.out_type, [range(8)]))


def test_t_in_and_stage_are_kept() -> None:
    t = TensorType.uniform((4,), 1, 4, 1)
    plan = plan_max(
        "m",
        ("x",),
        t,
        TensorType.uniform((1,), 1, 4, 1),
        [range(4)],
        pipeline_levels=1,
        t_in=20,
        stage=3,
    )
    # the first comparator does not fit after 20 units: it starts stage 1
    assert plan.placed[4:] == ((1, LEVEL), (1, LEVEL), (2, LEVEL))
    assert (plan.stage, plan.latency, plan.out_stage) == (3, 2, 5)
    one = plan_max("m", ("x",), t, TensorType.uniform((1,), 1, 4, 1), [[2]], t_in=20)
    assert (one.latency, one.t_out, one.registers) == (0, 20, 0)


def test_out_drop_narrows_the_comparisons() -> None:
    t = TensorType.uniform((4,), 1, 3, 3)  # 7 bits, f = 3
    out = TensorType.uniform((2,), 1, 3, 3)
    plan = plan_max("m", ("x",), t, out, [[0, 1], [2]], out_drop=[2, 3], pipeline_levels=1)
    assert plan.ops[0].f == 1  # compares at f = 3 - 2
    assert plan.compare_width(0) == 5
    x = random_raw(t, 50, np.random.default_rng(2))
    assert np.array_equal(plan.evaluate([x]), numpy_max(x, t, out, [[0, 1], [2]], [2, 3]))
    sources = [[0, 1, 2, 3], [2]]
    deep = plan_max("m", ("x",), t, out, sources, out_drop=[2, 3], pipeline_levels=1)
    assert deep.latency == 1
    # valid, two 5-bit comparator results (f = 1) and element 2 narrowed to 4 bits (f = 0)
    assert deep.register_chains()[1] == {(2, 0): 0}
    assert deep.registers == 1 + 2 * 5 + 4
    assert np.array_equal(deep.evaluate([x]), numpy_max(x, t, out, sources, [2, 3]))


def test_plan_max_refuses_what_it_cannot_build_exactly() -> None:
    t = TensorType(np.array([1, 0]), np.array([2, 3]), np.array([2, 0]))
    good = max_out_type(t, [[0, 1]])
    with pytest.raises(ValueError, match="fractional bits"):
        plan_max("m", ("x",), t, TensorType(good.k, good.i + 1, good.f - 1), [[0, 1]])
    with pytest.raises(ValueError, match="cannot hold the maximum"):
        plan_max("m", ("x",), t, TensorType(good.k, good.i - 1, good.f), [[0, 1]])
    with pytest.raises(ValueError, match="sources\\[0\\]"):
        plan_max("m", ("x",), t, good, [[]])
    with pytest.raises(ValueError, match="sources\\[0\\]"):
        plan_max("m", ("x",), t, good, [[0, 2]])
    with pytest.raises(ValueError, match="source lists"):
        plan_max("m", ("x",), t, good, [[0], [1]])
    with pytest.raises(ValueError, match="out_drop"):
        plan_max("m", ("x",), t, good, [[0, 1]], out_drop=[9])
    with pytest.raises(ValueError, match="1-d"):
        plan_max("m", ("x",), TensorType.uniform((2, 2), 1, 2, 0), good, [[0, 1]])
    # an unsigned output holds the maximum of a signed and an unsigned element
    assert good.k[0] == 0
    plan = plan_max("m", ("x",), t, good, [[0, 1]])
    assert plan.n_adders == 1


def _bad(plan: MaxPlan, **changes) -> dict:
    obj = plan.to_json()
    obj.update(changes)
    return obj


def test_json_refuses_bad_fields() -> None:
    t = TensorType.uniform((4,), 1, 3, 1)
    plan = plan_max(
        "m", ("x",), t, TensorType.uniform((2,), 1, 3, 1), [[0, 1, 2], [3, 1]], pipeline_levels=1
    )
    assert MaxPlan.from_json(plan.to_json()) == plan
    cases = {
        "unknown field": (_bad(plan, extra=1), "unknown field"),
        "ops shape": (_bad(plan, ops=[[0, 1]]), "ops must be"),
        "op reads later": (
            _bad(plan, ops=[[0, 5, 1], *plan.to_json()["ops"][1:]]),
            "earlier nodes",
        ),
        "outputs": (_bad(plan, outputs=[plan.outputs[0], 2]), "not among its sources"),
        "sources": (_bad(plan, sources=[[0, 1, 2], []]), "sources\\[1\\]"),
        "out_drop": (_bad(plan, out_drop=[0, 7]), "out_drop"),
        "placed": (_bad(plan, placed=[[0, 0]] * 3), "placed"),
        "registers": (_bad(plan, registers=plan.registers + 1), "registers"),
        "bool": (_bad(plan, outputs=[True, 5]), "outputs must be"),
    }
    for name, (obj, message) in cases.items():
        with pytest.raises(PlanError, match=message):
            MaxPlan.from_json(obj)
        print(f"refused: {name}")


def test_unread_inputs_follow_the_output_demand() -> None:
    t = TensorType(np.array([1, 1, 0]), np.array([2, 2, 2]), np.array([3, 1, 2]))
    out = TensorType.uniform((2,), 1, 3, 3)
    # output 0 (f 3) reads from f = 3 - 2 = 1 up; output 1 reads everything
    got = max_unread_inputs(t, out, [[0, 1], [2]], np.array([2, 0]))
    assert got.tolist() == [2, 0, 0]
    got = max_unread_inputs(t, out, [[0, 1], [0, 2]], np.array([3, 2]))
    assert got.tolist() == [2, 1, 1]  # element 0: min(3 - 0, 3 - 1)


@pytest.mark.parametrize(
    ("shape", "pool", "strides"),
    [
        ((7, 3), (2,), (2,)),
        ((9, 1), (3,), (1,)),
        ((5, 6, 2), (2, 3), (2, 1)),
        ((4, 4, 3), (4, 4), (1, 1)),
    ],
)
def test_pool_sources_are_keras_valid_max_pooling(shape, pool, strides) -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(-50, 50, shape)
    out_spatial = [(n - p) // s + 1 for n, p, s in zip(shape[:-1], pool, strides)]
    want = np.zeros((*out_spatial, shape[-1]), dtype=np.int64)
    for o in np.ndindex(*out_spatial):
        window = x[tuple(slice(i * s, i * s + p) for i, s, p in zip(o, strides, pool))]
        want[o] = window.reshape(-1, shape[-1]).max(axis=0)
    layer = MaxPoolSpec(name="pool", inputs=("x",), pool_size=pool, strides=strides)
    sources = pool_sources(layer, shape).tolist()
    flat = x.reshape(-1)
    assert [max(flat[list(s)]) for s in sources] == want.reshape(-1).tolist()
    assert all(len(s) == int(np.prod(pool)) for s in sources)


def test_max_pool_geometry_is_refused_before_its_sources() -> None:
    """What the planner's ``pool_sources`` never sees: the spec refuses the geometry."""
    with pytest.raises(ValueError, match="1 spatial dimension"):
        MaxPoolSpec(name="p", inputs=("x",), pool_size=(2,), strides=(2,)).output_shape([(4, 4, 1)])
    with pytest.raises(ValueError, match="does not fit"):
        MaxPoolSpec(name="p", inputs=("x",), pool_size=(4,), strides=(1,)).output_shape([(3, 1)])
    with pytest.raises(ValueError, match=r"\[1, 1048576\], got 0"):
        MaxPoolSpec(name="p", inputs=("x",), pool_size=(2,), strides=(0,))
