"""What every layer kind gives the rest of ``hgq_train``: its EBOPs and its spec layers.

A layer kind is registered once, here: quantized layers subclass :class:`HGQLayer` (and so
answer for themselves), Keras layers that only move values around are registered with
:func:`register_pass_through`. :func:`node_for` is the one lookup that EBOPs, export and the
training loss use; :func:`model_graph` lists a model's layers with the layers they read (a
``Sequential`` model, or a functional one whose layers each read one tensor).

Bits travel between layers as flat per-element arrays (numpy float64, or tensors for the
loss), row-major, so a ``Flatten`` or ``Reshape`` changes nothing; a layer that works on
positions reshapes them to its own input shape.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from hgq_hw.fixed import Overflow
from hgq_hw.spec import LayerSpec

__all__ = [
    "Bits",
    "HGQLayer",
    "PassThrough",
    "ReshapeNode",
    "SpecContext",
    "model_graph",
    "node_for",
    "read_values",
    "register_pass_through",
    "spec_int",
    "spec_name",
    "unsupported_layer",
]


class Bits(enum.Enum):
    """Where the bit widths of an EBOPs evaluation come from."""

    TRAINING = "training"
    """Differentiable tensors, activation integer bits from this epoch's running range."""
    ESTIMATE = "estimate"
    """Numpy, as :attr:`TRAINING` (the running range; weight bit lengths)."""
    EXACT = "exact"
    """Numpy, after calibration: calibrated activation widths, weight bit spans."""


@dataclass(frozen=True)
class SpecContext:
    """Export-wide settings handed to every :meth:`HGQLayer.to_spec`."""

    overflow: Overflow | None = None
    """Overflow mode of every quantizer in the spec (None: each quantizer's own)."""
    shaped: bool = False
    """Spec tensors keep the Keras shapes of one sample (channels last; spec schema version 2)
    and a ``Flatten``/``Reshape`` becomes a spec ``Reshape``. False (a model without spatial
    layers): every tensor is flat, as in version 1, and reshapes are free."""


def spec_name(name: str) -> str:
    """A Keras layer or model name as a spec name (``[A-Za-z_][A-Za-z0-9_]*``, at most
    ``MAX_NAME_LENGTH`` characters, ``_`` appended to a reserved name such as ``clk``)."""
    import hashlib

    from hgq_hw.spec import MAX_NAME_LENGTH, is_reserved

    clean = re.sub(r"[^A-Za-z0-9_]", "_", name)
    clean = clean if re.match(r"^[A-Za-z_]", clean) else f"l_{clean}"
    if is_reserved(clean):
        clean += "_"
    if len(clean) > MAX_NAME_LENGTH:
        digest = hashlib.sha1(clean.encode()).hexdigest()[:8]
        clean = f"{clean[: MAX_NAME_LENGTH - 9]}_{digest}"
    return clean


def flat_int(a: np.ndarray) -> np.ndarray:
    """``a`` as a flat int64 array (spec tensors are flat, row-major)."""
    return np.asarray(a, dtype=np.int64).reshape(-1)


def spec_int(a: np.ndarray, context: SpecContext) -> np.ndarray:
    """``a`` as an int64 array of its own shape when ``context.shaped``, else flat."""
    a = np.asarray(a, dtype=np.int64)
    return a.copy() if context.shaped else a.reshape(-1)


class HGQLayer:
    """Mixin of the quantized layers: each computes its own EBOPs and its own spec layers.

    ``input_bits`` is the flat per-element bit width of the layer's input (None when the input
    is not quantized, e.g. the model input or a dense accumulator). ``spatial``: the layer
    works on positions (convolutions, pools), so its spec needs shaped tensors
    (:attr:`SpecContext.shaped`).
    """

    spatial: bool = False

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        """Bits of this layer's output elements (flat), or None if the output is unquantized."""
        raise NotImplementedError

    def ebops(self, input_bits: Any, source: Bits, *, sign_bits: bool | None = None) -> Any:
        """This layer's EBOPs (a float; a scalar tensor for :attr:`Bits.TRAINING`), or None if
        it costs none. ``sign_bits`` overrides the layer's own weight sign-bit convention."""
        return None

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        """Spec layers of this layer reading the spec tensors ``inputs`` (empty: the raw model
        input); the last one's output is this layer's output."""
        raise NotImplementedError


class PassThrough(HGQLayer):
    """Adapter of a Keras layer that only moves values (or is the identity in inference)."""

    def __init__(self, layer: keras.layers.Layer) -> None:
        self.layer = layer
        self.name = layer.name

    def output_bits(self, input_bits: Any, source: Bits) -> Any:
        return input_bits

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        return []


class ReshapeNode(PassThrough):
    """A ``Flatten`` or ``Reshape``: a spec ``Reshape`` to its output shape when the spec is
    shaped (nothing when the shape does not change, on flat specs, or before the input
    quantizer, whose ``Input`` then takes the reshaped shape)."""

    def to_spec(self, inputs: tuple[str, ...], context: SpecContext) -> list[LayerSpec]:
        if not inputs or not context.shaped:
            return []
        shape = tuple(int(n) for n in self.layer.output.shape[1:])
        if shape == tuple(int(n) for n in self.layer.input.shape[1:]):
            return []
        from hgq_hw.spec import ReshapeSpec

        return [ReshapeSpec(name=spec_name(self.name), inputs=inputs, shape=shape)]


PASS_THROUGH: dict[type, type[HGQLayer]] = {}
"""Keras layer classes that carry values through unchanged, with their adapter."""


def register_pass_through(cls: type, adapter: type[HGQLayer] = PassThrough) -> None:
    """Register a Keras layer class whose inference only moves values around."""
    PASS_THROUGH[cls] = adapter


register_pass_through(keras.layers.Flatten, ReshapeNode)
register_pass_through(keras.layers.Reshape, ReshapeNode)
register_pass_through(keras.layers.Dropout)


def unsupported_layer(layer: keras.layers.Layer) -> ValueError:
    """The error for a layer that EBOPs and export do not know (names the layer)."""
    known = ["QInput", "QActivation", "QDense", "QDenseBatchNorm", "QConv1D", "QConv2D"]
    known += ["QConv1DBatchNorm", "QConv2DBatchNorm", "QMaxPool1D", "QMaxPool2D"]
    known += ["QAvgPool1D", "QAvgPool2D", "QSoftmax"]
    known += [cls.__name__ for cls in PASS_THROUGH]
    return ValueError(
        f"layer {layer.name!r} ({type(layer).__name__}) is not supported by hgq_train yet "
        f"(supported: {', '.join(known)})"
    )


def node_for(layer: keras.layers.Layer) -> HGQLayer:
    """The object that answers :class:`HGQLayer`'s questions for ``layer``."""
    if isinstance(layer, HGQLayer):
        return layer
    adapter = PASS_THROUGH.get(type(layer))
    if adapter is None:
        raise unsupported_layer(layer)
    return adapter(layer)


def read_values(values: dict[str, Any], reads: tuple[str, ...]) -> Any:
    """What a layer reading ``reads`` is handed of per-layer ``values`` (bits, spec tensors):
    None for the model input, the one value, or a tuple for a merge."""
    if not reads:
        return None
    if len(reads) == 1:
        return values[reads[0]]
    return tuple(values[name] for name in reads)


def _functional_inputs(model: keras.Model) -> dict[str, tuple[str, ...]]:
    """Layer name -> names of the layers it reads, from a functional model's config."""
    out: dict[str, tuple[str, ...]] = {}
    for entry in model.get_config()["layers"]:
        nodes = entry.get("inbound_nodes", [])
        if len(nodes) > 1:
            raise ValueError(
                f"layer {entry['name']!r} is called {len(nodes)} times; hgq_train needs every "
                "layer to be used once"
            )
        names: list[str] = []
        for node in nodes:
            _collect_history(node.get("args", []), names)
        out[entry["name"]] = tuple(names)
    return out


def _collect_history(value: Any, names: list[str]) -> None:
    """Append the producing layer of every serialized Keras tensor found in ``value``."""
    if isinstance(value, dict):
        history = value.get("config", {}).get("keras_history") if "config" in value else None
        if value.get("class_name") == "__keras_tensor__" and history:
            names.append(history[0])
            return
        for item in value.values():
            _collect_history(item, names)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_history(item, names)


def model_graph(model: keras.Model) -> list[tuple[keras.layers.Layer, tuple[str, ...]]]:
    """``(layer, names of the layers it reads)`` in evaluation order, input layers left out
    (reading an input layer is reading the model input: an empty tuple).

    Raises ``ValueError`` for a layer that reads more than one tensor unless its kind takes
    that many (a merge, :mod:`hgq_train.layers.merge`, reads two quantized tensors: never
    the raw model input).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a keras.Model, got {type(model).__name__}")
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    inputs = {la.name for la in model.layers if isinstance(la, keras.layers.InputLayer)}
    if isinstance(model, keras.Sequential):
        previous = [None, *layers]
        reads = {la.name: ((p.name,) if p else ()) for p, la in zip(previous, layers)}
    else:
        reads = _functional_inputs(model)
    graph = []
    for layer in layers:
        sources = tuple(name for name in reads.get(layer.name, ()) if name not in inputs)
        read = reads.get(layer.name, ())
        arity = getattr(PASS_THROUGH.get(type(layer)), "arity", 1)
        if len(read) > 1 and len(read) != arity:
            raise ValueError(
                f"layer {layer.name!r} reads {len(read)} tensors; hgq_train layers read one "
                "(merging layers two)"
            )
        if arity > 1 and len(sources) != len(read):
            raise ValueError(
                f"merge layer {layer.name!r} reads the model input; quantize it first (QInput)"
            )
        graph.append((layer, sources))
    return graph
