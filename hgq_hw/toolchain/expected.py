"""How long a tool run should take, from the design's size (for the live progress line).

``expected = startup + rate * units``, with units that are known before the tool runs:

* Yosys: logic bits of the design, ``adder_bits + registers`` of the generator's report (plus
  the wrapper's or board top's bits where there is one).
* nextpnr: cells of the Yosys netlist (``YosysStat.n_cells``).
* packers (icepack / ecppack): a constant per family.

How the numbers were measured (YoWASP Yosys 0.70, nextpnr 0.11, WebAssembly already compiled,
wall-clock seconds on the 2-core development machine while other jobs ran, so on the slow
side): two designs from ``hgq_hw.random_spec``, "tiny" (seed 0, ``depth=1, width=(3, 4)``,
318 logic bits) and "medium" (seed 3, ``sizes=[16, 16, 5]``, ``pipeline_levels=2``, 5,108
logic bits), through the ``hgq synth`` Yosys scripts and nextpnr command lines, timed with
``/usr/bin/time``. Yosys: ice40 3.8 s / 8.2 s, ecp5 3.9 s / 7.0 s, xc7 13.1 s / 17.7 s.
nextpnr-ice40 (HX8K-CT256): 2.4 s at 282 cells, 14.2 s at 2,439 cells. nextpnr-ecp5
(85k CABGA756): 4.1 s at 197 cells, 25.9 s at 1,533 cells. The rates below are the slopes
between the two sizes and the start-ups what is left at the small size, rounded. The first
call of a YoWASP tool after installing compiles its WebAssembly (30-120 s) and is not included.
An estimate is only shown, never enforced.
"""

from __future__ import annotations

__all__ = ["RATES", "Rate", "expected_seconds"]


class Rate:
    """``startup_s + per_unit_s * units`` seconds."""

    __slots__ = ("per_unit_s", "startup_s", "unit")

    def __init__(self, startup_s: float, per_unit_s: float, unit: str) -> None:
        self.startup_s, self.per_unit_s, self.unit = startup_s, per_unit_s, unit

    def __call__(self, units: int | float) -> float:
        return self.startup_s + self.per_unit_s * max(0.0, float(units))

    def __repr__(self) -> str:
        return f"Rate({self.startup_s} s + {self.per_unit_s} s per {self.unit})"


RATES: dict[tuple[str, str], Rate] = {
    ("yosys", "ice40"): Rate(3.5, 0.9e-3, "logic bit"),
    ("yosys", "ecp5"): Rate(3.7, 0.65e-3, "logic bit"),
    ("yosys", "xc7"): Rate(12.8, 1.0e-3, "logic bit"),
    ("nextpnr-ice40", "ice40"): Rate(0.9, 5.5e-3, "cell"),
    ("nextpnr-ecp5", "ecp5"): Rate(1.0, 16e-3, "cell"),
    ("icepack", "ice40"): Rate(2.0, 0.0, "run"),
    ("ecppack", "ecp5"): Rate(6.0, 0.0, "run"),
}
"""Measured as the module docstring says; keys are (tool, family)."""


def expected_seconds(tool: str, family: str, units: int | float) -> float | None:
    """Expected wall-clock seconds of ``tool`` on a ``family`` design of ``units`` (None when
    there is no measured rate)."""
    rate = RATES.get((tool, family))
    return None if rate is None else rate(units)
