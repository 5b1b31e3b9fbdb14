"""Reproducible training: one call that seeds every generator and pins TensorFlow's kernels.

``keras.utils.set_random_seed`` alone seeds Python's ``random``, NumPy and TensorFlow's global
generator (initialisers, ``tf.data`` shuffles without their own seed), but TensorFlow's CPU
kernels may still sum in an order that depends on thread timing, so two runs with the same seed
can drift apart by rounding and then, through the bit-width rounding of HGQ, by whole bits.
``tf.config.experimental.enable_op_determinism()`` makes every op pick a fixed order (or raise
when it has none); XLA-compiled steps (``jit_compile=True``) are covered by the same switch.

The switch is process-wide in TensorFlow; :func:`seed_training` sets it on or off for every
model trained afterwards in the process. Keras 3 refuses ``jit_compile=True`` (falls back to
no XLA, with a warning) while the switch is on, because some ops have no deterministic XLA
kernel on GPUs; on a CPU the XLA-compiled training step of an HGQ model is reproducible, so
:func:`allow_xla` lifts the switch for the duration of ``model.compile`` only
(:func:`hgq_train.training.compile_hgq` does this).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["allow_xla", "determinism_enabled", "kept_op_determinism", "seed_training"]


def seed_training(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy, TensorFlow and Keras with ``seed``; with ``deterministic`` switch
    TensorFlow's op determinism on (off otherwise). Call before building the model."""
    import keras
    from tensorflow.python.framework import config as tf_config

    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf_config.enable_op_determinism()
    else:
        tf_config.disable_op_determinism()


def determinism_enabled() -> bool:
    """Whether TensorFlow's op determinism is on in this process."""
    from tensorflow.python.framework import config as tf_config

    return bool(tf_config.is_op_determinism_enabled())


@contextmanager
def allow_xla(jit_compile: object) -> Iterator[None]:
    """While ``jit_compile is True``, op determinism off (put back on afterwards if it was on):
    wrap ``model.compile`` in it so that Keras keeps XLA (see the module docstring)."""
    from tensorflow.python.framework import config as tf_config

    lift = jit_compile is True and determinism_enabled()
    if lift:
        tf_config.disable_op_determinism()
    try:
        yield
    finally:
        if lift:
            tf_config.enable_op_determinism()


@contextmanager
def kept_op_determinism() -> Iterator[None]:
    """Put TensorFlow's op determinism back as it was on entry when the block ends (so that
    a training run that switched it does not change the rest of the process)."""
    from tensorflow.python.framework import config as tf_config

    was = determinism_enabled()
    try:
        yield
    finally:
        if was:
            tf_config.enable_op_determinism()
        else:
            tf_config.disable_op_determinism()
