"""Plain reference Verilog of a spec: what each layer means, written the obvious way.

Nothing here knows how the generator builds hardware. A Dense output is the sum of constant
products written with ``*`` (``y = b + x0 * w0 + x1 * w1 ...``) in a signed accumulator wide
enough for the exact value; a requantizer shifts, rounds (TRN/RND) and then wraps or clamps
(WRAP/SAT) as :func:`hgq_hw.fixed.requantize_raw` does; a ReLU is ``x < 0 ? 0 : x``; a table
is a chain ``x == v0 ? t0 : x == v1 ? t1 : ...`` over the raw input values. Widths are
exact: every element of a tensor sits on a flat bus as :class:`hgq_hw.layout.BusLayout` packs
it, with exactly its type's width. Every element is first widened by one bit to a signed wire
(``x<n>``) so that Verilog never mixes signed and unsigned operands.

:func:`layer_module` writes one combinational module ``(x) -> (y)`` for a layer;
``drop[e]`` low bits of output ``e`` are cleared (the bits no consumer reads, which the
generated layer may leave out, see :mod:`hgq_hw.plan`). :func:`network_module` chains the
layers of a spec from its Input to its Output (nothing dropped: the spec's own meaning).

Each layer kind has one writer in :data:`WRITERS` (:func:`register_writer`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from hgq_hw.fixed import Overflow, Round, TensorType
from hgq_hw.layout import BusLayout
from hgq_hw.lowering import FlatMaxPoolSpec, flat_layer
from hgq_hw.reference import dense_effective, infer_types
from hgq_hw.spec import (
    DenseSpec,
    LayerSpec,
    ModelSpec,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SpecError,
    TableSpec,
)

__all__ = [
    "WRITERS",
    "ReferenceModule",
    "joined_type",
    "layer_module",
    "network_module",
    "register_writer",
]

ElementExprs = list[tuple[list[str], str] | None]
"""Per output element: (declaration lines, name of a signed wire holding its exact raw value),
or None for a width-0 element (or the constant 0: the name is then ``"0"``)."""

Writer = Callable[[LayerSpec, TensorType, TensorType], ElementExprs]
"""``writer(layer, in_type, out_type)``: the reference of one layer kind on elements ``x<n>``."""

WRITERS: dict[type[LayerSpec], Writer] = {}
"""Spec layer class -> its reference writer."""


def register_writer(kind: type[LayerSpec], writer: Writer) -> None:
    """Write the reference of layers of class ``kind`` with ``writer``."""
    if not (isinstance(kind, type) and issubclass(kind, LayerSpec)):
        raise TypeError(f"kind must be a LayerSpec subclass, got {kind!r}")
    WRITERS[kind] = writer


def _writer_for(layer: LayerSpec) -> Writer:
    for cls in type(layer).__mro__:
        writer = WRITERS.get(cls)
        if writer is not None:
            return writer
    raise SpecError(
        f"no reference netlist for layer kind {layer.kind!r}", layer=layer.name, field="kind"
    )


@dataclass(frozen=True)
class ReferenceModule:
    """Verilog text of a combinational module ``name(x, y)``: ``x`` the input bus of
    ``in_width`` bits, ``y`` the output bus of ``out_width`` bits (a port of width 0 is left
    out). ``text`` may hold helper modules too (the layers of a network)."""

    name: str
    text: str
    in_width: int
    out_width: int


def _const(value: int, width: int) -> str:
    """A signed sized literal of ``value`` at ``width`` bits (``-W'sdN`` for a negative)."""
    value = int(value)
    return f"{width}'sd{value}" if value >= 0 else f"-{width}'sd{-value}"


def _acc_width(bound: int) -> int:
    """Bits of a signed wire that holds every integer of magnitude up to ``bound``, plus one."""
    return int(bound).bit_length() + 2


def _unpack(t: TensorType) -> list[str]:
    """Lines declaring ``x<n>``, one signed wire one bit wider than element ``n`` of ``t``."""
    lines = []
    for n, f in enumerate(BusLayout.of(t).fields):
        if f.width == 0:
            continue
        bits = f"x[{f.offset + f.width - 1}:{f.offset}]"
        top = f"x[{f.offset + f.width - 1}]" if f.signed else "1'b0"
        lines.append(f"  wire signed [{f.width}:0] x{n} = {{{top}, {bits}}};")
    return lines


def _dense(layer: DenseSpec, in_type: TensorType, out_type: TensorType) -> ElementExprs:
    w_eff, b_eff, _ = dense_effective(layer, in_type)
    lo, hi = in_type.raw_bounds()
    out: ElementExprs = []
    for j in range(layer.n_out):
        rows = [int(i) for i in np.flatnonzero(w_eff[:, j] != 0)]
        bias = int(b_eff[j])
        bound = abs(bias) + sum(abs(int(w_eff[i, j])) * max(-int(lo[i]), int(hi[i])) for i in rows)
        width = _acc_width(bound)
        terms = [] if bias == 0 else [_const(bias, width)]
        for i in rows:
            w = int(w_eff[i, j])
            product = f"x{i} * {_const(abs(w), width)}"
            terms.append(product if w > 0 else f"-({product})")
        expr = " + ".join(terms) if terms else _const(0, width)
        out.append(([f"  wire signed [{width - 1}:0] y{j} = {expr};"], f"y{j}"))
    return out


def _requantize(layer: RequantizeSpec, in_type: TensorType, out_type: TensorType) -> ElementExprs:
    out: ElementExprs = []
    lo, hi = in_type.raw_bounds()
    for e in range(out_type.shape[0]):
        to = out_type.element(e)
        if to.width <= 0:
            out.append(None)
            continue
        if int(in_type.width[e]) == 0:
            out.append(([], "0"))  # the constant 0 lies in every type
            continue
        shift = to.f - int(in_type.f[e])
        bound = (max(-int(lo[e]), int(hi[e])) << max(shift, 0)) + 1
        width = max(_acc_width(bound), to.width + 2)
        lines = []
        if shift >= 0:
            lines.append(f"  wire signed [{width - 1}:0] v{e} = x{e} <<< {shift};")
        else:
            half = 1 << (-shift - 1) if layer.round is Round.RND else 0
            lines.append(f"  wire signed [{width - 1}:0] r{e} = x{e} + {_const(half, width)};")
            lines.append(f"  wire signed [{width - 1}:0] v{e} = r{e} >>> {-shift};")
        if layer.overflow is Overflow.SAT:
            top, bottom = _const(to.raw_max, width), _const(to.raw_min, width)
            lines.append(
                f"  wire signed [{width - 1}:0] y{e} = v{e} > {top} ? {top} : "
                f"v{e} < {bottom} ? {bottom} : v{e};"
            )
            out.append((lines, f"y{e}"))
        else:  # WRAP: the low bits of v, which the output slice takes
            out.append((lines, f"v{e}"))
    return out


def _relu(layer: ReLUSpec, in_type: TensorType, out_type: TensorType) -> ElementExprs:
    out: ElementExprs = []
    for e in range(out_type.shape[0]):
        width = int(in_type.width[e])
        if int(out_type.width[e]) <= 0 or width == 0:
            out.append(None if int(out_type.width[e]) <= 0 else ([], "0"))
            continue
        line = f"  wire signed [{width}:0] y{e} = x{e} < 0 ? {_const(0, width + 1)} : x{e};"
        out.append(([line], f"y{e}"))
    return out


def _table(layer: TableSpec, in_type: TensorType, out_type: TensorType) -> ElementExprs:
    out: ElementExprs = []
    for e in range(out_type.shape[0]):
        entries = [int(v) for v in layer.table(e)]
        width = int(out_type.width[e]) + 1
        if int(out_type.width[e]) <= 0:
            out.append(None)
            continue
        if int(in_type.width[e]) == 0:
            line = f"  wire signed [{width - 1}:0] y{e} = {_const(entries[0], width)};"
            out.append(([line], f"y{e}"))
            continue
        low, w_in = int(in_type.element(e).raw_min), int(in_type.width[e]) + 1
        expr = _const(entries[-1], width)
        for n in range(len(entries) - 2, -1, -1):
            expr = f"x{e} == {_const(low + n, w_in)} ? {_const(entries[n], width)} : {expr}"
        out.append(([f"  wire signed [{width - 1}:0] y{e} = {expr};"], f"y{e}"))
    return out


def _reshape(layer: ReshapeSpec, in_type: TensorType, out_type: TensorType) -> ElementExprs:
    """Over flattened tensors a Reshape is the identity."""
    return [([], f"x{e}") if int(in_type.width[e]) > 0 else None for e in range(in_type.shape[0])]


register_writer(DenseSpec, _dense)
register_writer(RequantizeSpec, _requantize)
register_writer(ReLUSpec, _relu)
register_writer(TableSpec, _table)
register_writer(ReshapeSpec, _reshape)


def _flat_maxpool(
    layer: FlatMaxPoolSpec, in_type: TensorType, out_type: TensorType
) -> ElementExprs:
    from hgq_hw.prove.reference_max import max_elements

    return max_elements(in_type, out_type, layer.sources)


register_writer(FlatMaxPoolSpec, _flat_maxpool)


def joined_type(types: list[TensorType]) -> TensorType:
    """The flattened types of several tensors side by side (a merge's reference bus)."""
    return TensorType(*(np.concatenate([getattr(t, k).ravel() for t in types]) for k in "kif"))


def _ports(in_width: int, out_width: int) -> str:
    ports = []
    if in_width:
        ports.append(f"input wire [{in_width - 1}:0] x")
    if out_width:
        ports.append(f"output wire [{out_width - 1}:0] y")
    return ", ".join(ports)


def layer_module(
    layer: LayerSpec,
    in_type: TensorType,
    out_type: TensorType,
    *,
    name: str,
    drop: Sequence[int] | None = None,
) -> ReferenceModule:
    """The reference of one one-input layer as module ``name(x, y)``.

    ``layer`` works on flattened tensors (:func:`hgq_hw.lowering.flat_layer` of a spec layer).
    A layer of several inputs (a merge) reads them as one bus, side by side (input 0 in the
    low bits): ``in_type`` is then :func:`joined_type` of them
    (the writers are in :mod:`hgq_hw.prove.reference_merge`).

    ``in_type`` / ``out_type`` are the layer's input and output types (:func:`infer_types`);
    ``drop[e]`` low bits of output element ``e`` are written as zeros (default: none).
    """
    elements = _writer_for(layer)(layer, in_type, out_type)
    drops = [0] * out_type.shape[0] if drop is None else [int(d) for d in drop]
    in_width, out_layout = BusLayout.of(in_type).width, BusLayout.of(out_type)
    lines = [f"module {name}({_ports(in_width, out_layout.width)});"]
    lines += _unpack(in_type)
    for e, (f, element) in enumerate(zip(out_layout.fields, elements)):
        if f.width == 0 or element is None:
            continue
        decls, value = element
        lines += decls
        d = min(drops[e], f.width)
        target = f"y[{f.offset + f.width - 1}:{f.offset}]"
        if value == "0":
            lines.append(f"  assign {target} = {f.width}'d0;")
        elif d == 0:
            lines.append(f"  assign {target} = {value}[{f.width - 1}:0];")
        elif d == f.width:
            lines.append(f"  assign {target} = {f.width}'d0;")
        else:
            lines.append(f"  assign {target} = {{{value}[{f.width - 1}:{d}], {d}'d0}};")
    lines.append("endmodule")
    return ReferenceModule(name, "\n".join(lines) + "\n", in_width, out_layout.width)


def network_module(spec: ModelSpec, *, name: str, prefix: str) -> ReferenceModule:
    """The reference of the whole ``spec`` as module ``name(x, y)`` (raw input bus to raw
    output bus), built from one :func:`layer_module` per layer that reaches the Output
    (module names ``<prefix><layer>``); tensors flattened in C order."""
    types = {name: t.flat() for name, t in infer_types(spec).items()}
    live = spec.live_names()
    in_t, out_t = types[spec.input.name], types[spec.output.inputs[0]]
    in_width, out_width = BusLayout.of(in_t).width, BusLayout.of(out_t).width
    parts: list[str] = []
    body = [f"module {name}({_ports(in_width, out_width)});"]
    wires = {spec.input.name: "x" if in_width else None}
    for layer in spec.layers[1:-1]:
        if layer.name not in live:
            continue
        flat = flat_layer(layer, [spec.shape(s) for s in layer.inputs])
        in_type = joined_type([types[s] for s in layer.inputs])
        sub = layer_module(flat, in_type, types[layer.name], name=prefix + layer.name)
        parts.append(sub.text)
        conns = []
        if sub.in_width:
            bus = [wires[s] for s in reversed(layer.inputs) if wires[s] is not None]
            conns.append(f".x({bus[0] if len(bus) == 1 else '{' + ', '.join(bus) + '}'})")
        wires[layer.name] = None
        if sub.out_width:
            wire = f"t_{layer.name}"
            body.append(f"  wire [{sub.out_width - 1}:0] {wire};")
            conns.append(f".y({wire})")
            wires[layer.name] = wire
        body.append(f"  {sub.name} u_{layer.name}({', '.join(conns)});")
    result = wires[spec.output.inputs[0]]
    if out_width:
        body.append(f"  assign y = {result};")
    body.append("endmodule")
    return ReferenceModule(name, "\n".join(parts + body) + "\n", in_width, out_width)


from hgq_hw.prove import reference_merge as _reference_merge  # noqa: E402, F401  (its writers)
