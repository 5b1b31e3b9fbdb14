"""Model builders: quantized MLPs from a preset name, a TOML file, or sized from the data.

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
    sign_bits = false            # count a sign bit per negative weight in EBOPs (old count)
    grad_scale_on = "ebops"      # 1/sqrt(n) of a shared bit width: on "ebops" or "task"
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomllib

__all__ = ["PRESETS", "MLPConfig", "build_mlp", "resolve_model_config"]


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
    sign_bits: bool = False
    grad_scale_on: str = "ebops"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        hidden = tuple(self.hidden)
        if any(not isinstance(h, int) or isinstance(h, bool) or h < 1 for h in hidden):
            raise ValueError(f"hidden must be a list of positive integers, got {list(hidden)}")
        object.__setattr__(self, "hidden", hidden)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["hidden"] = list(self.hidden)
        out.pop("extra")
        return out


PRESETS: dict[str, MLPConfig] = {
    "jet": MLPConfig(hidden=(64, 32, 32), f_init=6.0, input_f_init=8.0),
    "digits": MLPConfig(hidden=(32,), f_init=6.0, input_f_init=4.0, weight_f_init=2.0),
}
"""``jet``: 16-64-32-32-5 (hls4ml jet tagging); ``digits``: 64-32-10 (weights start at 2
fractional bits: half of the Glorot-initialised weights start pruned, which moved the whole
digits front to about 0.6-0.7x the adders at equal accuracy, ``benchmarks/digits/RESULTS.md``)."""


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
    known = {f.name for f in fields(MLPConfig)} - {"extra"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown} (known: {sorted(known)})")
    if "hidden" not in data:
        raise ValueError(f"{path}: missing required key 'hidden' (a list of layer widths)")
    return MLPConfig(**data)


def build_mlp(config: MLPConfig, n_features: int, n_classes: int, *, name: str = "hgq_mlp") -> Any:
    """``QInput -> (QDense -> QActivation(relu))* -> QDense [-> QActivation]`` as a Sequential."""
    import keras

    from hgq_train.layers import QActivation, QDense, QDenseBatchNorm, QInput

    common = {
        "granularity": config.granularity,
        "gamma": config.gamma,
        "grad_scale_on": config.grad_scale_on,
    }
    layers: list[Any] = [
        keras.Input(shape=(n_features,)),
        QInput(
            f_init=config.input_f_init,
            round_mode=config.round_mode,
            overflow=config.overflow,
            name="inp_q",
            **common,
        ),
    ]
    dense = QDenseBatchNorm if config.batch_norm else QDense
    for n, width in enumerate(config.hidden):
        layers.append(
            dense(
                width,
                f_init=config.f_init,
                round_mode=config.round_mode,
                sign_bits=config.sign_bits,
                kernel_f_init=config.weight_f_init,
                kernel_init_bits=config.weight_init_bits or None,
                name=f"dense{n}",
                **common,
            )
        )
        layers.append(
            QActivation(
                "relu",
                f_init=config.f_init,
                round_mode=config.round_mode,
                overflow=config.overflow,
                name=f"relu{n}",
                **common,
            )
        )
    layers.append(
        QDense(
            n_classes,
            f_init=config.f_init,
            round_mode=config.round_mode,
            sign_bits=config.sign_bits,
            kernel_f_init=config.weight_f_init,
            kernel_init_bits=config.weight_init_bits or None,
            name="logits",
            **common,
        )
    )
    if config.output_quantizer:
        layers.append(
            QActivation(
                "linear",
                f_init=config.f_init,
                round_mode=config.round_mode,
                overflow=config.overflow,
                name="out_q",
                **common,
            )
        )
    return keras.Sequential(layers, name=name)
