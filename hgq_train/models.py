"""Model builders: quantized MLPs and CNNs from a preset name, a TOML file, or sized from the data.

A TOML model file (all keys optional except ``hidden``)::

    hidden = [64, 32, 32]        # hidden layer widths
    granularity = "element"      # bit-width sharing of kernels and activations
    f_init = 6.0                 # initial fractional bits of activations and biases
    weight_f_init = 6.0          # initial fractional bits of every weight (default: f_init)
    weight_init_bits = 0         # > 0: each weight starts with this many significant bits
                                 # for its magnitude instead (weight_f_init is then unused)
    input_f_init = 6.0           # initial fractional bits of the input quantizer
    round_mode = "RND"           # RND or TRN
    overflow = "WRAP"            # WRAP or SAT
    gamma = 1e-6                 # weight of gamma * sum(f)
    batch_norm = false           # QDenseBatchNorm instead of QDense in hidden layers
    output_quantizer = false     # a linear QActivation on the logits
    softmax = false              # a QSoftmax on the logits (outputs probabilities, bit-exact)
    activation = "relu"          # of the hidden layers: relu, linear, or a table function
                                 # (tanh, sigmoid, gelu, swish, softplus: a lookup table each)
    table_f_init = 3.0           # a table's input quantizer: initial fractional bits ...
    table_f_max = 4.0            # ... and at most these (a table has <= 2**(k+i+f) entries)
    table_out_f_init = 4.0       # a table's output quantizer: initial fractional bits
    skip = false                 # skip connections: a hidden layer of the same width as the
                                 # one before it gets that one's output added to its own
                                 # (keras Add, a functional model; the spec becomes a graph)
    sign_bits = false            # count a sign bit per negative weight in EBOPs (old count)
    grad_scale_on = "ebops"      # 1/sqrt(n) of a shared bit width: on "ebops" or "task"

A file with ``filters`` describes a CNN (:class:`CNNConfig`, for image datasets such as the
digits as 8x8x1 images; ``hidden`` then defaults to no hidden dense layer)::

    filters = [4, 8]             # QConv2D output channels, one entry per convolution
    kernel_size = 3              # square kernels
    padding = ["same", "valid"]  # per convolution
    pool = [2, 0]                # max pool size after each convolution's ReLU (0: none)
    hidden = []                  # dense layers after the Flatten, before the logits

(plus every key above except ``hidden``'s requirement; ``activation`` and ``skip`` apply to the
dense layers, the convolutions keep ReLU). The ``cnn`` preset is exactly this.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

__all__ = [
    "PRESETS",
    "CNNConfig",
    "MLPConfig",
    "build_cnn",
    "build_mlp",
    "build_model",
    "resolve_model_config",
]

HIDDEN_ACTIVATIONS = ("relu", "linear", "sigmoid", "tanh", "gelu", "swish", "softplus")
"""``activation`` values of a model config: ``relu``, ``linear`` or a table function of
:data:`hgq_train.layers.activation.TABLE_FUNCTIONS` (named here so that a config is checked
without importing Keras; a test keeps the two in step)."""


@dataclass(frozen=True)
class MLPConfig:
    """Architecture and quantizer settings of a quantized MLP (see the module docstring)."""

    hidden: tuple[int, ...] = (32,)
    granularity: str = "element"
    f_init: float = 6.0
    weight_f_init: float | None = None
    weight_init_bits: float = 0.0
    input_f_init: float = 6.0
    round_mode: str = "RND"
    overflow: str = "WRAP"
    gamma: float = 1e-6
    batch_norm: bool = False
    output_quantizer: bool = False
    softmax: bool = False
    sign_bits: bool = False
    grad_scale_on: str = "ebops"
    activation: str = "relu"
    table_f_init: float = 3.0
    table_f_max: float = 4.0
    table_out_f_init: float = 4.0
    skip: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hidden = tuple(self.hidden)
        if any(not isinstance(h, int) or isinstance(h, bool) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a list of positive integers, got {list(hidden)}")
        object.__setattr__(self, "hidden", hidden)
        if self.activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(HIDDEN_ACTIVATIONS)}, got "
                f"{self.activation!r}"
            )
        if not isinstance(self.skip, bool):
            raise ValueError(f"skip must be true or false, got {self.skip!r}")
        if self.skip and not self.skip_layers:
            raise ValueError(
                "skip needs two consecutive hidden layers of the same width (a skip connection "
                f"adds a layer's input to its output), got hidden = {list(hidden)}"
            )

    @property
    def is_table(self) -> bool:
        """Whether the hidden activations are lookup tables."""
        return self.activation not in ("relu", "linear")

    @property
    def skip_layers(self) -> tuple[int, ...]:
        """Indices ``n`` of the hidden layers whose input (hidden layer ``n - 1``'s output) is
        added to their own output when ``skip`` is on."""
        h = self.hidden
        return tuple(n for n in range(1, len(h)) if h[n] == h[n - 1])

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        out.pop("extra")
        return out


@dataclass(frozen=True)
class CNNConfig(MLPConfig):
    """A quantized CNN over images (see the module docstring): per convolution ``filters``,
    ``padding`` and a max ``pool`` size after its ReLU (0 or 1: none), square ``kernel_size``;
    then Flatten, the ``hidden`` dense layers (default none) and the logits."""

    hidden: tuple[int, ...] = ()
    filters: tuple[int, ...] = (4, 8)
    kernel_size: int = 3
    padding: tuple[str, ...] = ("same", "valid")
    pool: tuple[int, ...] = (2, 0)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("filters", "padding", "pool"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.filters or any(
            not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in self.filters
        ):
            raise ValueError(
                f"filters must be a non-empty list of positive integers, got {list(self.filters)}"
            )
        for name in ("padding", "pool"):
            if len(getattr(self, name)) != len(self.filters):
                raise ValueError(
                    f"{name} must have one entry per convolution ({len(self.filters)}), got "
                    f"{list(getattr(self, name))}"
                )
        if any(p not in ("valid", "same") for p in self.padding):
            raise ValueError(f"padding entries must be valid or same, got {list(self.padding)}")
        if any(not isinstance(p, int) or isinstance(p, bool) or p < 0 for p in self.pool):
            raise ValueError(f"pool entries must be integers >= 0, got {list(self.pool)}")
        if not isinstance(self.kernel_size, int) or self.kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive integer, got {self.kernel_size!r}")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        for name in ("filters", "padding", "pool"):
            out[name] = list(getattr(self, name))
        return out


PRESETS: dict[str, MLPConfig] = {
    "jet": MLPConfig(hidden=(64, 32, 32), f_init=6.0, input_f_init=8.0),
    "digits": MLPConfig(hidden=(32,), f_init=6.0, input_f_init=4.0, weight_f_init=2.0),
    "cnn": CNNConfig(f_init=6.0, input_f_init=4.0, weight_f_init=2.0),
    "mlp-softmax": MLPConfig(
        hidden=(32,),
        f_init=6.0,
        input_f_init=4.0,
        weight_f_init=2.0,
        softmax=True,
        overflow="SAT",
    ),
    "resmlp-softmax": MLPConfig(
        hidden=(16, 16),
        f_init=6.0,
        input_f_init=4.0,
        weight_f_init=2.0,
        activation="tanh",
        skip=True,
        softmax=True,
        overflow="SAT",
    ),
    "svhn": CNNConfig(
        filters=(16, 16, 24),
        kernel_size=3,
        padding=("valid", "valid", "valid"),
        pool=(2, 2, 2),
        hidden=(42, 64),
        batch_norm=True,
        f_init=6.0,
        input_f_init=8.0,
    ),
}
"""``jet``: 16-64-32-32-5 (hls4ml jet tagging); ``digits``: 64-32-10 (weights start at 2
fractional bits: half of the Glorot-initialised weights start pruned, which moved the whole
digits front to about 0.6-0.7x the adders at equal accuracy, ``benchmarks/digits/RESULTS.md``);
``cnn`` (image datasets, the digits as 8x8x1): QConv2D 4x3x3 same -> ReLU -> MaxPool 2 ->
QConv2D 8x3x3 valid -> ReLU -> Flatten -> QDense, with the digits preset's quantizer starts;
``mlp-softmax``: the ``digits`` MLP with a :class:`~hgq_train.layers.QSoftmax` on the logits
(the model outputs quantized probabilities, bit-exact in hardware; SAT overflow);
``resmlp-softmax`` (a graph, not a chain: issue 13's done-when in one model): QDense 16 -> tanh
table -> a -> QDense 16 -> tanh table -> b -> Add(a, b) (the skip connection; ``a`` feeds two
layers) -> QDense 10 -> QSoftmax, with the ``mlp-softmax`` quantizer starts;
``svhn`` (32x32x3 images, the HGQ paper's SVHN classifier): (QConv2DBatchNorm 3x3 valid -> ReLU
-> MaxPool 2) with 16, 16 and 24 filters -> Flatten (2x2x24 = 96) -> QDenseBatchNorm 42 -> ReLU
-> QDenseBatchNorm 64 -> ReLU -> QDense 10; the input quantizer starts at 8 fractional bits
(SVHN pixels are ``k / 255``)."""


def resolve_model_config(model: str | None, n_features: int, n_classes: int) -> MLPConfig:
    """A preset name, a TOML file path, or None (one hidden layer sized from the data)."""
    if model is None:
        width = int(min(64, max(8, 2 ** round((n_features + n_classes) ** 0.5).bit_length())))
        return MLPConfig(hidden=(width,))
    if model in PRESETS:
        return PRESETS[model]
    path = Path(model)
    if path.suffix != ".toml":
        raise ValueError(
            f"unknown model {model!r}: use a preset ({', '.join(sorted(PRESETS))}) or a .toml file"
        )
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    with path.open("rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from None
    kind = CNNConfig if "filters" in data else MLPConfig
    known = {f.name for f in fields(kind)} - {"extra"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown} (known: {sorted(known)})")
    if kind is MLPConfig and "hidden" not in data:
        raise ValueError(
            f"{path}: missing required key 'hidden' (a list of layer widths; or 'filters' "
            "for a CNN)"
        )
    try:
        return kind(**data)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from None


def build_model(
    config: MLPConfig, n_features: int, n_classes: int, *, image_shape: tuple[int, ...] | None
) -> Any:
    """:func:`build_cnn` for a :class:`CNNConfig` (which needs ``image_shape``, the dataset's
    ``(rows, cols, channels)``), :func:`build_mlp` otherwise."""
    if isinstance(config, CNNConfig):
        if image_shape is None:
            raise ValueError(
                "a CNN model needs an image dataset (such as digits, 8x8x1 images); this "
                f"dataset has {n_features} flat features and no image shape"
            )
        return build_cnn(config, image_shape, n_classes)
    return build_mlp(config, n_features, n_classes)


def _common(config: MLPConfig) -> dict[str, Any]:
    return {
        "granularity": config.granularity,
        "gamma": config.gamma,
        "grad_scale_on": config.grad_scale_on,
    }


def _kernel_options(config: MLPConfig) -> dict[str, Any]:
    """Keyword arguments of every weight layer (QDense, QConv) built from ``config``."""
    return {
        "f_init": config.f_init,
        "round_mode": config.round_mode,
        "sign_bits": config.sign_bits,
        "kernel_f_init": config.weight_f_init,
        "kernel_init_bits": config.weight_init_bits or None,
        **_common(config),
    }


def _activation_options(config: MLPConfig) -> dict[str, Any]:
    """Keyword arguments of every activation quantizer (QActivation, QSoftmax) from ``config``."""
    return {
        "f_init": config.f_init,
        "round_mode": config.round_mode,
        "overflow": config.overflow,
        **_common(config),
    }


def _input_quantizer(config: MLPConfig) -> Any:
    from hgq_train.layers import QInput

    return QInput(
        f_init=config.input_f_init,
        round_mode=config.round_mode,
        overflow=config.overflow,
        name="inp_q",
        **_common(config),
    )


def _hidden_activation(config: MLPConfig, n: int) -> Any:
    """The activation of hidden layer ``n``: ``relu{n}`` (or ``linear{n}``), or a table
    ``{activation}{n}`` with the config's table quantizer starts."""
    from hgq_train.layers import QActivation

    options = _activation_options(config)
    if config.is_table:
        options.update(
            f_init=config.table_f_init,
            f_max=config.table_f_max,
            out_f_init=config.table_out_f_init,
        )
    return QActivation(config.activation, name=f"{config.activation}{n}", **options)


def _head_layers(config: MLPConfig, n_classes: int) -> tuple[list[tuple[Any, Any]], list[Any]]:
    """The dense head's layers: ``(QDense, activation)`` per hidden layer, then the logits'
    QDense [and a QSoftmax or linear QActivation]."""
    from hgq_train.layers import QActivation, QDense, QDenseBatchNorm, QSoftmax

    kernel, activation = _kernel_options(config), _activation_options(config)
    dense = QDenseBatchNorm if config.batch_norm else QDense
    hidden = [
        (dense(width, name=f"dense{n}", **kernel), _hidden_activation(config, n))
        for n, width in enumerate(config.hidden)
    ]
    tail: list[Any] = [QDense(n_classes, name="logits", **kernel)]
    if config.softmax:
        tail.append(QSoftmax(name="softmax", **activation))
    elif config.output_quantizer:
        tail.append(QActivation("linear", name="out_q", **activation))
    return hidden, tail


def _dense_head(config: MLPConfig, n_classes: int) -> list[Any]:
    """``(QDense -> activation)* -> QDense [-> QSoftmax | QActivation]`` of ``config``, as a
    list of layers for a Sequential (``config.skip`` off)."""
    hidden, tail = _head_layers(config, n_classes)
    return [*(layer for block in hidden for layer in block), *tail]


def _dense_head_graph(config: MLPConfig, x: Any, n_classes: int) -> Any:
    """The dense head applied to the tensor ``x`` with the skip connections of ``config``
    (``Add(h[n - 1], h[n])`` for each ``n`` in :attr:`MLPConfig.skip_layers`, named
    ``skip{n}``); returns the output tensor."""
    import keras

    hidden, tail = _head_layers(config, n_classes)
    skips = set(config.skip_layers) if config.skip else set()
    for n, (dense, activation) in enumerate(hidden):
        h = activation(dense(x))
        x = keras.layers.Add(name=f"skip{n}")([x, h]) if n in skips else h
    for layer in tail:
        x = layer(x)
    return x


def _head_model(config: MLPConfig, prefix: list[Any], n_classes: int, name: str) -> Any:
    """A Sequential of ``prefix`` (a ``keras.Input`` first, then layers) and the dense head,
    or with ``config.skip`` a functional model of the same layers and the skip connections."""
    import keras

    if not config.skip:
        return keras.Sequential([*prefix, *_dense_head(config, n_classes)], name=name)
    inputs = x = prefix[0]
    for layer in prefix[1:]:
        x = layer(x)
    return keras.Model(inputs, _dense_head_graph(config, x, n_classes), name=name)


def build_cnn(
    config: CNNConfig, image_shape: tuple[int, ...], n_classes: int, *, name: str = "hgq_cnn"
) -> Any:
    """``Reshape(image) -> QInput -> (QConv2D -> QActivation(relu) [-> QMaxPool2D])* -> Flatten
    -> dense head`` (its activations and skip connections as for :func:`build_mlp`; the
    convolutions' activations are ReLU) as a model taking flat samples of
    ``prod(image_shape)`` features (row-major, channels last), so the data stay as flat as an
    MLP's."""
    import math

    import keras

    from hgq_train.layers import QActivation, QConv2D, QConv2DBatchNorm, QMaxPool2D

    if len(image_shape) != 3:
        raise ValueError(f"image_shape must be (rows, cols, channels), got {image_shape}")
    kernel, activation = _kernel_options(config), _activation_options(config)
    conv = QConv2DBatchNorm if config.batch_norm else QConv2D
    layers: list[Any] = [
        keras.Input(shape=(math.prod(image_shape),)),
        keras.layers.Reshape(tuple(image_shape), name="image"),
        _input_quantizer(config),
    ]
    for n, (filters, padding, pool) in enumerate(zip(config.filters, config.padding, config.pool)):
        layers.append(
            conv(
                filters,
                config.kernel_size,
                padding=padding,
                name=f"conv{n}",
                **kernel,
            )
        )
        layers.append(
            QActivation(
                "relu",
                name=f"conv_relu{n}",
                **activation,
            )
        )
        if pool > 1:
            layers.append(QMaxPool2D(pool, name=f"pool{n}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    return _head_model(config, layers, n_classes, name)


def build_mlp(config: MLPConfig, n_features: int, n_classes: int, *, name: str = "hgq_mlp") -> Any:
    """``QInput -> (QDense -> activation)* -> QDense [-> QSoftmax | QActivation]`` as a
    Sequential; with ``config.skip`` a functional model with the skip connections (``Add``)."""
    import keras

    layers = [keras.Input(shape=(n_features,)), _input_quantizer(config)]
    return _head_model(config, layers, n_classes, name)
