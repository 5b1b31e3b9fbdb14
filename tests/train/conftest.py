"""Shared fixtures for the training tests: quiet TensorFlow, seeds, small datasets."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pytest

from hgq_hw.fixed import Overflow, Round

ROUNDS = (Round.RND, Round.TRN)
OVERFLOWS = (Overflow.WRAP, Overflow.SAT)


@pytest.fixture(autouse=True)
def _seeded() -> None:
    import keras

    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="session")
def digits():
    from hgq_train.data import load_digits_dataset

    return load_digits_dataset(seed=0)


@pytest.fixture(params=ROUNDS, ids=lambda r: r.value)
def round_mode(request: pytest.FixtureRequest) -> Round:
    return request.param


@pytest.fixture(params=OVERFLOWS, ids=lambda o: o.value)
def overflow(request: pytest.FixtureRequest) -> Overflow:
    return request.param


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(7)
