"""Suite-wide options: ``extended`` tests run only when ``HGQ_EXTENDED=1`` is set.

The default suite (``make test``) must stay within its time budget on two cores; a test that
repeats on a second simulator or a larger setting what a default test already covers is marked
``extended`` and runs with ``HGQ_EXTENDED=1 make test`` (or ``HGQ_EXTENDED=1 pytest -m
extended``). It is skipped, with that message, otherwise, never silently dropped.
"""

from __future__ import annotations

import os

import pytest

EXTENDED = os.environ.get("HGQ_EXTENDED") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if EXTENDED:
        return
    skip = pytest.mark.skip(reason="extended test: set HGQ_EXTENDED=1 to run it")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)
