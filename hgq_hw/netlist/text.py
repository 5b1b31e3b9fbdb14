"""A flat Verilog-2001 module as text: named nets, registers and the wiring between them.

Every value is a :class:`Net` (a named ``wire`` or ``reg`` of a known width and signedness)
or the constant 0 (``None``). Expressions are strings made by the helpers here, each exactly
as wide as the net it is assigned to, so the text has no implicit extension or truncation.
Signedness is bookkeeping only: the text never declares a ``signed`` net; extension is
written out and signed comparisons use ``$signed``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Net", "Netlist", "const_bits", "resized", "slice_bits"]


@dataclass(frozen=True)
class Net:
    """A named net holding a raw integer as ``width`` bits (two's complement if ``signed``)."""

    name: str
    width: int
    signed: bool

    def bit(self, index: int) -> str:
        return self.name if self.width == 1 else f"{self.name}[{index}]"


def const_bits(value: int, width: int) -> str:
    """``value`` modulo ``2**width`` as a sized literal (``width >= 1``)."""
    return f"{width}'h{value % (1 << width):x}"


def _extension(net: Net, n: int) -> str:
    """``n`` copies of ``net``'s sign bit (zeros if unsigned)."""
    if not net.signed:
        return f"{n}'h0"
    return net.bit(net.width - 1) if n == 1 else f"{{{n}{{{net.bit(net.width - 1)}}}}}"


def slice_bits(net: Net | None, start: int, n: int) -> str:
    """Bits ``start .. start + n - 1`` of ``net``'s value extended beyond its width (``n >= 1``;
    None is the constant 0)."""
    if net is None or net.width == 0:
        return f"{n}'h0"
    stop = start + n
    if start >= net.width:
        return _extension(net, n)
    top = min(stop, net.width)
    if start == 0 and top == net.width:
        own = net.name
    elif top - start == 1:
        own = f"{net.name}[{start}]"
    else:
        own = f"{net.name}[{top - 1}:{start}]"
    if stop <= net.width:
        return own
    return f"{{{_extension(net, stop - net.width)}, {own}}}"


def resized(net: Net | None, n: int) -> str:
    """``net``'s value modulo ``2**n`` as ``n`` bits (sign- or zero-extended, or cut)."""
    return slice_bits(net, 0, n)


class Netlist:
    """Collects the declarations, assignments and registers of one module, in order."""

    def __init__(self) -> None:
        self.decls: list[str] = []
        self.regs: list[tuple[str, str]] = []
        self.reset_regs: list[tuple[str, str, int]] = []
        self.names: set[str] = set()

    def _claim(self, name: str) -> str:
        if name in self.names:
            raise ValueError(f"net {name!r} declared twice (a bug in hgq_hw.netlist)")
        self.names.add(name)
        return name

    def wire(self, name: str, width: int, signed: bool, expr: str) -> Net | None:
        """A wire of ``width`` bits driven by ``expr`` (exactly that wide); None for width 0."""
        if width <= 0:
            return None
        self.decls.append(f"  wire [{width - 1}:0] {self._claim(name)} = {expr};")
        return Net(name, width, signed)

    def rom(
        self, name: str, index: Net, width: int, signed: bool, entries: dict[int, int]
    ) -> Net | None:
        """A constant table: a ``width``-bit net that is ``entries[p]`` when ``index``'s bits
        are ``p`` (``entries`` gives every pattern of ``index``, or the missing ones read 0);
        None for width 0.

        Written as a ``case`` in a function (``<name>_table``) driving a continuous
        assignment, not as an ``always @*`` block: Icarus in ``-g2012`` mode (cocotb's) never
        runs an ``always @*`` whose inputs do not change after time 0, so a table read with the
        register's initial index (say an all-zero first sample) stayed X; a continuous
        assignment is evaluated at time 0 by every simulator."""
        if width <= 0:
            return None
        self._claim(name)
        function = self._claim(f"{name}_table")
        lines = [
            f"  function [{width - 1}:0] {function};",
            f"    input [{index.width - 1}:0] index;",
            "    case (index)",
        ]
        for pattern in sorted(entries):
            value = const_bits(entries[pattern], width)
            lines.append(f"      {const_bits(pattern, index.width)}: {function} = {value};")
        if len(entries) < 1 << index.width:
            lines.append(f"      default: {function} = {width}'h0;")
        lines += [
            "    endcase",
            "  endfunction",
            f"  wire [{width - 1}:0] {name} = {function}({index.name});",
        ]
        self.decls.append("\n".join(lines))
        return Net(name, width, signed)

    def reg(self, name: str, source: Net | None, *, reset: bool = False) -> Net | None:
        """A register loaded with ``source`` every clock (with ``reset``: cleared by the
        synchronous ``rst``); None when ``source`` has no bits."""
        if source is None or source.width == 0:
            return None
        self.decls.append(f"  reg [{source.width - 1}:0] {self._claim(name)} = {source.width}'h0;")
        if reset:
            self.reset_regs.append((name, source.name, source.width))
        else:
            self.regs.append((name, source.name))
        return Net(name, source.width, source.signed)

    def text(self, name: str, ports: list[tuple[str, str, int]]) -> str:
        """The module ``name`` with ``ports`` (``(name, "input" | "output", width)``)."""
        lines = ["/* Generated by hgqflow (hgq_hw.netlist); do not edit. */", f"module {name}("]
        lines.append(",\n".join(f"  {p}" for p, _, _ in ports))
        lines.append(");")
        for port, direction, width in ports:
            lines.append(f"  {direction} {f'[{width - 1}:0] ' if width > 1 else ''}{port};")
        lines += self.decls
        if self.regs:
            lines.append("  always @(posedge clk) begin")
            lines += [f"    {dst} <= {src};" for dst, src in self.regs]
            lines.append("  end")
        if self.reset_regs:
            lines.append("  always @(posedge clk) begin")
            lines.append("    if (rst) begin")
            lines += [f"      {dst} <= {width}'h0;" for dst, _, width in self.reset_regs]
            lines.append("    end else begin")
            lines += [f"      {dst} <= {src};" for dst, src, _ in self.reset_regs]
            lines.append("    end")
            lines.append("  end")
        lines.append("endmodule")
        return "\n".join(line for line in lines if line) + "\n"
