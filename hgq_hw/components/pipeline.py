"""Register chains that carry values and the stream's ``valid`` from stage to stage."""

from __future__ import annotations

from collections.abc import Hashable

from amaranth.hdl import Module, Signal, Value

__all__ = ["Delayer", "delay_valid"]


class Delayer:
    """Delays values by whole stages with data registers (no reset), shared per key.

    ``at(key, value, born, stage)`` is ``value`` (produced in stage ``born``) as seen in ``stage``:
    the ``value`` itself when ``stage == born``, else the last of ``stage - born`` registers.
    """

    def __init__(self, m: Module, prefix: str) -> None:
        self.m = m
        self.prefix = prefix
        self.chains: dict[Hashable, list[Value]] = {}
        self.bits = 0
        """Flip-flops made so far."""

    def at(self, key: Hashable, name: str, value: Value, born: int, stage: int) -> Value:
        if stage < born:
            raise ValueError(f"{name}: cannot read stage {stage} before it is made ({born})")
        chain = self.chains.setdefault(key, [value])
        while len(chain) <= stage - born:
            previous = chain[-1]
            reg = Signal(
                previous.shape(), reset_less=True, name=f"{self.prefix}{name}_s{born + len(chain)}"
            )
            self.m.d.sync += reg.eq(previous)
            self.bits += len(reg)
            chain.append(reg)
        return chain[stage - born]


def delay_valid(m: Module, valid: Value, cycles: int, name: str) -> Value:
    """``valid`` delayed by ``cycles`` registers that the synchronous reset clears."""
    for n in range(cycles):
        reg = Signal(name=f"{name}_valid{n + 1}")
        m.d.sync += reg.eq(valid)
        valid = reg
    return valid
