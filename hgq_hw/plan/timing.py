"""The delay model that places pipeline registers, in integer units (deterministic).

One *level* is :data:`LEVEL` units: the delay of a 16-bit ripple-carry adder. A ``w``-bit adder
costs ``24 + w // 2`` units (LUT and routing plus the carry chain, so a 48-bit adder counts for
1.5 levels and an 8-bit one for 0.875), a comparison the same, a multiplexer or a row of AND
gates :data:`MUX_DELAY`. With ``pipeline_levels = N`` a register stage is cut whenever a path
would exceed ``N`` levels; ``N = 0`` puts no register inside the datapath.
"""

from __future__ import annotations

__all__ = ["LEVEL", "MUX_DELAY", "Stager", "adder_delay"]

LEVEL = 32
"""Delay units per level (one 16-bit adder)."""

MUX_DELAY = 8
"""Delay units of a 2:1 multiplexer or a row of AND gates (one LUT)."""


def adder_delay(width: int) -> int:
    """Delay units of a ``width``-bit adder, subtractor or comparator."""
    return 24 + max(int(width), 0) // 2


class Stager:
    """ASAP placement of operations into pipeline stages under a per-stage delay budget.

    A value is ``(stage, t)``: available in ``stage`` after ``t`` units of combinational delay
    since that stage's registers. Values from earlier stages reach later ones through registers,
    so they arrive at ``t = 0``.
    """

    def __init__(self, pipeline_levels: int) -> None:
        if not isinstance(pipeline_levels, int) or pipeline_levels < 0:
            raise ValueError(f"pipeline_levels must be an int >= 0, got {pipeline_levels!r}")
        self.budget = pipeline_levels * LEVEL if pipeline_levels else None

    def place(self, operands: list[tuple[int, int]], cost: int) -> tuple[int, int]:
        """``(stage, t)`` of an operation of delay ``cost`` on ``operands`` (``(stage, t)``)."""
        stage = max((s for s, _ in operands), default=0)
        start = max((t for s, t in operands if s == stage), default=0)
        if self.budget is not None and start > 0 and start + cost > self.budget:
            return stage + 1, cost
        return stage, start + cost
