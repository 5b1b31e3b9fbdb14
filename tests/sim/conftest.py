"""Simulator availability: tests skip with a message saying what to install."""

from __future__ import annotations

import pytest

from sim.runner import simulator_available


def require(simulator: str) -> None:
    missing = simulator_available(simulator)
    if missing is not None:
        pytest.skip(f"{simulator} not available: {missing}")


@pytest.fixture(params=["verilator", "icarus"])
def simulator(request) -> str:
    require(request.param)
    return request.param
