"""From data to both bitstreams with one command each: a small model trained on iris."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hgqflow.cli import main
from tests.boards.conftest import require_tools

pytestmark = pytest.mark.toolchain

TOOLS_FOR = {"icebreaker": ("nextpnr-ice40", "icepack"), "ulx3s-85f": ("nextpnr-ecp5", "ecppack")}


@pytest.fixture(scope="module")
def iris_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.datasets import load_iris

    work = tmp_path_factory.mktemp("iris")
    data = load_iris()
    np.savez(work / "iris.npz", x=data.data.astype(np.float32), y=data.target)
    assert (
        main(
            [
                "train",
                "--dataset",
                str(work / "iris.npz"),
                "--epochs",
                "10",
                "--beta",
                "1e-5",
                "--out",
                str(work / "run"),
                "--verbose",
                "0",
            ]
        )
        == 0
    )
    assert main(["export", str(work / "run" / "model.keras"), "-o", str(work / "iris.json")]) == 0
    return work / "iris.json"


@pytest.mark.parametrize(
    ("board", "top", "bitstream"),
    [("icebreaker", "uart", "top.bin"), ("ulx3s-85f", "selftest", "top.bit")],
)
def test_trained_model_builds(
    iris_spec: Path, tmp_path: Path, board: str, top: str, bitstream: str
) -> None:
    require_tools("yosys", *TOOLS_FOR[board])
    out = tmp_path / board
    assert main(["build", "--board", board, "--top", top, str(iris_spec), "-o", str(out)]) == 0
    assert (out / bitstream).stat().st_size > 1000
    report = json.loads((out / "report.json").read_text())
    assert report["bitstream"] == bitstream
    assert report["timing"]["fmax_mhz"] > 0
