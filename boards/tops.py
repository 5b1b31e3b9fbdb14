"""The top wrappers by name (``uart``, ``selftest``) and their Verilog for simulation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.icarus import icarus_kick  # re-exported: boards' Icarus builds use it too

if TYPE_CHECKING:
    from hgq_hw.spec import ModelSpec

__all__ = ["TOP_KINDS", "icarus_kick", "make_top", "top_ports", "top_verilog"]

TOP_KINDS = ("uart", "selftest")


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
) -> Any:
    """A :class:`~boards.uart_top.UARTTop` or :class:`~boards.selftest_top.SelfTestTop`.

    ``vectors`` (selftest only) defaults to ``selftest_vectors(spec, n_vectors, seed=seed)``;
    ``report_period`` is used by the selftest top only; ``plan`` is the spec's
    :class:`~hgq_hw.plan.NetworkPlan` when already made (planned here otherwise).
    """
    if kind == "uart":
        from boards.uart_top import UARTTop

        return UARTTop(spec, divisor=divisor, pipeline_levels=pipeline_levels, plan=plan)
    if kind == "selftest":
        from boards.selftest_top import SelfTestTop, selftest_vectors

        if vectors is None:
            vectors = selftest_vectors(spec, n_vectors, seed=seed)
        return SelfTestTop(
            spec,
            vectors,
            divisor=divisor,
            report_period=report_period,
            pipeline_levels=pipeline_levels,
            plan=plan,
        )
    raise ValueError(f"unknown top {kind!r} (choose from {', '.join(TOP_KINDS)})")


def top_ports(top: Any) -> list[Any]:
    """The top's plain ports (every member of its signature), for ``verilog.convert``."""
    return [getattr(top, name) for name in top.signature.members]


def top_verilog(top: Any, name: str) -> str:
    """Verilog of ``top`` with ports ``clk``, ``rst`` and its members (no source locations)."""
    from amaranth.back import verilog

    return verilog.convert(top, name=name, ports=top_ports(top), emit_src=False)
