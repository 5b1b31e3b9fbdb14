"""hgq_train: High Granularity Quantization training in Keras 3 on TensorFlow.

The only package that imports TensorFlow or Keras. Importing ``hgq_train`` itself is cheap; the
Keras parts load on first use, so ``hgq doctor`` or ``hgq gen`` never pay for TensorFlow.

Main entry points (loaded lazily): :func:`export` (model -> spec), :func:`compile_hgq`,
:func:`train_dataset`, :func:`build_mlp`, :func:`build_cnn`, :func:`build_model`,
:func:`load_model`, and the modules ``ebops``,
``layers``, ``callbacks``, ``data``, ``quantizers``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "build_cnn",
    "build_mlp",
    "build_model",
    "calibrate",
    "compile_hgq",
    "export",
    "load_model",
    "train_dataset",
    "verify",
]

_LAZY: dict[str, tuple[str, str]] = {
    "export": ("hgq_train.export", "export"),
    "verify": ("hgq_train.export", "verify"),
    "compile_hgq": ("hgq_train.training", "compile_hgq"),
    "calibrate": ("hgq_train.training", "calibrate"),
    "train_dataset": ("hgq_train.training", "train_dataset"),
    "build_mlp": ("hgq_train.models", "build_mlp"),
    "build_cnn": ("hgq_train.models", "build_cnn"),
    "build_model": ("hgq_train.models", "build_model"),
}


def load_model(path: str, *, compile: bool = False) -> Any:
    """Load a ``.keras`` file holding hgq_train layers.

    Uncompiled by default. With ``compile=True`` the saved optimizer state comes back too, but
    the loss is only the task loss: call :func:`compile_hgq` with ``optimizer=model.optimizer``
    to restore the EBOPs term and keep the optimizer state. A file that is not a Keras archive
    raises :class:`~hgq_hw.errors.InputFileError` naming it (Keras would say "not found").
    """
    from hgq_train.archive import check_keras_archive

    check_keras_archive(path)  # before Keras, which calls a corrupt file "not found"
    import keras

    import hgq_train.layers
    import hgq_train.training  # noqa: F401  (registers HGQLoss)

    return keras.models.load_model(path, compile=compile)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    if name in ("callbacks", "data", "ebops", "layers", "quantizers", "models", "training"):
        return importlib.import_module(f"hgq_train.{name}")
    raise AttributeError(f"module 'hgq_train' has no attribute {name!r}")
