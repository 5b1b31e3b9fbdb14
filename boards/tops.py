"""The top wrappers by name (``uart``, ``selftest``) and their Verilog for simulation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.icarus import icarus_kick  # re-exported: boards' Icarus builds use it too

if TYPE_CHECKING:
    from hgq_hw.spec import ModelSpec

__all__ = ["TOP_IO", "TOP_KINDS", "icarus_kick", "make_top", "top_ports", "top_verilog"]

TOP_KINDS = ("uart", "selftest")
TOP_IO = ("parallel", "stream")
"""How the tops take the network: a whole sample per cycle, or one pixel per cycle."""


def make_top(
    kind: str,
    spec: ModelSpec,
    *,
    divisor: int,
    report_period: int,
    pipeline_levels: int = 0,
    vectors: Any = None,
    n_vectors: int = 40,
    seed: int = 0,
    plan: Any = None,
    io: str = "parallel",
) -> Any:
    """A :class:`~boards.uart_top.UARTTop` or :class:`~boards.selftest_top.SelfTestTop`;
    with ``io="stream"`` a :class:`~boards.stream_uart_top.StreamUARTTop` or a stream
    ``SelfTestTop`` (their network: :class:`~boards.stream_core.StreamCore`).

    ``vectors`` (selftest only) defaults to ``selftest_vectors(spec, n_vectors, seed=seed)``
    (``stream_selftest_vectors`` for a stream design); ``report_period`` is used by the
    selftest top only; ``plan`` is the spec's :class:`~hgq_hw.plan.NetworkPlan` (stream:
    :class:`~hgq_hw.stream.StreamNetworkPlan`) when already made (planned here otherwise).
    """
    if io not in TOP_IO:
        raise ValueError(f"io must be one of {', '.join(TOP_IO)}, got {io!r}")
    if io == "stream" and plan is None:
        from hgq_hw.stream import plan_stream_network

        plan = plan_stream_network(spec, pipeline_levels=pipeline_levels)
    if kind == "uart":
        if io == "stream":
            from boards.stream_uart_top import StreamUARTTop

            return StreamUARTTop(spec, divisor=divisor, pipeline_levels=pipeline_levels, plan=plan)
        from boards.uart_top import UARTTop

        return UARTTop(spec, divisor=divisor, pipeline_levels=pipeline_levels, plan=plan)
    if kind == "selftest":
        from boards.selftest_top import SelfTestTop, selftest_vectors, stream_selftest_vectors

        if vectors is None:
            if io == "stream":
                vectors = stream_selftest_vectors(spec, n_vectors, seed=seed, plan=plan)
            else:
                vectors = selftest_vectors(spec, n_vectors, seed=seed)
        return SelfTestTop(
            spec,
            vectors,
            divisor=divisor,
            report_period=report_period,
            pipeline_levels=pipeline_levels,
            plan=plan,
            io=io,
        )
    raise ValueError(f"unknown top {kind!r} (choose from {', '.join(TOP_KINDS)})")


def top_ports(top: Any) -> list[Any]:
    """The top's plain ports (every member of its signature), for ``verilog.convert``."""
    return [getattr(top, name) for name in top.signature.members]


def top_verilog(top: Any, name: str) -> str:
    """Verilog of ``top`` with ports ``clk``, ``rst`` and its members (no source locations),
    followed by the Verilog modules it instantiates (a stream network's ``verilog_files``)."""
    from amaranth.back import verilog

    text = verilog.convert(top, name=name, ports=top_ports(top), emit_src=False)
    return "".join([text, *getattr(top, "verilog_files", {}).values()])
