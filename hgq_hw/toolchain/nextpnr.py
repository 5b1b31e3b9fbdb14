"""nextpnr's results as a dataclass: :func:`parse_nextpnr_report`.

nextpnr writes a machine-readable report with ``--report FILE`` (JSON: ``utilization`` by bel
type with ``used`` / ``available``, ``fmax`` by clock with ``achieved`` / ``constraint`` MHz).
Every run here asks for it; the log is read only when there is no report (nextpnr stopped before
writing one, or an older nextpnr), and then only for the same two figures: the last "Device
utilisation" block and the last "Max frequency for clock" lines (after routing).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BelUsage", "ClockTiming", "NextpnrReport", "parse_nextpnr_log", "parse_nextpnr_report"]


@dataclass(frozen=True)
class BelUsage:
    """Used and available bels of one type; ``percent`` as nextpnr prints it (rounded down)."""

    used: int
    available: int

    @property
    def percent(self) -> int:
        return self.used * 100 // self.available if self.available else 0


@dataclass(frozen=True)
class ClockTiming:
    """One clock: the Fmax nextpnr achieved and the constraint it had, in MHz."""

    achieved_mhz: float
    constraint_mhz: float | None

    @property
    def met(self) -> bool | None:
        if self.constraint_mhz is None:
            return None
        return self.achieved_mhz >= self.constraint_mhz


@dataclass(frozen=True)
class NextpnrReport:
    """What one nextpnr run reported; ``source`` is ``"report"`` (JSON) or ``"log"``."""

    utilisation: dict[str, BelUsage] = field(default_factory=dict)
    clocks: dict[str, ClockTiming] = field(default_factory=dict)
    source: str = "report"
    errors: tuple[str, ...] = ()
    """The log's ``ERROR:`` lines, when a log was read."""

    @property
    def critical_clock(self) -> str | None:
        """The clock with the lowest achieved Fmax (the only one in a single-clock design)."""
        if not self.clocks:
            return None
        return min(self.clocks, key=lambda name: self.clocks[name].achieved_mhz)

    @property
    def fmax_mhz(self) -> float | None:
        clock = self.critical_clock
        return None if clock is None else self.clocks[clock].achieved_mhz

    @property
    def timing_met(self) -> bool | None:
        clock = self.critical_clock
        return None if clock is None else self.clocks[clock].met


def _from_json(data: object, where: str) -> NextpnrReport:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
    util: dict[str, BelUsage] = {}
    for bel, entry in (data.get("utilization") or {}).items():
        try:
            util[bel] = BelUsage(int(entry["used"]), int(entry["available"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: utilization of {bel!r} is {entry!r}") from None
    clocks: dict[str, ClockTiming] = {}
    for clock, entry in (data.get("fmax") or {}).items():
        try:
            achieved = float(entry["achieved"])
            constraint = entry.get("constraint")
            constraint = None if constraint is None else float(constraint)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ValueError(f"{where}: fmax of {clock!r} is {entry!r}") from None
        if not math.isfinite(achieved):
            raise ValueError(f"{where}: fmax of {clock!r} is not finite ({achieved})")
        clocks[clock] = ClockTiming(achieved, constraint)
    return NextpnrReport(util, clocks, "report")


_UTIL_RE = re.compile(r"^Info:\s+([A-Za-z0-9_]+):\s+(\d+)\s*/\s*(\d+)\s+\d+%")
_FMAX_RE = re.compile(
    r"Max frequency for clock\s+'?([^']*?)'?:\s*([0-9.]+)\s*MHz"
    r"(?:\s*\((?:PASS|FAIL) at ([0-9.]+) MHz\))?"
)


def parse_nextpnr_log(text: str) -> NextpnrReport:
    """The last "Device utilisation" block and the last Fmax line of each clock in a log."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if "Device utilisation" in line]
    util: dict[str, BelUsage] = {}
    for line in lines[starts[-1] + 1 :] if starts else []:
        found = _UTIL_RE.match(line)
        if found is None:
            if util:
                break
            continue
        util[found[1]] = BelUsage(int(found[2]), int(found[3]))
    clocks: dict[str, ClockTiming] = {}
    for clock, achieved, constraint in _FMAX_RE.findall(text):
        clocks[clock] = ClockTiming(float(achieved), float(constraint) if constraint else None)
    errors = tuple(line for line in lines if line.startswith("ERROR"))
    return NextpnrReport(util, clocks, "log", errors)


def parse_nextpnr_report(
    report: str | os.PathLike[str] | None = None, log: str | os.PathLike[str] | None = None
) -> NextpnrReport:
    """nextpnr's results: from the ``--report`` JSON file ``report`` when it exists, else from
    the log file ``log`` (``ValueError`` when neither exists or the JSON is malformed). When
    both exist the log still gives :attr:`NextpnrReport.errors`."""
    errors: tuple[str, ...] = ()
    log_text = None
    if log is not None and Path(log).is_file():
        log_text = Path(log).read_text(encoding="utf-8", errors="replace")
        errors = tuple(line for line in log_text.splitlines() if line.startswith("ERROR"))
    if report is not None and Path(report).is_file():
        try:
            data = json.loads(Path(report).read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{report}: not valid JSON ({err})") from None
        parsed = _from_json(data, str(report))
        return NextpnrReport(parsed.utilisation, parsed.clocks, "report", errors)
    if log_text is not None:
        return parse_nextpnr_log(log_text)
    raise ValueError(f"no nextpnr report ({report}) and no log ({log})")
