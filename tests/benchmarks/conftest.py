"""Fixtures of the benchmark scripts' tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def op_determinism() -> Iterator[None]:
    """Train as the rest of the suite does: seeded, with TensorFlow's op determinism on, put
    back as it was afterwards. This folder runs first, and the process's first training should
    not be a nondeterministic one."""
    from hgq_train.determinism import kept_op_determinism, seed_training

    with kept_op_determinism():
        seed_training(0, deterministic=True)
        yield
