"""``boards`` stands on ``hgq_hw`` alone: no TensorFlow, Keras or ``hgq_train`` behind it."""

from __future__ import annotations

import subprocess
import sys


def test_boards_never_import_the_training_side() -> None:
    code = (
        "import sys, boards.registry, boards.build, boards.host, boards.program, boards.tops, "
        "boards.uart_top, boards.selftest_top, boards.simulate, boards.board_top, "
        "boards.stream_core, boards.stream_uart_top\n"
        "bad = [m for m in ('tensorflow', 'keras', 'hgq_train') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
