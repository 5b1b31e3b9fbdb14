"""The TensorFlow process a training stage runs in: thread pools and a fresh Keras session.

For callers outside :mod:`hgq_train` (the sweep's Ray workers) that train several models in one
long-lived process and must not import TensorFlow or Keras themselves.
"""

from __future__ import annotations

import contextlib

__all__ = ["fresh_session", "limit_threads"]


def limit_threads(threads: int | None) -> None:
    """TensorFlow's intra- and inter-op thread pools of ``threads`` threads each (a worker's
    CPUs); ``None`` leaves TensorFlow's default. Process-wide, and only possible before
    TensorFlow runs its first op: later calls are ignored."""
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be None or an int >= 1, got {threads!r}")
    import tensorflow as tf

    with contextlib.suppress(RuntimeError):  # already initialised in this process
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def fresh_session() -> None:
    """Forget every Keras model and layer name of this process (as a new process would)."""
    import keras

    keras.backend.clear_session()
