# amaranth: UnusedElaboratable=no
"""Amaranth components in Amaranth's simulator against the integer reference, cycle-exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Module, Signal
from amaranth.sim import Simulator

from hgq_hw.components import DenseLayer, Network, ReLU, Requantize
from hgq_hw.fixed import FixedType, Overflow, Round, TensorType, requantize_raw
from hgq_hw.layout import BusLayout
from hgq_hw.plan import narrowing, plan_dense, plan_relu, plan_requantize, relu_type
from hgq_hw.random_spec import random_spec
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import DenseSpec, InputSpec, ModelSpec, OutputSpec, ReLUSpec, RequantizeSpec
from tests.hw.conftest import random_raw_inputs

CONFIGS = {
    "small": dict(depth=2, width=(1, 6)),
    "wide": dict(
        depth=2,
        width=(1, 4),
        input_bits=(20, 48),
        act_bits=(20, 60),
        weight_bits=(20, 40),
        f_range=(-20, 30),
    ),
    "negative_f": dict(depth=2, width=(1, 6), f_range=(-8, -1)),
    "pruned": dict(depth=2, width=(2, 8), prune=0.8, zero_width=0.3),
    "one_element": dict(depth=3, width=(1, 1)),
    "no_dense": dict(depth=0, width=(1, 6)),
}


def stream_run(
    dut, in_words: list[int], *, gaps: float = 0.0, seed: int = 0
) -> list[tuple[int, int]]:
    """Drive ``in_words`` into ``dut.i_stream`` (with random idle cycles when ``gaps > 0``).

    Returns ``(cycle of its input, output word)`` for every output with ``valid``, where an
    input shown in cycle ``c`` should come out in cycle ``c + dut.latency``.
    """
    rng = np.random.default_rng(seed)
    schedule: list[int | None] = []
    for word in in_words:
        while gaps and rng.random() < gaps:
            schedule.append(None)
        schedule.append(word)
    got: list[tuple[int, int]] = []
    starts = [c for c, w in enumerate(schedule) if w is not None]

    async def testbench(ctx):
        for cycle in range(len(schedule) + dut.latency + 2):
            word = schedule[cycle] if cycle < len(schedule) else None
            ctx.set(dut.i_stream.valid, word is not None)
            ctx.set(dut.i_stream.payload, word or 0)
            if ctx.get(dut.o_stream.valid):
                got.append((cycle - dut.latency, ctx.get(dut.o_stream.payload)))
            if dut.latency:
                await ctx.tick()
            else:  # purely combinational: there is no clock domain to tick
                await ctx.delay(1e-8)

    sim = Simulator(dut)
    sim.add_clock(1e-8, if_exists=True)
    sim.add_testbench(testbench)
    sim.run()
    return [(starts.index(c) if c in starts else -1, w) for c, w in got]


def check_stream(dut, in_type: TensorType, out_type: TensorType, x_raw, y_raw, **kw) -> None:
    """Run ``x_raw`` through ``dut`` and compare every output with ``y_raw``, in order and timed."""
    in_layout, out_layout = BusLayout.of(in_type), BusLayout.of(out_type)
    got = stream_run(dut, in_layout.pack(x_raw), **kw)
    assert [n for n, _ in got] == list(range(len(x_raw))), (
        f"outputs not exactly latency={dut.latency} cycles after their inputs: {got[:8]}"
    )
    out = out_layout.unpack([w for _, w in got])
    want = np.asarray(y_raw, dtype=object).reshape(out.shape)
    for n, (a, b) in enumerate(zip(out, want)):
        assert np.array_equal(a, b), f"sample {n}: input {list(x_raw[n])}, got {a}, want {b}"


def all_values(t: TensorType) -> np.ndarray:
    """Every raw value combination of a small 1-d type (object ints)."""
    lo, hi = t.raw_bounds()
    ranges = [range(int(a), int(b) + 1) for a, b in zip(lo, hi)]
    return np.array(list(itertools.product(*ranges)), dtype=object).reshape(-1, t.shape[0])


# -- Requantize and ReLU, exhaustively on small types ------------------------------------------

IN_TYPE = TensorType(
    np.array([1, 0, 1, 1, 0]), np.array([2, 3, -1, 1, 0]), np.array([2, 1, 3, 0, 0])
)
TO_TYPES = {
    "narrower": TensorType(
        np.array([1, 1, 1, 0, 0]), np.array([1, 1, -2, 0, 0]), np.array([0, -1, 2, 1, 0])
    ),
    "sign_change": TensorType(
        np.array([0, 1, 0, 0, 1]), np.array([2, 2, 0, 2, 0]), np.array([1, 1, 3, -1, 0])
    ),
    "wider": TensorType(
        np.array([1, 1, 1, 1, 0]), np.array([4, 5, 1, 2, 2]), np.array([4, 2, 5, 1, 2])
    ),
}


@pytest.mark.parametrize("registered", [False, True])
@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("round_mode", list(Round))
@pytest.mark.parametrize("to", sorted(TO_TYPES))
def test_requantize_exhaustive(
    to: str, round_mode: Round, overflow: Overflow, registered: bool
) -> None:
    # every value of each element, element-wise (the other elements held at their minimum)
    lo, _ = IN_TYPE.raw_bounds()
    rows = []
    for e in range(IN_TYPE.shape[0]):
        t = IN_TYPE.element(e)
        for v in range(t.raw_min, t.raw_max + 1):
            row = lo.copy()
            row[e] = v
            rows.append(row)
    x = np.array(rows, dtype=object)
    out_type = TO_TYPES[to]
    y = requantize_raw(x, IN_TYPE.f, out_type, round_mode, overflow)
    if registered:  # the stage budget is used up on arrival: the narrowed input is registered
        dut = Requantize(
            plan_requantize(IN_TYPE, out_type, round_mode, overflow, pipeline_levels=1, t_in=32)
        )
        # only wiring (the result is TRN/WRAP's, a bit select) needs no stage; logic needs one
        wiring = np.array_equal(y, requantize_raw(x, IN_TYPE.f, out_type, Round.TRN, Overflow.WRAP))
        assert dut.latency == (0 if wiring else 1)
        if wiring:
            assert dut.t_out == 32 and dut.registers == 0
        assert dut.registers <= dut.latency * (1 + BusLayout.of(IN_TYPE).width)
    else:
        dut = Requantize(plan_requantize(IN_TYPE, out_type, round_mode, overflow))
        assert dut.latency == 0
    check_stream(dut, IN_TYPE, out_type, x, y)


@pytest.mark.parametrize("overflow", list(Overflow))
@pytest.mark.parametrize("round_mode", list(Round))
@pytest.mark.parametrize("f_to", [-3, 0, 2, 5])
@pytest.mark.parametrize("bits", [(1, 3, 2), (0, 4, 3), (1, -1, 4), (1, 6, -2)])
def test_narrowing_is_exact(
    bits: tuple[int, int, int], f_to: int, round_mode: Round, overflow: Overflow
) -> None:
    """``narrowing`` keeps every bit the result reads: exhaustive in numpy, every width."""
    k, i, f = bits
    t = FixedType(k, i, f)
    xs = np.arange(t.raw_min, t.raw_max + 1).astype(object).reshape(-1, 1)
    for to_k, to_w in itertools.product((0, 1), range(0, 6)):
        to = FixedType(to_k, to_w - to_k - f_to, f_to)
        to_t = TensorType.uniform((1,), to.k, to.i, to.f)
        want = requantize_raw(xs, np.array([f]), to_t, round_mode, overflow)
        n = narrowing(t.raw_min, t.raw_max, f, to, round_mode, overflow)
        narrowed = xs >> n.drop
        if n.keep is not None:
            narrowed = narrowed % (1 << n.keep)
        assert all(n.lo <= v <= n.hi for v in narrowed.ravel())
        assert n.width <= max(t.width, 1)
        got = requantize_raw(narrowed, np.array([n.f]), to_t, round_mode, overflow)
        assert np.array_equal(got, want), (bits, to, n)


def test_relu_exhaustive() -> None:
    x = all_values(IN_TYPE)
    out_type = relu_type(IN_TYPE)
    dut = ReLU(plan_relu(IN_TYPE))
    check_stream(dut, IN_TYPE, out_type, x, np.maximum(x, 0))
    assert int(out_type.width[2]) == 2 and int(out_type.k.max()) == 0


def test_requantize_width_zero_and_registered_input() -> None:
    # element 1 has a width-0 input, element 2 a width-0 output
    t_in = TensorType(np.array([1, 0, 1]), np.array([3, 0, 2]), np.array([0, 0, 1]))
    to = TensorType(np.array([1, 1, 0]), np.array([1, 2, 0]), np.array([0, 1, 0]))
    x = all_values(t_in)
    y = requantize_raw(x, t_in.f, to, Round.RND, Overflow.SAT)
    # the stage budget is already used up on arrival: the input is registered first
    dut = Requantize(plan_requantize(t_in, to, Round.RND, Overflow.SAT, pipeline_levels=1, t_in=32))
    assert dut.latency == 1
    check_stream(dut, t_in, to, x, y)


def test_component_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="1-d types of one shape"):
        plan_requantize(IN_TYPE, TensorType.uniform((2,), 1, 2, 0))
    with pytest.raises(TypeError, match="Round and Overflow"):
        plan_requantize(IN_TYPE, IN_TYPE, "RND", Overflow.SAT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pipeline_levels"):
        plan_relu(IN_TYPE, pipeline_levels=-1)
    with pytest.raises(TypeError, match="NetworkPlan"):
        Network("spec")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ReLUPlan"):
        ReLU(IN_TYPE)  # type: ignore[arg-type]


# -- DenseLayer --------------------------------------------------------------------------------


def _dense_spec(w_raw, w_f, b_raw, b_f, x_type: TensorType) -> ModelSpec:
    return ModelSpec(
        "dense_case",
        [
            InputSpec(name="x", k=x_type.k, i=x_type.i, f=x_type.f),
            DenseSpec(
                name="d",
                inputs=("x",),
                weight_raw=np.array(w_raw),
                weight_f=np.array(w_f),
                bias_raw=np.array(b_raw),
                bias_f=np.array(b_f),
            ),
            OutputSpec(name="out", inputs=("d",)),
        ],
    )


DENSE_CASES = {
    "one_element": ([[-3]], [[1]], [0], [0], TensorType.uniform((1,), 1, 2, 1)),
    "all_pruned_bias_only": (
        [[0, 0], [0, 0]],
        [[0, 0], [0, 0]],
        [5, 0],
        [2, 0],
        TensorType.uniform((2,), 1, 3, 0),
    ),
    "width0_input_negative_f": (
        [[7, -8], [3, 1], [-1, 0]],
        [[-2, 1], [0, 3], [-1, -1]],
        [-3, 1],
        [-1, 4],
        TensorType(np.array([1, 0, 0]), np.array([3, 0, 4]), np.array([-1, 0, -2])),
    ),
    "all_negative": (
        [[-1, -5], [-2, -3]],
        [[0, 0], [0, 0]],
        [0, 0],
        [0, 0],
        TensorType.uniform((2,), 0, 3, 0),
    ),
}


@pytest.mark.parametrize("levels", [0, 1])
@pytest.mark.parametrize("case", sorted(DENSE_CASES))
def test_dense_layer_cases(case: str, levels: int) -> None:
    spec = _dense_spec(*DENSE_CASES[case])
    types = infer_types(spec)
    layer = spec.dense_layers()[0]
    dut = DenseLayer(plan_dense(layer, types["x"], types["d"], pipeline_levels=levels))
    x = all_values(types["x"])
    check_stream(dut, types["x"], types["d"], x, evaluate(spec, x))
    assert dut.registers >= dut.latency


@pytest.mark.parametrize("levels", [0, 1])
def test_dense_layer_out_drop_clears_low_bits(levels: int) -> None:
    """Outputs with ``out_drop`` are ``(y >> d) << d``; their carried registers are narrower."""
    spec = random_spec(5, depth=1, width=(5, 6), input_bits=(4, 6), f_range=(0, 4), prune=0.2)
    types = infer_types(spec)
    layer = spec.dense_layers()[0]
    t_out = types[layer.name]
    drops = [min(j % 4, int(t_out.width[j] - t_out.k[j])) for j in range(layer.n_out)]
    drops[0] = int(t_out.width[0] - t_out.k[0])  # everything but the sign
    kw = dict(pipeline_levels=levels, t_in=20)
    dut = DenseLayer(plan_dense(layer, types["x"], t_out, out_drop=drops, **kw))
    exact = plan_dense(layer, types["x"], t_out, graph=dut.graph, **kw)
    x = random_raw_inputs(spec, 40, 5)
    y = evaluate(spec, x, all_tensors=True)[layer.name]
    want = np.array([[(v >> d) << d for v, d in zip(row, drops)] for row in y], dtype=object)
    check_stream(dut, types["x"], t_out, x, want)
    assert dut.registers <= exact.registers
    if levels:
        assert dut.registers < exact.registers
    with pytest.raises(ValueError, match="out_drop"):
        plan_dense(layer, types["x"], t_out, out_drop=[99] * layer.n_out)


def test_relu_out_drop_exhaustive() -> None:
    """Every value of each element (the others at their minimum), registered, bits dropped."""
    limit = IN_TYPE.width - IN_TYPE.k
    drops = [int(min(2, lim)) for lim in limit]
    lo, _ = IN_TYPE.raw_bounds()
    rows = []
    for e in range(IN_TYPE.shape[0]):
        t = IN_TYPE.element(e)
        for v in range(t.raw_min, t.raw_max + 1):
            row = lo.copy()
            row[e] = v
            rows.append(row)
    x = np.array(rows, dtype=object)
    dut = ReLU(plan_relu(IN_TYPE, pipeline_levels=1, t_in=32, out_drop=drops))
    assert dut.latency == 1
    want = np.array([[(max(v, 0) >> d) << d for v, d in zip(row, drops)] for row in x])
    check_stream(dut, IN_TYPE, relu_type(IN_TYPE), x, want.astype(object))
    assert dut.registers < plan_relu(IN_TYPE, pipeline_levels=1, t_in=32).registers
    with pytest.raises(ValueError, match="out_drop"):
        plan_relu(IN_TYPE, out_drop=[int(v) + 1 for v in limit])


def test_unread_low_bits_follow_the_consumer() -> None:
    from hgq_hw.plan import clamp_drop, unread_low_bits

    x_type = TensorType.uniform((2,), 1, 3, 3)
    layers = [
        InputSpec(name="x", k=x_type.k, i=x_type.i, f=x_type.f),
        DenseSpec(
            name="d",
            inputs=("x",),
            weight_raw=np.array([[3, -3], [3, 1]]),
            weight_f=np.array([[2, 0], [1, 1]]),
            bias_raw=np.array([0, 0]),
            bias_f=np.array([0, 0]),
        ),
        ReLUSpec(name="r", inputs=("d",)),
        RequantizeSpec(
            name="q",
            inputs=("r",),
            k=np.array([0, 0]),
            i=np.array([4, 4]),
            f=np.array([1, 4]),
            round=Round.RND,
            overflow=Overflow.SAT,
        ),
        OutputSpec(name="out", inputs=("q",)),
    ]
    spec = ModelSpec("demand", layers)
    types = infer_types(spec)
    unread = unread_low_bits(spec.layers[1:-1], types, "q")
    f_d = types["d"].f
    want = np.maximum(f_d - np.array([1, 4]) - 1, 0)
    assert list(unread["d"]) == list(want) == list(unread["r"])
    assert list(unread["q"]) == [0, 0] and list(unread["x"]) == [0, 0]
    assert clamp_drop(np.array([0, 0]), types["d"]) is None
    assert clamp_drop(np.array([99, 1]), types["d"]) == (
        int(types["d"].width[0] - types["d"].k[0]),
        1,
    )


def test_dense_layer_rejects_wrong_types() -> None:
    spec = _dense_spec(*DENSE_CASES["one_element"])
    layer = spec.dense_layers()[0]
    with pytest.raises(ValueError, match="out_type has shape"):
        plan_dense(layer, spec.input.type, TensorType.uniform((3,), 1, 2, 0))
    with pytest.raises(TypeError, match="DenseSpec"):
        plan_dense(spec.input, spec.input.type, spec.input.type)  # type: ignore[arg-type]


# -- whole networks ----------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [0, 1, 3])
@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("seed", range(5))
def test_network_matches_reference(config: str, seed: int, levels: int) -> None:
    spec = random_spec(200 + seed, **CONFIGS[config])
    net = Network.from_spec(spec, pipeline_levels=levels)
    x = random_raw_inputs(spec, 12, seed)
    y = evaluate(spec, x)
    assert net.latency >= 2 and (levels > 0 or net.latency == 2)
    check_stream(net, net.in_type, net.out_type, x, y, gaps=0.3 if seed else 0.0, seed=seed)


def test_network_latency_grows_with_tighter_budget() -> None:
    spec = random_spec(11, depth=3, width=(6, 8), weight_bits=(4, 8))
    latencies = [Network.from_spec(spec, pipeline_levels=n).latency for n in (0, 4, 2, 1)]
    assert latencies == sorted(latencies) and latencies[0] == 2 and latencies[-1] > 4


def test_network_saturation_and_wrap_edges() -> None:
    """Inputs at the type edges drive SAT and WRAP requantizers past both ends."""
    x_type = TensorType.uniform((2,), 1, 3, 0)
    layers = [
        InputSpec(name="x", k=x_type.k, i=x_type.i, f=x_type.f),
        DenseSpec(
            name="d",
            inputs=("x",),
            weight_raw=np.array([[3, -3], [3, 1]]),
            weight_f=np.zeros((2, 2), dtype=np.int64),
            bias_raw=np.array([1, -1]),
            bias_f=np.array([0, 0]),
        ),
        RequantizeSpec(
            name="q",
            inputs=("d",),
            k=np.array([1, 1]),
            i=np.array([3, 3]),
            f=np.array([-1, -1]),
            round=Round.RND,
            overflow=Overflow.SAT,
        ),
        RequantizeSpec(
            name="w",
            inputs=("q",),
            k=np.array([1, 0]),
            i=np.array([1, 2]),
            f=np.array([0, 0]),
            round=Round.TRN,
            overflow=Overflow.WRAP,
        ),
        OutputSpec(name="out", inputs=("w",)),
    ]
    spec = ModelSpec("edges", layers)
    x = all_values(x_type)
    y = evaluate(spec, x)
    q = evaluate(spec, x, all_tensors=True)["q"]
    assert {int(v) for v in q[:, 0]} >= {-4, 3}  # saturated at both ends
    for levels in (0, 1):
        net = Network.from_spec(spec, pipeline_levels=levels)
        check_stream(net, net.in_type, net.out_type, x, y)


def test_network_reset_clears_valid() -> None:
    """A synchronous reset drops the samples in flight: no output is valid afterwards."""
    spec = random_spec(5, depth=2, width=(2, 4))
    net = Network.from_spec(spec, pipeline_levels=1)
    assert net.latency > 3
    words = net.in_layout.pack(random_raw_inputs(spec, 3, 0, corners=False))
    seen = []
    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.net = net

    async def testbench(ctx):
        for word in words:
            ctx.set(net.i_stream.valid, 1)
            ctx.set(net.i_stream.payload, word)
            await ctx.tick()
        ctx.set(net.i_stream.valid, 0)
        ctx.set(domain.rst, 1)
        await ctx.tick()
        ctx.set(domain.rst, 0)
        for _ in range(net.latency + 2):
            seen.append(ctx.get(net.o_stream.valid))
            await ctx.tick()

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    sim.run()
    assert seen == [0] * (net.latency + 2)


@pytest.mark.parametrize("relu", [0.5, 1.0])
@pytest.mark.parametrize("levels", [1, 2])
def test_register_count_matches_elaboration(levels: int, relu: float, monkeypatch) -> None:
    """``registers`` (reported before elaboration) equals the flip-flops the design makes."""
    from amaranth.back import rtlil

    import hgq_hw.components.pipeline as pipeline

    made: list[int] = []
    original = pipeline.Delayer.at

    def counting_at(self, key, name, value, born, stage):
        before = self.bits
        result = original(self, key, name, value, born, stage)
        made.append(self.bits - before)
        return result

    monkeypatch.setattr(pipeline.Delayer, "at", counting_at)
    # relu=1.0: ReLUs and rounding requantizers whose unread low bits are dropped
    spec = random_spec(31, depth=2, width=(3, 6), f_range=(0, 4), relu=relu)
    net = Network.from_spec(spec, pipeline_levels=levels)
    rtlil.convert(net, ports=[net.i_stream.payload, net.i_stream.valid, net.o_stream.valid])
    valid_bits = sum(s.latency for s in net.plan.layers) + 2
    io_bits = net.in_layout.width + net.out_layout.width
    assert sum(made) > 0
    assert sum(made) + valid_bits + io_bits == net.registers


@pytest.mark.parametrize("levels", [1, 2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_schedule_respects_budget_and_retiming_only_saves(seed: int, levels: int) -> None:
    from hgq_hw.cmvm import dense_graph
    from hgq_hw.plan import LEVEL, adder_delay, schedule
    from hgq_hw.plan.dense import count_registers

    spec = random_spec(seed, depth=1, width=(10, 16), input_bits=(4, 8), weight_bits=(2, 5))
    layer = spec.dense_layers()[0]
    types = infer_types(spec)
    g = dense_graph(layer, types[layer.inputs[0]])
    asap, lat_a, t_a = schedule(g, levels, 5, retime=False)
    placed, lat, t_out = schedule(g, levels, 5)
    assert (lat, t_out) == (lat_a, t_a)
    budget = levels * LEVEL
    for index, op in enumerate(g.ops):
        stage, t = placed[g.n_in + index]
        operands = [op.a] + ([op.b] if op.b >= 0 else [])
        assert all(placed[u][0] <= stage for u in operands)
        start = max((placed[u][1] for u in operands if placed[u][0] == stage), default=0)
        assert t == start + adder_delay(op.width)
        assert t <= budget or start == 0
    for o in g.outputs:
        if o.node >= 0:
            assert placed[o.node][0] <= lat
    kw = dict(pipeline_levels=levels, t_in=5)
    retimed = plan_dense(layer, types[layer.inputs[0]], types[layer.name], graph=g, **kw)
    assert retimed.placed == tuple(placed)
    plain = count_registers(g, asap, lat_a, (0,) * layer.n_out)
    assert retimed.registers <= plain


# -- the graph and the registries --------------------------------------------------------------


@pytest.mark.parametrize("levels", [0, 1])
def test_network_of_a_non_chain_spec_reads_the_named_tensors(levels: int) -> None:
    """Issue 10's repro: q reads x, not the Dense layer listed before it."""
    from tests.hw.conftest import non_chain_spec

    spec = non_chain_spec()
    net = Network.from_spec(spec, pipeline_levels=levels)
    x = random_raw_inputs(spec, 60, 2)
    check_stream(net, net.in_type, net.out_type, x, evaluate(spec, x))


@pytest.mark.parametrize("seed", range(6))
def test_network_equals_its_plan(seed: int) -> None:
    from hgq_hw.plan import plan_network

    spec = random_spec(300 + seed, depth=2, width=(2, 6), relu=1.0, f_range=(0, 4))
    plan = plan_network(spec, pipeline_levels=1 + seed % 3, depth_slack=seed % 2)
    x = random_raw_inputs(spec, 16, seed)
    check_stream(Network(plan), plan.in_type, plan.out_type, x, plan(x))


def test_a_toy_layer_kind_needs_only_its_registry_entries(monkeypatch, tmp_path) -> None:
    """A ``Negate`` kind (spec class, reference rule, planner, plan class, component, direct
    Verilog writer), all defined and registered here, runs through the reference, the plan,
    its JSON, the Amaranth simulation and both Verilog writers side by side in Icarus:
    nothing else needs editing."""
    from dataclasses import dataclass
    from typing import ClassVar

    from amaranth.lib import stream, wiring
    from amaranth.lib.wiring import In, Out

    import hgq_hw.components.registry as hw_registry
    import hgq_hw.plan.base as plan_base
    import hgq_hw.reference as reference
    from hgq_hw import netlist
    from hgq_hw.components.bus import pack, unpack
    from hgq_hw.components.pipeline import delay_valid
    from hgq_hw.netlist.layers import Tensor, element_nets
    from hgq_hw.netlist.layers import delay_valid as net_valid
    from hgq_hw.netlist.text import resized
    from hgq_hw.plan import LayerPlan, LayerPlanner, NetworkPlan, plan_network
    from hgq_hw.spec import LayerSpec
    from tests.hw.test_netlist import run_both_writers

    @dataclass(frozen=True, eq=False, kw_only=True)
    class NegateSpec(LayerSpec):
        kind: ClassVar[str] = "Negate"

        def output_shape(self, input_shapes):
            return input_shapes[0]

    def negate_type(layer, in_types):
        t = in_types[0]
        live = t.width > 0
        return TensorType(np.where(live, 1, 0), np.where(live, t.i + 1 - t.k, 0), t.f)

    @dataclass(frozen=True, eq=False, kw_only=True)
    class NegatePlan(LayerPlan):
        kind: ClassVar[str] = "Negate"
        report_kind: ClassVar[str] = "Negate"

        def evaluate(self, xs):
            return -np.asarray(xs[0]).astype(object)

    class NegatePlanner(LayerPlanner):
        def plan(self, layer, ctx):
            return NegatePlan(
                name=layer.name,
                inputs=layer.inputs,
                in_types=ctx.in_types,
                out_type=ctx.out_type,
                stage=ctx.stage,
                t_in=ctx.t_in,
                latency=1,
                t_out=0,
                registers=1 + ctx.out_type.width.sum().item(),
            )

    class Negate(wiring.Component):
        def __init__(self, plan):
            self.plan = plan
            super().__init__(
                {
                    "i_stream": In(stream.Signature(plan.in_layouts[0].width, always_ready=True)),
                    "o_stream": Out(stream.Signature(plan.out_layout.width, always_ready=True)),
                }
            )

        def elaborate(self, platform):
            m = Module()
            xs = unpack(self.i_stream.payload, self.plan.in_type)
            values = [None if x is None else -x for x in xs]
            y = pack(m, values, self.plan.out_type, "neg_y")
            reg = Signal(len(y), name="neg_reg")
            m.d.sync += reg.eq(y)
            m.d.comb += [
                self.o_stream.payload.eq(reg),
                self.o_stream.valid.eq(delay_valid(m, self.i_stream.valid, 1, "neg")),
            ]
            return m

    monkeypatch.setitem(
        reference.RULES,
        NegateSpec,
        reference.ReferenceRule(negate_type, lambda layer, xs, t: -xs[0]),
    )
    monkeypatch.setitem(plan_base.PLANNERS, NegateSpec, NegatePlanner())
    monkeypatch.setitem(plan_base.PLAN_KINDS, "Negate", NegatePlan)
    monkeypatch.setitem(hw_registry.COMPONENTS, NegatePlan, Negate)

    def write_negate(nl, plan, inputs, prefix):
        (source,) = inputs
        values = []
        for e, x in enumerate(source.elements):
            width = int(plan.out_type.width[e])
            if x is None or width == 0:
                values.append(None)
                continue
            y = nl.wire(f"{prefix}_n{e}", width, True, f"-{resized(x, width)}")
            values.append((nl.reg(f"{prefix}_r{e}", y, reset=True), 0))  # as Amaranth: rst clears
        valid = net_valid(nl, source.valid, 1, prefix)
        return Tensor(element_nets(nl, values, plan.out_type, prefix), valid)

    monkeypatch.setitem(netlist.WRITERS, NegatePlan, write_negate)

    base = random_spec(41, depth=1, width=(3, 5), relu=0.0)
    layers = list(base.layers)
    dense = layers[1].name
    layers.insert(2, NegateSpec(name="neg", inputs=(dense,)))
    layers[3] = RequantizeSpec(
        name=layers[3].name,
        inputs=("neg",),
        k=layers[3].k,
        i=layers[3].i,
        f=layers[3].f,
        round=layers[3].round,
        overflow=layers[3].overflow,
    )
    spec = ModelSpec("toy", layers)
    x = random_raw_inputs(spec, 20, 4)
    tensors = evaluate(spec, x, all_tensors=True)
    assert np.array_equal(tensors["neg"], -tensors[dense])
    for levels in (0, 1):
        plan = plan_network(spec, pipeline_levels=levels)
        assert [p.kind for p in plan.layers][:2] == ["Dense", "Negate"]
        assert NetworkPlan.from_json(plan.to_json()) == plan
        assert np.array_equal(plan(x), np.asarray(evaluate(spec, x), dtype=object))
        net = Network(plan)
        check_stream(net, plan.in_type, plan.out_type, x, evaluate(spec, x))
        assert run_both_writers(spec, levels, tmp_path / f"levels{levels}", 4) > 0


@pytest.mark.parametrize(
    ("spatial", "seed", "levels"), [(1, 4, 0), (1, 5, 2), (2, 0, 1), (2, 4, 3)]
)
def test_conv_network_matches_reference(spatial: int, seed: int, levels: int) -> None:
    """Conv1D / Conv2D specs (pools, Reshape) in Amaranth's simulator, flattened buses."""
    spec = random_spec(seed, spatial=spatial, conv_depth=2, depth=1, width=(1, 4), pool=0.8)
    print(f"seed {seed}, spatial {spatial}: {[layer.kind for layer in spec.layers]}")
    net = Network.from_spec(spec, pipeline_levels=levels)
    x = random_raw_inputs(spec, 10, seed)
    y = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)
    x = x.reshape(len(x), -1)
    check_stream(net, net.in_type, net.out_type, x, y, gaps=0.3, seed=seed)
