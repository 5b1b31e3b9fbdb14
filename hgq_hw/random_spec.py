"""Random valid specs for fuzzing every stage (reference, generator, cocotb, boards).

:func:`random_spec` draws a chain ``Input -> [Dense -> (ReLU) -> Requantize -> (ReLU)] * depth ->
Output`` and puts the corners in on purpose: width-0 inputs, pruned weights, whole pruned rows
(an input nobody reads) and columns (an output that is only its bias), extreme weight values
(``+-(2**b - 1)`` and ``-2**b``), negative ``i`` and ``f``, requantizers that drop fractional bits
(so rounding matters) and that are narrower than their input (so WRAP and SAT engage), and
unsigned requantizers fed with signed values.

With ``table > 0`` a lookup table (``Table``) follows some requantizers, behind its own narrow
input requantizer (as a trained table activation exports): tables of 1 to ``2**table_bits``
entries, width-0 inputs (one entry) and outputs, extreme entries (the output type's minimum and
maximum), and tables shared between elements next to distinct ones.
With ``spatial=1`` or ``2`` the chain starts on a channels-last ``(length, channels)`` or
``(height, width, channels)`` input with ``conv_depth`` blocks ``Conv -> (ReLU) -> Requantize
-> (ReLU) -> (MaxPool | AvgPool (-> Requantize))`` (``"valid"``/``"same"`` padding, strides, pruned
kernels and whole pruned taps, zero-width channels), then a ``Reshape`` to 1-d and the Dense
chain above. ``spatial=0`` (the default) draws exactly the specs it always drew.

With ``merges > 0`` the spec becomes a graph: after the chain come ``merges`` blocks, each an
``Add``, ``Subtract``, ``Multiply`` or ``Concatenate`` of the latest tensor with a skip
connection (an earlier tensor of the same shape, the Input included), with itself, or with a
new branch (``Dense -> Requantize`` from any earlier 1-d tensor, so the branches differ in
depth and latency); a tensor thus feeds several layers. A requantizer follows a Multiply
(and often an Add or Subtract) so widths stay bounded, and a ``Dense -> Requantize`` tail
now and then puts the merge in the middle of the network. ``merges=0`` (the default) draws
exactly the chains it always drew.

With ``softmax > 0`` the network ends, with that probability, in a softmax block of exactly the
kinds an exported :class:`~hgq_train.layers.QSoftmax` has (names ``sm_*``): ``Requantize``
(``sm_in``) -> ``Reshape`` to ``(n, 1)`` -> ``MaxPool`` of ``n`` -> ``Reshape`` to ``(1,)`` ->
``Dense`` of ones (the broadcast) -> ``Subtract`` (``x - max``) -> table input ``Requantize``
+ ``Table`` of ``exp`` -> ``Dense`` of ones (the sum) -> ``Requantize`` + ``Table`` of
``1 / max(s, 1)`` -> ``Dense`` of ones -> ``Multiply`` -> ``Requantize`` (``sm``). The two
tables hold the functions themselves, rounded to the nearest and clipped to drawn output types
(which may be too narrow, signed or unsigned: the clipping corners), over every raw input of
their drawn narrow input types (WRAP or SAT). As training calibrates a QSoftmax, ``sm_in`` and
the table inputs get the integer bits that hold the values reaching them on random inputs
(now and then one fewer, the overflow corner, or one more), and their widths, like those of
the tables' and ``sm``'s outputs in ``(0, 1]``, come from the upper half of the allowed range:
so the probabilities vary with the input. ``softmax=0`` (the default) draws what it always
drew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from hgq_hw.fixed import MAX_EXPONENT, MAX_WIDTH, Overflow, Round, TensorType
from hgq_hw.inputs import random_raw
from hgq_hw.reference import evaluate, infer_types, input_bounds
from hgq_hw.spec import (
    MAX_TABLE_INPUT_BITS,
    AddSpec,
    AvgPoolSpec,
    ConcatenateSpec,
    ConvSpec,
    DenseSpec,
    InputSpec,
    LayerSpec,
    MaxPoolSpec,
    ModelSpec,
    MultiplySpec,
    OutputSpec,
    Padding,
    ReLUSpec,
    RequantizeSpec,
    ReshapeSpec,
    SubtractSpec,
    TableSpec,
)

MERGE_KINDS = ("Add", "Subtract", "Multiply", "Concatenate")
"""The merge kinds :func:`random_spec` draws with ``merges > 0``."""

_MERGE_CLASSES = {
    "Add": AddSpec,
    "Subtract": SubtractSpec,
    "Multiply": MultiplySpec,
    "Concatenate": ConcatenateSpec,
}

SOFTMAX_KINDS = (
    "Requantize",
    "Reshape",
    "MaxPool",
    "Dense",
    "Subtract",
    "Table",
    "Multiply",
)
"""The kinds of the softmax block :func:`random_spec` draws with ``softmax > 0`` (those of an
exported ``QSoftmax``)."""

__all__ = ["JET_LIKE", "MERGE_KINDS", "SOFTMAX_KINDS", "jet_like_spec", "random_spec"]


def _check_range(name: str, pair: tuple[int, int], lowest: int, highest: int) -> None:
    lo, hi = pair
    if not lowest <= lo <= hi <= highest:
        raise ValueError(f"{name} must satisfy {lowest} <= low <= high <= {highest}, got {pair}")


def _random_type(
    rng: np.random.Generator,
    n: int,
    bits: tuple[int, int],
    f_range: tuple[int, int],
    zero_width: float,
) -> TensorType:
    k = rng.integers(0, 2, n)
    width = rng.integers(max(bits[0], 1), bits[1] + 1, n)
    width = np.where(rng.random(n) < zero_width, 0, np.maximum(width, k))
    k = np.where(width == 0, 0, k)
    f = rng.integers(f_range[0], f_range[1] + 1, n)
    f = np.clip(f, width - k - MAX_EXPONENT, width - k + MAX_EXPONENT)  # keeps |i| in range
    return TensorType(k, width - k - f, f)


def _random_weights(
    rng: np.random.Generator,
    n_in: int,
    n_out: int,
    weight_bits: tuple[int, int],
    f_range: tuple[int, int],
    prune: float,
) -> tuple[np.ndarray, np.ndarray]:
    bits = rng.integers(weight_bits[0], weight_bits[1] + 1, (n_in, n_out))
    top = (1 << bits) - 1
    raw = rng.integers(-top, top + 1)
    corner = rng.random((n_in, n_out))
    raw = np.where(corner < 0.1, top, raw)
    raw = np.where((corner >= 0.1) & (corner < 0.2), -top - 1, raw)
    raw = np.where(rng.random((n_in, n_out)) < prune, 0, raw)
    if n_in > 1 and rng.random() < 0.3:
        raw[rng.integers(n_in), :] = 0  # an input no output reads
    if n_out > 1 and rng.random() < 0.3:
        raw[:, rng.integers(n_out)] = 0  # an output that is only its bias
    f = rng.integers(f_range[0], f_range[1] + 1, (n_in, n_out))
    return raw.astype(np.int64), f.astype(np.int64)


def _requantize_type(
    rng: np.random.Generator,
    incoming: TensorType,
    act_bits: tuple[int, int],
    zero_width: float,
) -> TensorType:
    """A target type near the incoming one: fewer fractional bits, often too few integer bits."""
    n = incoming.shape[0]
    f = incoming.f - rng.integers(-1, 4, n)
    f = np.clip(f, -MAX_EXPONENT, MAX_EXPONENT)
    k = np.where(rng.random(n) < 0.8, incoming.k, 1 - incoming.k)
    keep_range = rng.random(n) < 0.3
    i_keep = incoming.i + (incoming.k - k)  # same upper bound when the sign bit moves
    width_drawn = rng.integers(max(act_bits[0], 1), act_bits[1] + 1, n)
    i_drawn = width_drawn - k - f
    i = np.where(keep_range, i_keep, i_drawn)
    width = np.clip(k + i + f, 0, min(MAX_WIDTH, act_bits[1]))
    width = np.where(rng.random(n) < zero_width, 0, width)
    k = np.where(width == 0, 0, k)
    # Clipping i keeps |i| and |f| within MAX_EXPONENT and the width within [0, MAX_WIDTH].
    i = np.clip(width - k - f, -MAX_EXPONENT, MAX_EXPONENT)
    return TensorType(k, i, f)


def _table_spec(
    name: str, source: str, tables: list[np.ndarray], table_of: list[int], out: TensorType
) -> TableSpec:
    """The Table layer of ``tables`` (element ``e`` reads ``tables[table_of[e]]``) typed ``out``."""
    return TableSpec(
        name=name,
        inputs=(source,),
        tables=tables,
        table_of=np.array(table_of, dtype=np.int64),
        k=out.k,
        i=out.i,
        f=out.f,
    )


def _random_table_layer(
    rng: np.random.Generator,
    name: str,
    source: str,
    in_type: TensorType,
    act_bits: tuple[int, int],
    f_range: tuple[int, int],
    zero_width: float,
) -> TableSpec:
    """A Table on ``in_type`` (1-d) with random entries, some tables shared between elements."""
    n = in_type.shape[0]
    out = _random_type(rng, n, act_bits, f_range, zero_width)
    lo, hi = out.raw_bounds()
    tables: list[np.ndarray] = []
    table_of: list[int] = []
    seen: dict[tuple[int, int, int], int] = {}
    for e in range(n):
        size = 1 << max(int(in_type.width[e]), 0)
        key = (size, int(lo[e]), int(hi[e]))
        if key in seen and rng.random() < 0.6:
            table_of.append(seen[key])  # shared with an earlier element
            continue
        entries = rng.integers(int(lo[e]), int(hi[e]) + 1, size)
        if size > 2:
            entries[int(rng.integers(size))] = int(lo[e])
            entries[int(rng.integers(size))] = int(hi[e])
        seen[key] = len(tables)
        table_of.append(len(tables))
        tables.append(entries.astype(np.int64))
    return _table_spec(name, source, tables, table_of, out)


def _function_table(
    name: str,
    source: str,
    in_type: TensorType,
    out_type: TensorType,
    function: Callable[[np.ndarray], np.ndarray],
) -> TableSpec:
    """A Table of ``function`` over every raw input of ``in_type`` (1-d): the real result
    rounded to the nearest raw value of ``out_type`` (half up) and clipped to its range;
    elements with identical tables share one."""
    lo, hi = out_type.raw_bounds()
    in_lo, _ = in_type.raw_bounds()
    tables: list[np.ndarray] = []
    index: dict[bytes, int] = {}
    table_of: list[int] = []
    for e in range(in_type.shape[0]):
        raw_in = int(in_lo[e]) + np.arange(1 << max(int(in_type.width[e]), 0))
        real = function(np.ldexp(raw_in.astype(np.float64), -int(in_type.f[e])))
        raw = np.floor(np.ldexp(real, int(out_type.f[e])) + 0.5)
        entries = np.clip(raw, int(lo[e]), int(hi[e])).astype(np.int64)
        key = entries.tobytes()
        if key not in index:
            index[key] = len(tables)
            tables.append(entries)
        table_of.append(index[key])
    return _table_spec(name, source, tables, table_of, out_type)


def _upper_half_width(rng: np.random.Generator, bits: tuple[int, int], n: int) -> np.ndarray:
    """``n`` widths drawn from the upper half of ``bits`` (at least 1): those of trained
    quantizers around a softmax, where a narrower one rounds most values to one or two."""
    low = max(bits[0], (bits[1] + 1) // 2, 1)
    return rng.integers(low, max(bits[1], low) + 1, n)


def _unit_type(
    rng: np.random.Generator, n: int, bits: tuple[int, int], zero_width: float
) -> TensorType:
    """An output type for values in ``(0, 1]`` (a softmax's exp, reciprocal and output): mostly
    unsigned, 1 integer bit (1.0 exact) or 0 (1.0 saturates) or 2 or -1 (no room for 1.0:
    clipped entries), the rest of the drawn width fractional. The width comes from the upper
    half of ``bits``, as a trained softmax's (a narrower one rounds most values to 0 or 1)."""
    k = (rng.random(n) < 0.2).astype(np.int64)
    width = np.maximum(_upper_half_width(rng, bits, n), k)
    width = np.where(rng.random(n) < zero_width, 0, width)
    k = np.where(width == 0, 0, k)
    i = np.where(width == 0, 0, rng.choice([-1, 0, 1, 1, 2], n))
    return TensorType(k, i, width - k - i)


def _exp(x: np.ndarray) -> np.ndarray:
    """``exp`` kept finite (a table input of up to ``2**MAX_EXPONENT``)."""
    return np.exp(np.minimum(x, 700.0))


def _reciprocal(s: np.ndarray) -> np.ndarray:
    """The softmax's reciprocal table: ``1 / max(s, 1)``."""
    return 1.0 / np.maximum(s, 1.0)


CALIBRATION_SAMPLES = 64
"""Random inputs :func:`random_spec` runs through the network so far to calibrate the integer
bits of a softmax block's requantizers, as training calibrates a QSoftmax's."""


def _observed_range(
    spec: ModelSpec, seed: int, samples: int = CALIBRATION_SAMPLES
) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest real value per element of ``spec``'s (1-d) output over ``samples``
    raw inputs drawn uniformly over the input types, and the min / max / zero corner rows.
    The inputs come from a generator of their own (``seed``), so calibrating draws nothing
    from the spec's."""
    rng = np.random.default_rng((seed, 0x50F7))
    lo, hi = (np.asarray(b, dtype=object).reshape(-1) for b in input_bounds(spec))
    x = np.concatenate([np.stack([lo, hi, np.zeros_like(lo)]), random_raw(lo, hi, samples, rng)])
    raw = np.asarray(evaluate(spec, x), dtype=object).reshape(len(x), -1)
    scale = np.ldexp(1.0, -infer_types(spec)[spec.layers[-1].inputs[0]].f.astype(np.int64))
    real = raw.astype(np.float64) * scale
    return real.min(axis=0), real.max(axis=0)


def _calibrated_i(
    rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, k: np.ndarray, fallback: np.ndarray
) -> np.ndarray:
    """Integer bits per element that hold the observed range ``[lo, hi]`` (signed where ``k``;
    an unsigned type holds only ``hi``), then one fewer (the overflow corner) or one more now
    and then; ``fallback`` where the range is a single value 0."""
    magnitude = np.where(k == 1, np.maximum(-lo, hi), np.maximum(hi, 0.0))
    i = np.where(magnitude > 0, np.ceil(np.log2(np.maximum(magnitude, 1e-300))), fallback)
    i = i + (np.where(k == 1, magnitude, 0) == np.exp2(i))  # signed: 2**i itself needs one more
    i = i + rng.choice([-1, 0, 0, 0, 1], len(i))
    return np.clip(i, -MAX_EXPONENT, MAX_EXPONENT).astype(np.int64)


def _zero_channel(
    rng: np.random.Generator, t: TensorType, shape: tuple[int, ...], zero_width: float
) -> TensorType:
    """Now and then (probability ``4 * zero_width``) one whole channel of width 0 (flat type
    of a channels-last ``shape``)."""
    if shape[-1] < 2 or rng.random() >= 4 * zero_width:
        return t
    channel = np.zeros(shape, dtype=bool)
    channel[..., int(rng.integers(shape[-1]))] = True
    dead = channel.ravel()
    return TensorType(np.where(dead, 0, t.k), np.where(dead, 0, t.i), np.where(dead, 0, t.f))


def random_spec(
    seed: int,
    *,
    depth: int = 2,
    width: tuple[int, int] = (1, 8),
    input_bits: tuple[int, int] = (1, 8),
    act_bits: tuple[int, int] = (1, 10),
    weight_bits: tuple[int, int] = (1, 6),
    f_range: tuple[int, int] = (-2, 6),
    prune: float = 0.3,
    zero_width: float = 0.05,
    relu: float = 0.5,
    rounds: Sequence[Round] = (Round.TRN, Round.RND),
    overflows: Sequence[Overflow] = (Overflow.WRAP, Overflow.SAT),
    name: str | None = None,
    sizes: Sequence[int] | None = None,
    table: float = 0.0,
    table_bits: int = 4,
    spatial: int = 0,
    conv_depth: int = 1,
    extent: tuple[int, int] = (3, 6),
    channels: tuple[int, int] = (1, 3),
    pool: float = 0.5,
    merges: int = 0,
    merge_kinds: Sequence[str] = MERGE_KINDS,
    softmax: float = 0.0,
) -> ModelSpec:
    """A random valid spec; the same arguments always give the same spec.

    Parameters
    ----------
    seed:
        Seed of ``numpy.random.default_rng``.
    depth:
        Number of Dense layers (0 gives ``Input -> Requantize -> Output``).
    width:
        Inclusive range of the element count of every tensor (input and each Dense output).
    input_bits, act_bits:
        Inclusive ranges of the bit widths of input elements and requantized activations.
    weight_bits:
        Inclusive range of the magnitude bits of non-pruned weights and biases.
    f_range:
        Inclusive range of fractional bits of inputs, weights and biases (may be negative).
    prune:
        Probability that a weight is pruned (raw 0); whole rows/columns are pruned now and then.
    zero_width:
        Probability that an input element or a requantized element has width 0.
    relu:
        Probability of a ReLU before or after each requantizer.
    rounds, overflows:
        Modes drawn for each requantizer and for the input quantizer.
    sizes:
        Exact element counts ``[inputs, dense1, dense2, ...]`` (e.g. the jet MLP
        ``[16, 64, 32, 32, 5]``); overrides ``depth`` and ``width``.
    table:
        Probability of a lookup table (an input requantizer of at most ``table_bits`` bits
        per element, then a ``Table``) after each requantizer. The default 0 draws nothing
        extra, so specs of earlier versions come out unchanged.
    table_bits:
        Widest table input (bits), at most ``MAX_TABLE_INPUT_BITS``.
    spatial:
        0: a Dense chain on a 1-d input. 1 or 2: a Conv1D / Conv2D network (see the module);
        ``width`` then only sizes the Dense layers after the Reshape and ``sizes`` is refused.
    conv_depth:
        Number of Conv blocks when ``spatial`` is 1 or 2.
    extent, channels:
        Inclusive ranges of each spatial size of the input and of the channel counts.
    pool:
        Probability of a pooling layer (Max or Avg, even odds) after each Conv block.
    merges:
        Number of merge blocks after the chain (0: a chain; see the module).
    merge_kinds:
        The kinds those blocks draw from (a subset of :data:`MERGE_KINDS`).
    softmax:
        Probability that the network ends in a softmax block (see the module; its table inputs
        have at most ``table_bits`` bits, at least 1). The default 0 draws nothing extra.
    """
    if sizes is not None:
        sizes = [int(n) for n in sizes]
        if not sizes or min(sizes) < 1:
            raise ValueError(f"sizes must be positive element counts, got {sizes}")
        depth = len(sizes) - 1
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    _check_range("width", width, 1, 1 << 16)
    _check_range("input_bits", input_bits, 0, MAX_WIDTH)
    _check_range("act_bits", act_bits, 0, MAX_WIDTH)
    _check_range("weight_bits", weight_bits, 1, 62)
    _check_range("f_range", f_range, -MAX_EXPONENT, MAX_EXPONENT)
    if not 0 <= table_bits <= MAX_TABLE_INPUT_BITS:
        raise ValueError(f"table_bits must lie in [0, {MAX_TABLE_INPUT_BITS}], got {table_bits}")
    if not 0.0 <= table <= 1.0:
        raise ValueError(f"table must be a probability in [0, 1], got {table}")
    if not 0.0 <= softmax <= 1.0:
        raise ValueError(f"softmax must be a probability in [0, 1], got {softmax}")
    if not rounds or not overflows:
        raise ValueError("rounds and overflows need at least one mode each")
    if merges < 0:
        raise ValueError(f"merges must be >= 0, got {merges}")
    unknown = sorted(set(merge_kinds) - set(MERGE_KINDS))
    if unknown or (merges and not merge_kinds):
        raise ValueError(f"merge_kinds must be some of {MERGE_KINDS}, got {list(merge_kinds)}")
    rng = np.random.default_rng(seed)

    def pick(options: Sequence) -> object:
        return options[int(rng.integers(len(options)))]

    def count(index: int) -> int:
        drawn = int(rng.integers(width[0], width[1] + 1))
        return drawn if sizes is None else sizes[index]

    if spatial not in (0, 1, 2):
        raise ValueError(f"spatial must be 0, 1 or 2, got {spatial}")
    if spatial and sizes is not None:
        raise ValueError("sizes describes a Dense chain; it cannot be combined with spatial")
    if spatial:
        _check_range("extent", extent, 1, 1 << 10)
        _check_range("channels", channels, 1, 1 << 10)
        if conv_depth < 1:
            raise ValueError(f"conv_depth must be >= 1, got {conv_depth}")
    n = count(0) if not spatial else 0
    shape: tuple[int, ...] = (n,)
    if spatial:
        shape = (
            *(int(v) for v in rng.integers(extent[0], extent[1] + 1, spatial)),
            int(rng.integers(channels[0], channels[1] + 1)),
        )
    in_type = _random_type(rng, int(np.prod(shape)), input_bits, f_range, zero_width)
    if spatial:
        in_type = _zero_channel(rng, in_type, shape, zero_width)
    layers: list[LayerSpec] = [
        InputSpec(
            name="x",
            k=in_type.k.reshape(shape),
            i=in_type.i.reshape(shape),
            f=in_type.f.reshape(shape),
            round=pick(rounds),
            overflow=pick(overflows),
        )
    ]

    def partial(extra: list[LayerSpec]) -> ModelSpec:
        chain = layers + extra
        return ModelSpec("partial", [*chain, OutputSpec(name="out", inputs=(chain[-1].name,))])

    def add_requantize(label: str, t: TensorType, shape: tuple[int, ...] | None = None) -> None:
        """A Requantize ``label`` of the latest tensor to ``t`` (reshaped to ``shape``), its
        rounding and overflow drawn in that order."""
        shape = t.shape if shape is None else shape
        layers.append(
            RequantizeSpec(
                name=label,
                inputs=(layers[-1].name,),
                k=t.k.reshape(shape),
                i=t.i.reshape(shape),
                f=t.f.reshape(shape),
                round=pick(rounds),
                overflow=pick(overflows),
            )
        )

    def requantize(label: str) -> None:
        incoming = infer_types(partial([]))[layers[-1].name]
        q = _requantize_type(rng, incoming.flat(), act_bits, zero_width)
        if len(incoming.shape) > 1:
            q = _zero_channel(rng, q, incoming.shape, zero_width)
        add_requantize(label, q, incoming.shape)

    for index in range(conv_depth if spatial else 0):
        in_shape = partial([]).shape(layers[-1].name)
        padding = Padding.SAME if rng.random() < 0.5 else Padding.VALID
        window = tuple(int(rng.integers(1, min(3, m) + 1)) for m in in_shape[:-1])
        strides = [int(rng.integers(1, 3)) for _ in window]
        c_in, c_out = in_shape[-1], int(rng.integers(channels[0], channels[1] + 1))
        taps = int(np.prod(window))
        k_raw, k_f = _random_weights(rng, taps * c_in, c_out, weight_bits, f_range, prune)
        b_raw, b_f = _random_weights(rng, 1, c_out, weight_bits, f_range, 0.3)
        layers.append(
            ConvSpec(
                name=f"conv{index}",
                inputs=(layers[-1].name,),
                kernel_raw=k_raw.reshape(*window, c_in, c_out),
                kernel_f=k_f.reshape(*window, c_in, c_out),
                bias_raw=b_raw[0],
                bias_f=b_f[0],
                strides=strides,
                padding=padding,
            )
        )
        where_relu = rng.random()
        if where_relu < relu / 2:
            layers.append(ReLUSpec(name=f"crelu{index}a", inputs=(layers[-1].name,)))
        requantize(f"cq{index}")
        if relu / 2 <= where_relu < relu:
            layers.append(ReLUSpec(name=f"crelu{index}b", inputs=(layers[-1].name,)))
        if rng.random() < pool:
            now = partial([]).shape(layers[-1].name)
            size = [int(rng.integers(1, min(2, m) + 1)) for m in now[:-1]]
            steps = [int(rng.integers(1, 3)) for _ in size]
            if rng.random() < 0.5:
                layers.append(
                    MaxPoolSpec(
                        name=f"maxpool{index}",
                        inputs=(layers[-1].name,),
                        pool_size=size,
                        strides=steps,
                    )
                )
            else:
                layers.append(
                    AvgPoolSpec(
                        name=f"avgpool{index}",
                        inputs=(layers[-1].name,),
                        pool_size=size,
                        strides=steps,
                    )
                )
                if rng.random() < 0.7:
                    requantize(f"pq{index}")
    if spatial:
        n = int(np.prod(partial([]).shape(layers[-1].name)))
        layers.append(ReshapeSpec(name="flatten", inputs=(layers[-1].name,), shape=[n]))

    for index in range(max(depth, 0 if spatial else 1)):
        if depth:
            n_out = count(index + 1)
            w_raw, w_f = _random_weights(rng, n, n_out, weight_bits, f_range, prune)
            b_raw, b_f = _random_weights(rng, 1, n_out, weight_bits, f_range, 0.3)
            layers.append(
                DenseSpec(
                    name=f"dense{index}",
                    inputs=(layers[-1].name,),
                    weight_raw=w_raw,
                    weight_f=w_f,
                    bias_raw=b_raw[0],
                    bias_f=b_f[0],
                )
            )
            n = n_out
        where_relu = rng.random()
        if where_relu < relu / 2:
            layers.append(ReLUSpec(name=f"relu{index}a", inputs=(layers[-1].name,)))
        incoming = infer_types(partial([]))[layers[-1].name]
        add_requantize(f"q{index}", _requantize_type(rng, incoming, act_bits, zero_width))
        if relu / 2 <= where_relu < relu:
            layers.append(ReLUSpec(name=f"relu{index}b", inputs=(layers[-1].name,)))
        if table and rng.random() < table:
            incoming = infer_types(partial([]))[layers[-1].name]
            t_in = _requantize_type(rng, incoming, (1, max(table_bits, 1)), zero_width)
            if table_bits == 0:
                t_in = TensorType(0 * t_in.k, 0 * t_in.i, 0 * t_in.f)
            add_requantize(f"t{index}_in", t_in)
            in_type = infer_types(partial([]))[layers[-1].name]
            layers.append(
                _random_table_layer(
                    rng, f"t{index}", layers[-1].name, in_type, act_bits, f_range, zero_width
                )
            )

    def dense_from(source: str, n_out: int, label: str) -> None:
        n_in = partial([]).shape(source)[0]
        w_raw, w_f = _random_weights(rng, n_in, n_out, weight_bits, f_range, prune)
        b_raw, b_f = _random_weights(rng, 1, n_out, weight_bits, f_range, 0.3)
        layers.append(
            DenseSpec(
                name=f"{label}_dense",
                inputs=(source,),
                weight_raw=w_raw,
                weight_f=w_f,
                bias_raw=b_raw[0],
                bias_f=b_f[0],
            )
        )
        requantize(f"{label}_q")

    for index in range(merges):
        spec_now = partial([])
        shapes = {layer.name: spec_now.shape(layer.name) for layer in layers}
        last = layers[-1].name
        kind = str(pick(list(merge_kinds)))
        same = [name for name, shape in shapes.items() if shape == shapes[last] and name != last]
        one_d = [name for name, shape in shapes.items() if len(shape) == 1]
        draw = rng.random()
        if kind != "Concatenate" and same and draw < 0.45:
            other = str(pick(same))  # a skip connection
        elif draw < 0.55:
            other = last  # the same tensor twice
        else:  # a new branch of its own depth
            size = shapes[last][0] if kind != "Concatenate" else count(0) if sizes is None else 2
            dense_from(str(pick(one_d)), size, f"branch{index}")
            other = layers[-1].name
        pair = (last, other) if rng.random() < 0.5 else (other, last)
        merge_class = _MERGE_CLASSES[kind]
        extra = {"axis": -1} if kind == "Concatenate" else {}
        layers.append(merge_class(name=f"{kind.lower()}{index}", inputs=pair, **extra))
        if kind == "Multiply" or (kind != "Concatenate" and rng.random() < 0.6):
            requantize(f"mq{index}")
        if rng.random() < 0.35:
            dense_from(layers[-1].name, count(0) if sizes is None else 2, f"tail{index}")

    def function_table(
        label: str,
        function: Callable[[np.ndarray], np.ndarray],
        signed: float,
        i_range: tuple[int, int],
        out_zero_width: float,
    ) -> None:
        """A narrow table input requantizer ``{label}_in`` (signed with probability
        ``signed``, integer bits calibrated on the latest (1-d) tensor's values, as training
        calibrates them, with ``i_range`` where those are all 0) and a Table ``label`` of
        ``function`` on it, its output elements of width 0 with probability
        ``out_zero_width``."""
        n_in = partial([]).shape(layers[-1].name)[0]
        k = (rng.random(n_in) < signed).astype(np.int64)
        widest = max(table_bits, 1)
        bits = np.maximum(rng.integers((widest + 1) // 2, widest + 1, n_in), k)
        fallback = rng.integers(i_range[0], i_range[1] + 1, n_in)
        i = _calibrated_i(rng, *_observed_range(partial([]), seed), k, fallback)
        add_requantize(f"{label}_in", TensorType(k, i, bits - k - i))
        in_type = infer_types(partial([]))[layers[-1].name]
        out = _unit_type(rng, in_type.shape[0], act_bits, out_zero_width)
        layers.append(_function_table(label, layers[-1].name, in_type, out, function))

    def logits_quantizer() -> None:
        """``sm_in``, a QSoftmax's input quantizer: signed as the incoming values are, integer
        bits calibrated on them, a width from the upper half of ``act_bits``."""
        incoming = infer_types(partial([]))[layers[-1].name].flat()
        n_in = incoming.shape[0]
        k = incoming.k
        width = np.maximum(_upper_half_width(rng, act_bits, n_in), k)
        i = _calibrated_i(rng, *_observed_range(partial([]), seed), k, incoming.i)
        add_requantize(
            "sm_in", TensorType(k, i, np.clip(width - k - i, -MAX_EXPONENT, MAX_EXPONENT))
        )

    if softmax and rng.random() < softmax:
        logits_quantizer()
        n = partial([]).shape("sm_in")[0]
        layers.append(ReshapeSpec(name="sm_col", inputs=("sm_in",), shape=[n, 1]))
        layers.append(
            MaxPoolSpec(name="sm_maxpool", inputs=("sm_col",), pool_size=[n], strides=[n])
        )
        layers.append(ReshapeSpec(name="sm_max", inputs=("sm_maxpool",), shape=[1]))
        layers.append(DenseSpec.ones("sm_max_b", "sm_max", 1, n))
        layers.append(SubtractSpec(name="sm_diff", inputs=("sm_in", "sm_max_b")))
        function_table("sm_exp", _exp, 0.9, (-1, 3), zero_width)  # x - max <= 0
        layers.append(DenseSpec.ones("sm_sum", "sm_exp", n, 1))
        # a sum >= 1; one reciprocal scales every output: width 0 would zero them all
        function_table("sm_recip", _reciprocal, 0.2, (0, 4), 0.0)
        layers.append(DenseSpec.ones("sm_recip_b", "sm_recip", 1, n))
        layers.append(MultiplySpec(name="sm_mul", inputs=("sm_exp", "sm_recip_b")))
        add_requantize("sm", _unit_type(rng, n, act_bits, zero_width))
    layers.append(OutputSpec(name="out", inputs=(layers[-1].name,)))
    return ModelSpec(
        name or f"random_{seed}", layers, metadata={"generator": "hgq_hw.random_spec", "seed": seed}
    )


JET_LIKE: dict = {
    "sizes": [16, 64, 32, 32, 5],
    "input_bits": (8, 8),
    "weight_bits": (1, 4),
    "act_bits": (4, 8),
    "f_range": (0, 4),
    "prune": 0.5,
    "zero_width": 0.0,
    "relu": 1.0,
}
"""Arguments of :func:`random_spec` for a network shaped like the paper's jet tagger
(16-64-32-32-5) with HGQ-like bit widths: 8-bit inputs, 1-4 bit weights with half pruned,
4-8 bit activations after ReLU."""


def jet_like_spec(seed: int = 0, name: str = "jet_like") -> ModelSpec:
    """``random_spec(seed, **JET_LIKE)``: the jet-shaped network the benchmarks measure."""
    return random_spec(seed, name=name, **JET_LIKE)
