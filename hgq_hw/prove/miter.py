"""A miter between a generated module and its reference, and one Yosys SAT proof on it.

The miter (:func:`write_miter`) feeds one free input bus ``x`` (and a free ``valid``) to the
generated module and to the combinational reference, delays the reference's output by the
generated module's latency in plain registers, and raises ``trigger_<e>`` when output element
``e`` differs (``trigger`` when any does). A proof (:func:`prove`) asks Yosys' SAT engine
whether a trigger can be 1: combinationally at latency 0, else over ``latency + 1`` unrolled
steps with the trigger checked in the last one (every register of a feed-forward pipeline is
then filled from the free inputs, whatever the initial state). A model found is a
counterexample, read back from Yosys' WaveJSON dump (:func:`read_wavejson`).

Yosys runs in the proof's folder with relative file names (YoWASP cannot open absolute
``/tmp`` paths), through :func:`hgq_hw.toolchain.run_tool` with a wall-clock limit (the SAT
command's own ``-timeout`` does nothing under WebAssembly).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hgq_hw.layout import BusLayout
from hgq_hw.prove.generated import PORTS, GeneratedModule
from hgq_hw.prove.reference_rtl import ReferenceModule
from hgq_hw.toolchain import ToolError, run_tool

__all__ = [
    "MITER_TOP",
    "Miter",
    "SatOutcome",
    "prepare",
    "prove",
    "read_wavejson",
    "replay",
    "write_miter",
]

MITER_TOP = "hgqprove_miter"


@dataclass(frozen=True)
class Miter:
    """A miter's Verilog and what a proof needs: ``triggers[n]`` is the trigger of output
    element ``columns[n]``; ``latency`` is the generated module's."""

    text: str
    latency: int
    columns: tuple[int, ...]
    in_width: int
    out_width: int

    def trigger(self, column: int | None) -> str:
        """The trigger of output element ``column`` (None: of any element)."""
        return "trigger" if column is None else f"trigger_{column}"


def write_miter(gen: GeneratedModule, ref: ReferenceModule, out_layout: BusLayout) -> Miter:
    """The miter of ``gen`` against ``ref`` (same buses: ``ref.in_width`` / ``out_layout``)."""
    if ref.out_width != out_layout.width:
        raise ValueError(f"reference output is {ref.out_width} bits, the layout {out_layout.width}")
    ports = set(gen.ports)
    wanted = {PORTS["in"]} if ref.in_width else set()
    wanted |= {PORTS["out"]} if ref.out_width else set()
    if gen.latency:
        wanted.add(PORTS["clk"])
    missing = sorted(wanted - ports)
    if missing:
        raise ValueError(
            f"generated module {gen.name!r} has no port(s) {missing} (has {sorted(ports)})"
        )
    n_in, n_out = ref.in_width, ref.out_width
    columns = tuple(n for n, f in enumerate(out_layout.fields) if f.width)
    head = ["input wire clk", "input wire valid"]
    if n_in:
        head.append(f"input wire [{n_in - 1}:0] x")
    head += [f"output wire trigger_{e}" for e in columns] + ["output wire trigger"]
    lines = [f"module {MITER_TOP}({', '.join(head)});"]
    conns = []
    for role, value in (("clk", "clk"), ("rst", "1'b0"), ("in_valid", "valid")):
        if PORTS[role] in ports:
            conns.append(f".{PORTS[role]}({value})")
    if n_in:
        conns.append(f".{PORTS['in']}(x)")
    if n_out:
        lines.append(f"  wire [{n_out - 1}:0] y_gen;")
        lines.append(f"  wire [{n_out - 1}:0] y_now;")
        conns.append(f".{PORTS['out']}(y_gen)")
    name = gen.name if gen.name.isidentifier() else f"\\{gen.name} "
    lines.append(f"  {name} dut({', '.join(conns)});")
    if n_out:
        ref_conns = ([".x(x)"] if n_in else []) + [".y(y_now)"]
        lines.append(f"  {ref.name} ref({', '.join(ref_conns)});")
        previous = "y_now"
        for step in range(1, gen.latency + 1):
            lines.append(f"  reg [{n_out - 1}:0] y_d{step};")
            lines.append(f"  always @(posedge clk) y_d{step} <= {previous};")
            previous = f"y_d{step}"
        lines.append(f"  wire [{n_out - 1}:0] y_ref = {previous};")
    for e in columns:
        f = out_layout.fields[e]
        bits = f"[{f.offset + f.width - 1}:{f.offset}]"
        lines.append(f"  assign trigger_{e} = y_gen{bits} != y_ref{bits};")
    any_ = " | ".join(f"trigger_{e}" for e in columns) or "1'b0"
    lines.append(f"  assign trigger = {any_};")
    lines.append("endmodule")
    text = "\n".join([gen.text, ref.text, "\n".join(lines), ""])
    return Miter(text, gen.latency, columns, n_in, n_out)


MITER_IL = "miter.il"


_ELABORATE = (
    f"read_verilog miter.v\nhierarchy -check -top {MITER_TOP}\nproc -norom\nflatten\n"
    "setattr -unset init\nopt -full\nwreduce\nopt_clean\n"
)
"""Elaboration before the first proof. ``proc -norom`` keeps a lookup table's ``case`` as logic
(SAT cannot read the ROM memory that ``proc_rom`` would make of it). Initial register values
are dropped (the checked step
comes after the pipeline is full, so a correct design never depends on them, and a design that
does is refuted); ``opt -full`` and ``wreduce`` (narrowing adders whose top bits are copies of
the sign) cut the SAT problem to a fraction of its size."""


def prepare(miter: Miter, folder: str | os.PathLike[str]) -> Path:
    """Write ``miter.v`` into ``folder`` (and forget an older ``miter.il``): the first
    :func:`prove` there elaborates and flattens it and keeps ``miter.il`` for the next ones."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MITER_IL).unlink(missing_ok=True)
    path = folder / "miter.v"
    path.write_text(miter.text, encoding="utf-8")
    return path


@dataclass(frozen=True)
class SatOutcome:
    """One SAT proof: ``verdict`` is ``"proven"``, ``"counterexample"`` or ``"timeout"``;
    ``steps`` the counterexample's values per step (signal -> list of ints), else None."""

    verdict: str
    seconds: float
    steps: dict[str, list[int]] | None
    log: Path


def _yosys(
    folder: Path, tag: str, script: str, timeout_s: float | None, say: Callable[[str], None] | None
) -> Any:
    (folder / f"{tag}.ys").write_text(script, encoding="utf-8")
    return run_tool(
        "yosys",
        ["-q", "-s", f"{tag}.ys"],
        folder,
        f"{tag}.log",
        say=say,
        check=False,
        purpose="proof",
        timeout_s=timeout_s,
    )


def _no_result(run: Any, what: str) -> ToolError:
    return ToolError.from_log(
        "yosys", what, command=run.command, exit_code=run.exit_code, log=run.log
    )


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def prove(
    miter: Miter,
    folder: str | os.PathLike[str],
    column: int | None,
    *,
    timeout_s: float,
    say: Callable[[str], None] | None = None,
) -> SatOutcome:
    """Prove the trigger of ``column`` (None: all) of the miter in ``folder`` is 0
    (:func:`prepare` first; the limit ``timeout_s`` includes the elaboration when this is the
    first proof there). A column's proof keeps only the logic that column depends on. A
    counterexample's inputs are replayed on the whole miter (:func:`replay`) for the full
    generated and reference outputs.

    ``ToolError`` when Yosys fails for any other reason than a counterexample or the limit
    (a Verilog error of the design, for instance: the log says which).
    """
    folder = Path(folder)
    tag = "sat_all" if column is None else f"sat_{column}"
    result, dump = folder / f"{tag}.txt", folder / f"{tag}.json"
    for stale in (result, dump):
        stale.unlink(missing_ok=True)
    if (folder / MITER_IL).exists():
        load = f"read_rtlil {MITER_IL}\n"
    else:
        load = f"{_ELABORATE}write_rtlil {MITER_IL}\n"
    if column is not None:  # the cone of one trigger: the other triggers stop being outputs
        load += (
            f"delete -output o:trigger* o:{miter.trigger(column)} %d\nopt_clean -purge\n"
            "wreduce\nopt_clean -purge\n"
        )
    seq = f"-seq {miter.latency + 1} -prove-skip {miter.latency} " if miter.latency else ""
    show = "-show x " if miter.in_width else ""
    script = f"{load}tee -q -o {result.name} sat {seq}-prove {miter.trigger(column)} 0 {show}"
    run = _yosys(folder, tag, f"{script}-dump_json {dump.name}\n", timeout_s, say)
    if run.timed_out:
        return SatOutcome("timeout", run.seconds, None, run.log)
    text = _read(result)
    if run.exit_code == 0 and "SUCCESS!" in text:
        return SatOutcome("proven", run.seconds, None, run.log)
    if not (run.exit_code == 0 and "FAIL!" in text and dump.exists()):
        raise _no_result(run, "the SAT proof gave no result")
    steps = read_wavejson(dump, miter.latency + 1, sequential=miter.latency > 0)
    inputs = steps.get("x", [0] * (miter.latency + 1))
    return SatOutcome("counterexample", run.seconds, replay(miter, folder, inputs, tag), run.log)


def replay(
    miter: Miter, folder: str | os.PathLike[str], inputs: Sequence[int], tag: str = "replay"
) -> dict[str, list[int]]:
    """``x``, ``y_gen`` and ``y_ref`` per step when the whole miter in ``folder`` (already
    elaborated by a :func:`prove`) gets the input bus words ``inputs`` (one per step)."""
    folder = Path(folder)
    steps = miter.latency + 1
    if len(inputs) != steps:
        raise ValueError(f"expected {steps} input words (one per step), got {len(inputs)}")
    dump = folder / f"{tag}_replay.json"
    dump.unlink(missing_ok=True)
    sets = ""
    if miter.in_width:
        words = [f"{miter.in_width}'b{int(v):0{miter.in_width}b}" for v in inputs]
        if miter.latency:
            sets = " ".join(f"-set-at {n + 1} x {w}" for n, w in enumerate(words))
        else:
            sets = f"-set x {words[0]}"
    seq = f"-seq {steps} " if miter.latency else ""
    shows = " ".join(f"-show {s}" for s in ("x", "y_gen", "y_ref") if _has(miter, s))
    script = f"read_rtlil {MITER_IL}\nsat {seq}{sets} {shows} -dump_json {dump.name}\n"
    run = _yosys(folder, f"{tag}_replay", script, None, None)
    if run.exit_code != 0 or not dump.exists():
        raise _no_result(run, "replaying a counterexample gave no model")
    return read_wavejson(dump, steps, sequential=miter.latency > 0)


def _has(miter: Miter, signal: str) -> bool:
    return miter.in_width > 0 if signal == "x" else miter.out_width > 0


def read_wavejson(
    path: str | os.PathLike[str], steps: int, *, sequential: bool
) -> dict[str, list[int]]:
    """Signal values of steps ``1..steps`` from a Yosys ``sat -dump_json`` file.

    WaveJSON: one ``wave`` character per slot, ``0``/``1`` a bit, ``.`` the previous value,
    ``=`` (or another digit) the next binary word of ``data`` (empty: unknown, read as 0;
    undefined bits read as 0). A sequential dump starts with the initial state in slot 0, a
    combinational one has its only step there. ``ValueError`` naming the file when malformed.
    """
    path = Path(path)
    first = 1 if sequential else 0
    try:
        signals = json.loads(path.read_text(encoding="utf-8"))["signal"]
        out: dict[str, list[int]] = {}
        for entry in signals:
            data = iter(entry.get("data", []))
            values: list[int] = []
            for char in entry["wave"]:
                if char in "01":
                    values.append(int(char))
                elif char == ".":
                    values.append(values[-1] if values else 0)
                else:
                    word = str(next(data)).replace("x", "0").replace("z", "0")
                    values.append(int(word, 2) if word else 0)
            values = values[first : first + steps]
            if len(values) != steps:
                raise ValueError(f"signal {entry['name']!r} has {len(values)} of {steps} steps")
            out[str(entry["name"]).lstrip("\\")] = values
    except (OSError, json.JSONDecodeError, KeyError, TypeError, StopIteration) as err:
        raise ValueError(f"{path}: not a Yosys WaveJSON dump ({err!r})") from None
    except ValueError as err:
        raise ValueError(f"{path}: not a Yosys WaveJSON dump ({err})") from None
    return out
