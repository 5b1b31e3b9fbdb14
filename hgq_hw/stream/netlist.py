"""A :class:`~hgq_hw.stream.window.StreamWindowPlan` as one flat Verilog-2001 module.

Ports as ``hgq gen`` names them (``clk``, ``rst``, ``i_stream__payload`` one pixel,
``i_stream__valid``, ``o_stream__payload`` one output pixel, ``o_stream__valid``). Inside, in
order: the input register, the slot counter and the next trigger (``slot_f``, ``trig``, output
position ``pos0``/``pos1``), the line buffer (``sr0`` newest .. ``srN``), the window's tap
enables registered at each firing (``rowok_d``/``colok_d``), the masked window taps, the window
operation written by its plan's direct writer (:func:`hgq_hw.netlist.writer_for`: the kernel's
adder graph, or the Max plan's compare-and-select trees; stage 0 reads the window), and the
output register. Cycle for cycle it is :meth:`StreamWindowPlan.run`.
"""

from __future__ import annotations

import hgq_hw.netlist  # noqa: F401  (registers every direct writer)
from hgq_hw.netlist.layers import Tensor, writer_for
from hgq_hw.netlist.network import module_ports, write_network
from hgq_hw.netlist.text import Net, Netlist, const_bits
from hgq_hw.stream.network import GatherStage, StreamNetworkPlan
from hgq_hw.stream.window import StreamWindowPlan, counter_bits

__all__ = [
    "stream_network_ports",
    "stream_ports",
    "write_gather",
    "write_stream_layer",
    "write_stream_network",
]


def stream_ports(plan: StreamWindowPlan) -> list[tuple[str, str, int]]:
    """``(name, direction, width)`` of the module's ports: one pixel in, one out
    (:func:`~hgq_hw.netlist.network.module_ports`)."""
    return module_ports(plan.pixel_layout.width, plan.out_layout.width)


def _ext(name: str, width: int, to: int) -> str:
    """Unsigned net ``name`` of ``width`` bits zero-extended to ``to`` bits."""
    return name if width == to else f"{{{to - width}'h0, {name}}}"


def _enable(counter: str, width: int, lo: int, hi: int, n_out: int) -> str:
    """``lo <= counter <= hi`` as a 1-bit expression (constants folded)."""
    if lo > hi:
        return "1'b0"
    terms = []
    if lo > 0:
        terms.append(f"({counter} >= {const_bits(lo, width)})")
    if hi < n_out - 1:
        terms.append(f"({counter} <= {const_bits(hi, width)})")
    return " & ".join(terms) if terms else "1'b1"


def _tail_lines(tail: int, hw: int, tfw: int, fw: int, last_pixel: str) -> list[str]:
    """The tail counter's update: an image's last pixel starts its tail (slot ``H*W``), each
    slot in the tail moves it on, the last tail slot ends it."""
    if not tail:
        return []
    return [
        f"      if (in_valid & (slot_f == {last_pixel})) begin",
        "        tailing <= 1'b1;",
        f"        tail_f <= {const_bits(hw, tfw)};",
        "      end else if (slot & tailing) begin",
        f"        if (tail_f == {const_bits(hw + tail - 1, tfw)})",
        "          tailing <= 1'b0;",
        "        else",
        f"          tail_f <= tail_f + {const_bits(1, tfw)};",
        "      end",
    ]


def write_stream_layer(plan: StreamWindowPlan, name: str) -> str:
    """The Verilog text of module ``name`` (deterministic: depends only on the plan and name)."""
    if not isinstance(plan, StreamWindowPlan):
        raise TypeError(f"plan must be a StreamWindowPlan, got {type(plan).__name__}")
    g = plan.geometry
    (w0, w1), (_, s1) = g.window, g.strides
    nl = Netlist()
    layout = plan.pixel_layout
    p = layout.width
    in_payload = nl.reg("in_payload", Net("i_stream__payload", p, False) if p else None)
    in_valid = nl.reg("in_valid", Net("i_stream__valid", 1, False), reset=True)
    assert in_valid is not None
    widths = g.counter_bits
    fw, tw, o0w, o1w = (widths[key] for key in ("slot_f", "trig", "pos0", "pos1"))
    t0 = g.trigger(0, 0)
    d = nl.decls
    d.append(f"  reg [{fw - 1}:0] slot_f = {const_bits(0, fw)};")
    d.append(f"  reg [{tw - 1}:0] trig = {const_bits(t0, tw)};")
    d.append(f"  reg [{o0w - 1}:0] pos0 = {const_bits(0, o0w)};")
    d.append(f"  reg [{o1w - 1}:0] pos1 = {const_bits(0, o1w)};")
    d.append("  reg fire_d = 1'b0;")
    d.append(f"  reg [{w0 - 1}:0] rowok_d = {const_bits(0, w0)};")
    d.append(f"  reg [{w1 - 1}:0] colok_d = {const_bits(0, w1)};")
    hw, tail = g.n_pixels, g.tail
    if tail:
        tfw = widths["tail_f"]
        d.append("  reg tailing = 1'b0;")
        d.append(f"  reg [{tfw - 1}:0] tail_f = {const_bits(0, tfw)};")
        d.append(f"  wire virt = tailing & ~in_valid & (slot_f == {const_bits(0, fw)});")
        d.append("  wire slot = in_valid | virt;")
        cw = max(fw, tw, tfw)
        t, f_, tf = _ext("trig", tw, cw), _ext("slot_f", fw, cw), _ext("tail_f", tfw, cw)
        d.append(f"  wire fire = slot & (tailing ? ({tf} == {t}) : ({f_} == {t}));")
    else:
        cw = max(fw, tw)
        d.append("  wire slot = in_valid;")
        d.append(f"  wire fire = slot & ({_ext('slot_f', fw, cw)} == {_ext('trig', tw, cw)});")
    rows = [_enable("pos0", o0w, *g.row_range(a), g.out[0]) for a in range(w0)]
    cols = [_enable("pos1", o1w, *g.col_range(b), g.out[1]) for b in range(w1)]
    d.append(f"  wire [{w0 - 1}:0] rowok = {{{', '.join(reversed(rows))}}};")
    d.append(f"  wire [{w1 - 1}:0] colok = {{{', '.join(reversed(cols))}}};")
    shift: list[str] = []
    if p:
        assert in_payload is not None
        pix = f"in_valid ? in_payload : {const_bits(0, p)}" if tail else "in_payload"
        d.append(f"  wire [{p - 1}:0] slot_pix = {pix};")
        for e in range(g.buffer_len):
            d.append(f"  reg [{p - 1}:0] sr{e} = {const_bits(0, p)};")
            shift.append(f"      sr{e} <= {'slot_pix' if e == 0 else f'sr{e - 1}'};")
    d.append("  always @(posedge clk) begin")
    if shift:
        d.append("    if (slot) begin")
        d.extend(shift)
        d.append("    end")
    d.append("    if (fire) begin")
    d.append("      rowok_d <= rowok;")
    d.append("      colok_d <= colok;")
    d.append("    end")
    d.append("  end")
    last_pixel, last0, last1 = const_bits(hw - 1, fw), g.out[0] - 1, g.out[1] - 1
    d += [
        "  always @(posedge clk) begin",
        "    if (rst) begin",
        f"      slot_f <= {const_bits(0, fw)};",
        f"      trig <= {const_bits(t0, tw)};",
        f"      pos0 <= {const_bits(0, o0w)};",
        f"      pos1 <= {const_bits(0, o1w)};",
        "      fire_d <= 1'b0;",
        *(["      tailing <= 1'b0;"] if tail else []),
        "    end else begin",
        *_tail_lines(tail, hw, widths.get("tail_f", 0), fw, last_pixel),
        "      if (in_valid)",
        f"        slot_f <= (slot_f == {last_pixel}) ? {const_bits(0, fw)} : "
        f"slot_f + {const_bits(1, fw)};",
        "      fire_d <= fire;",
        "      if (fire) begin",
        f"        if (pos1 == {const_bits(last1, o1w)}) begin",
        f"          pos1 <= {const_bits(0, o1w)};",
        f"          if (pos0 == {const_bits(last0, o0w)}) begin",
        f"            pos0 <= {const_bits(0, o0w)};",
        f"            trig <= {const_bits(t0, tw)};",
        "          end else begin",
        f"            pos0 <= pos0 + {const_bits(1, o0w)};",
        f"            trig <= trig + {const_bits(g.row_step, tw)};",
        "          end",
        "        end else begin",
        f"          pos1 <= pos1 + {const_bits(1, o1w)};",
        f"          trig <= trig + {const_bits(s1, tw)};",
        "        end",
        "      end",
        "    end",
        "  end",
    ]
    window: list[Net | None] = []
    for a in range(w0):
        for b in range(w1):
            entry = g.entry(a, b)
            for c, field in enumerate(layout.fields):
                if field.width == 0:
                    window.append(None)
                    continue
                top = field.offset + field.width - 1
                enable = f"rowok_d[{a}] & colok_d[{b}]"
                expr = f"sr{entry}[{top}:{field.offset}] & {{{field.width}{{{enable}}}}}"
                window.append(nl.wire(f"win_{a}_{b}_{c}", field.width, field.signed, expr))
    fire_d = Net("fire_d", 1, False)
    out = writer_for(plan.kernel)(nl, plan.kernel, [Tensor(tuple(window), fire_d)], "K")
    parts = [net.name for net in reversed(out.elements) if net is not None]
    if parts:
        word = nl.wire("out_word", plan.out_layout.width, False, "{" + ", ".join(parts) + "}")
        nl.reg("out_payload", word)
        nl.decls.append("  assign o_stream__payload = out_payload;")
    nl.reg("out_valid", out.valid, reset=True)
    nl.decls.append("  assign o_stream__valid = out_valid;")
    return nl.text(name, stream_ports(plan))


def stream_network_ports(plan: StreamNetworkPlan) -> list[tuple[str, str, int]]:
    """``(name, direction, width)`` of a stream network's ports: one pixel in, the network's
    output word out (width-0 payloads omitted; :func:`~hgq_hw.netlist.network.module_ports`)."""
    return module_ports(plan.pixel_layout.width, plan.out_layout.width)


def write_gather(gather: GatherStage, name: str) -> str:
    """Module ``name``: the last ``n_pixels`` pixels in a shift register (pixel 0 of the image
    in the low bits), presented with ``valid`` for one cycle after an image's last pixel."""
    n, p = gather.n_pixels, gather.pixel_layout.width
    cw = counter_bits(n)
    ports = [("clk", "input", 1), ("rst", "input", 1)]
    if p:
        ports.append(("i_stream__payload", "input", p))
    ports.append(("i_stream__valid", "input", 1))
    if p:
        ports.append(("o_stream__payload", "output", n * p))
    ports.append(("o_stream__valid", "output", 1))
    nl = Netlist()
    d = nl.decls
    d.append(f"  reg [{cw - 1}:0] count = {const_bits(0, cw)};")
    d.append("  reg out_valid = 1'b0;")
    if p:
        word = "i_stream__payload" if n == 1 else f"{{i_stream__payload, word[{n * p - 1}:{p}]}}"
        d.append(f"  reg [{n * p - 1}:0] word = {const_bits(0, n * p)};")
        d.append("  always @(posedge clk) begin")
        d.append(f"    if (i_stream__valid) word <= {word};")
        d.append("  end")
        d.append("  assign o_stream__payload = word;")
    last = const_bits(n - 1, cw)
    d += [
        "  always @(posedge clk) begin",
        "    if (rst) begin",
        f"      count <= {const_bits(0, cw)};",
        "      out_valid <= 1'b0;",
        "    end else begin",
        f"      out_valid <= i_stream__valid & (count == {last});",
        "      if (i_stream__valid)",
        f"        count <= (count == {last}) ? {const_bits(0, cw)} : count + {const_bits(1, cw)};",
        "    end",
        "  end",
        "  assign o_stream__valid = out_valid;",
    ]
    return nl.text(name, ports)


def write_stream_network(plan: StreamNetworkPlan, name: str) -> str:
    """Verilog text of module ``name`` (one pixel in, the network's output out; ports as
    :func:`stream_ports` names them) followed by one module per stage (``name_s0`` ...,
    ``name_gather``, ``name_dense``), which it instantiates in a chain."""
    if not isinstance(plan, StreamNetworkPlan):
        raise TypeError(f"plan must be a StreamNetworkPlan, got {type(plan).__name__}")
    texts: list[str] = []
    links: list[tuple[str, int]] = []  # (module, output payload width)
    for k, st in enumerate(plan.stages):
        module = f"{name}_s{k}"
        if isinstance(st, StreamWindowPlan):
            texts.append(write_stream_layer(st, module))
            links.append((module, st.out_layout.width))
        else:
            texts.append(write_network(st.plan, module))
            links.append((module, st.plan.out_layout.width))
    texts.append(write_gather(plan.gather, f"{name}_gather"))
    links.append((f"{name}_gather", plan.gather.buffer_bits))
    texts.append(write_network(plan.dense, f"{name}_dense"))
    links.append((f"{name}_dense", plan.dense.out_layout.width))
    p_in, p_out = plan.pixel_layout.width, plan.out_layout.width
    ports = stream_network_ports(plan)
    nl = Netlist()
    payload, width, valid = "i_stream__payload", p_in, "i_stream__valid"
    for k, (module, out_width) in enumerate(links):
        conns = [".clk(clk)", ".rst(rst)"]
        if width:
            conns.append(f".i_stream__payload({payload})")
        conns.append(f".i_stream__valid({valid})")
        if out_width:
            nl.decls.append(f"  wire [{out_width - 1}:0] c{k}_payload;")
            conns.append(f".o_stream__payload(c{k}_payload)")
        nl.decls.append(f"  wire c{k}_valid;")
        conns.append(f".o_stream__valid(c{k}_valid)")
        nl.decls.append(f"  {module} u{k}({', '.join(conns)});")
        payload, width, valid = f"c{k}_payload", out_width, f"c{k}_valid"
    if p_out:
        nl.decls.append(f"  assign o_stream__payload = {payload};")
    nl.decls.append(f"  assign o_stream__valid = {valid};")
    return "".join([nl.text(name, ports), *texts])
