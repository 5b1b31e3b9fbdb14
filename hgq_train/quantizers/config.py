"""Small shared pieces of quantizer configuration: granularity, modes, bit ranges."""

from __future__ import annotations

import enum
import math
from typing import Any

from hgq_hw.fixed import Overflow, Round

__all__ = [
    "GradScaleOn",
    "Granularity",
    "f_shape",
    "grad_scale",
    "parse_overflow",
    "parse_round",
]


class Granularity(enum.Enum):
    """How many values share one trainable bit width ``f``."""

    ELEMENT = "element"
    """One ``f`` per weight / per activation element (shared over the batch only)."""
    CHANNEL = "channel"
    """One ``f`` per channel (last axis)."""
    LAYER = "layer"
    """One ``f`` for the whole tensor."""

    @classmethod
    def parse(cls, value: Any) -> Granularity:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise TypeError(f"granularity must be a string, got {type(value).__name__}")
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(g.value for g in cls)
            raise ValueError(f"granularity must be one of {choices}, got {value!r}") from None


class GradScaleOn(enum.Enum):
    """Which gradient of a shared bit width gets the ``1/sqrt(n)`` scale (``n`` values share it).

    The task-loss gradient of a shared ``f`` is the sum over the values that share it, as the
    chain rule gives; the EBOPs gradient is what grows with ``n`` without bound, so HGQ (arXiv
    2405.00645; HGQ v1 scales the bit widths that enter EBOPs) puts the scale there.
    """

    EBOPS = "ebops"
    """On the EBOPs (resource) side: the default, as HGQ."""
    TASK = "task"
    """On the task-loss gradient (hgq_train before 2026-12; kept to reproduce old runs)."""

    @classmethod
    def parse(cls, value: Any) -> GradScaleOn:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise TypeError(f"grad_scale_on must be a string, got {type(value).__name__}")
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(g.value for g in cls)
            raise ValueError(f"grad_scale_on must be one of {choices}, got {value!r}") from None


def f_shape(shape: tuple[int, ...], granularity: Granularity) -> tuple[int, ...]:
    """Shape of the bit-width variable for a tensor of ``shape`` (no batch axis)."""
    if granularity is Granularity.ELEMENT:
        return tuple(shape)
    if granularity is Granularity.CHANNEL:
        return (1,) * (len(shape) - 1) + (shape[-1],) if shape else ()
    return (1,) * len(shape)


def grad_scale(shape: tuple[int, ...], granularity: Granularity, batch: int = 1) -> float:
    """``1/sqrt(n)``: ``n`` values (``batch`` samples times the shared elements) share one f."""
    n = math.prod(shape) // max(math.prod(f_shape(shape, granularity)), 1)
    return 1.0 / math.sqrt(max(n * batch, 1))


def _parse_enum(kind: type[enum.Enum], value: Any, what: str) -> Any:
    if isinstance(value, kind):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}")
    try:
        return kind(value.upper())
    except ValueError:
        choices = ", ".join(m.value for m in kind)
        raise ValueError(f"{what} must be one of {choices}, got {value!r}") from None


def parse_round(value: Any) -> Round:
    """``"RND"``/``"TRN"`` (any case) or a :class:`Round` -> :class:`Round`."""
    return _parse_enum(Round, value, "round_mode")


def parse_overflow(value: Any) -> Overflow:
    """``"WRAP"``/``"SAT"`` (any case) or an :class:`Overflow` -> :class:`Overflow`."""
    return _parse_enum(Overflow, value, "overflow")
