"""One local Ray (2 CPUs) for every test of ``tests/sweep`` that needs one: Ray takes seconds to
start, so the tests share it, and it is shut down after the last test of this folder (package
scope), not left running under the rest of the suite."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="package")
def ray_session() -> Any:
    """The ``ray`` module, joined to a local Ray with 2 CPUs (``hgq sweep``'s executor uses
    the Ray this process joined and leaves it running)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    ray.shutdown()
