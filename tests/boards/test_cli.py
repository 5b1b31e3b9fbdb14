"""``hgq build`` / ``hgq program`` / ``hgq board-run`` without a board attached."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

import boards.host
from boards.protocol import NAK, argmax_exact, decode_request, encode_response, n_bytes
from hgq_hw.layout import BusLayout
from hgq_hw.reference import evaluate, infer_types
from hgq_hw.spec import ModelSpec, save
from hgqflow.cli import main
from tests.boards.conftest import tiny_spec, too_big_spec


def _fake_build(folder: Path, board: str = "ulx3s-85f", suffix: str = ".bit") -> Path:
    """A folder as ``hgq build`` leaves it: a (fake) bitstream and a complete report."""
    from boards.registry import get_board
    from hgq_hw.reports import BoardBuildReport, ResourceEstimate

    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"top{suffix}").write_bytes(b"\xff" * 64)
    target = get_board(board)
    estimate = ResourceEstimate(500, 400, 0, "estimate")
    BoardBuildReport(
        format="hgqflow-board-build",
        version=1,
        board=board,
        device=target.device,
        top="uart",
        spec="tiny",
        name="top",
        bitstream=f"top{suffix}",
        clock_mhz=target.clock_hz / 1e6,
        baud=115200,
        uart_divisor=104,
        latency=6,
        in_width=17,
        out_width=13,
        vectors=None,
        seed=0,
        pipeline_levels=4,
        estimate=estimate,
        synthesis=None,
        utilisation={},
        timing=None,
        stage_seconds={},
        seconds=1.0,
        part=target.part,
    ).save(folder / "report.json")
    return folder


def test_program_dry_run_prints_the_exact_command(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("OPENFPGALOADER", raising=False)
    out = _fake_build(tmp_path / "ecp5")
    assert main(["program", str(out), "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == f"openFPGALoader -b ulx3s {out / 'top.bit'}"
    ice = _fake_build(tmp_path / "ice", "icebreaker", ".bin")
    monkeypatch.setenv("OPENFPGALOADER", "/opt/ofl/openFPGALoader")
    assert main(["program", str(ice), "--dry-run", "--flash"]) == 0
    assert (
        capsys.readouterr().out.strip()
        == f"/opt/ofl/openFPGALoader -b ice40_generic -f {ice / 'top.bin'}"
    )
    assert main(["program", str(ice), "--dry-run", "--loader-board", "icebreaker"]) == 0
    assert " -b icebreaker " in capsys.readouterr().out


def test_program_refuses_a_bitstream_for_another_board(tmp_path: Path, capsys) -> None:
    out = _fake_build(tmp_path)
    assert main(["program", str(out), "--board", "icebreaker", "--dry-run"]) == 1
    assert "for 'ulx3s-85f', not 'icebreaker'" in capsys.readouterr().err
    assert main(["program", str(tmp_path / "nothing")]) == 1
    assert "run 'hgq build" in capsys.readouterr().err


def test_program_with_a_missing_loader_exits_nonzero(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("OPENFPGALOADER", str(tmp_path / "no-such-openFPGALoader"))
    assert main(["program", str(_fake_build(tmp_path))]) == 1
    err = capsys.readouterr().err
    assert "openFPGALoader: not found" in err and "OPENFPGALOADER" in err


def test_program_with_no_board_attached_exits_nonzero(tmp_path: Path, capsys, monkeypatch) -> None:
    fake = tmp_path / "fake-loader"
    fake.write_text(
        "#!/bin/sh\necho 'unable to open ftdi device: -3 (device not found)' >&2\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("OPENFPGALOADER", str(fake))
    assert main(["program", str(_fake_build(tmp_path))]) == 1
    err = capsys.readouterr().err
    log = tmp_path / "program.log"
    assert err.count("\n") == 1, err  # one line, naming the log that holds the tool's output
    assert "failed (exit status 1)" in err and "plugged in" in err and f"see {log}" in err
    assert "device not found" in log.read_text()


@pytest.mark.toolchain
def test_program_with_the_real_loader_and_no_board(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("OPENFPGALOADER", raising=False)
    if shutil.which("openFPGALoader") is None:
        pytest.skip("openFPGALoader not installed (sudo apt-get install openfpgaloader)")
    assert main(["program", str(_fake_build(tmp_path))]) == 1
    assert "plugged in" in capsys.readouterr().err


def test_build_of_a_too_big_spec_says_what_to_do(tmp_path: Path, capsys) -> None:
    spec = save(too_big_spec(), tmp_path / "big.json")
    code = main(["build", "--board", "icebreaker", str(spec), "-o", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err
    assert "does not fit" in err and "5280" in err and "ulx3s-85f" in err


class FakeBoard:
    """The uart top's protocol in Python (answers from the reference), optionally faulty."""

    def __init__(self, spec: ModelSpec, wrong_argmax_every: int = 0) -> None:
        types = infer_types(spec)
        self.spec = spec
        self.out_type = types[spec.output.name]
        self.in_layout = BusLayout.of(types[spec.input.name])
        self.out_layout = BusLayout.of(self.out_type)
        self.wrong_every = wrong_argmax_every
        self.pending = b""
        self.count = 0

    def write(self, frame: bytes) -> None:
        try:
            word = decode_request(frame, self.in_layout.width)
        except ValueError:
            self.pending += bytes([NAK])
            return
        x = self.in_layout.unpack([word])
        y = evaluate(self.spec, x)
        arg = argmax_exact(y[0], self.out_type)
        self.count += 1
        if self.wrong_every and self.count % self.wrong_every == 0:
            arg = (arg + 1) % len(self.out_type.f)
        self.pending += encode_response(self.out_layout.pack(y)[0], arg, self.out_layout.width)

    def read(self, size: int) -> bytes:
        data, self.pending = self.pending[:size], self.pending[size:]
        return data

    def __enter__(self) -> FakeBoard:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _board_run(tmp_path: Path, monkeypatch, board: FakeBoard, extra: list[str]) -> int:
    spec_path = save(board.spec, tmp_path / "spec.json")
    monkeypatch.setattr(boards.host, "open_serial", lambda port, baud, timeout: board)
    return main(["board-run", "--port", "/dev/fake", "--spec", str(spec_path), *extra])


def test_board_run_agrees_with_the_reference(tmp_path: Path, capsys, monkeypatch) -> None:
    spec = tiny_spec()
    x_real = np.random.default_rng(0).uniform(-4, 4, (30, 3))
    np.savez(tmp_path / "data.npz", x=x_real)
    code = _board_run(
        tmp_path,
        monkeypatch,
        FakeBoard(spec),
        ["--data", str(tmp_path / "data.npz"), "--max", "25"],
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "outputs agree:  25/25" in out and "argmax agrees:  25/25" in out
    assert "samples/s" in out and out.rstrip().endswith("PASS")
    np.savetxt(tmp_path / "data.csv", x_real[:5], delimiter=",")
    assert (
        _board_run(tmp_path, monkeypatch, FakeBoard(spec), ["--data", str(tmp_path / "data.csv")])
        == 0
    )
    assert _board_run(tmp_path, monkeypatch, FakeBoard(spec), ["--random", "12"]) == 0


def test_board_run_reports_a_faulty_board(tmp_path: Path, capsys, monkeypatch) -> None:
    code = _board_run(tmp_path, monkeypatch, FakeBoard(tiny_spec(), 4), ["--random", "12"])
    out = capsys.readouterr().out
    assert code == 1
    assert "argmax agrees:  9/12" in out and "outputs agree:  12/12" in out
    assert "sample 3: argmax" in out and out.rstrip().endswith("FAIL")


def test_board_run_counts_timeouts_and_naks(tmp_path: Path, monkeypatch, capsys) -> None:
    class Silent(FakeBoard):
        def write(self, frame: bytes) -> None:
            self.pending += bytes([NAK]) if self.count % 2 else b""
            self.count += 1

    code = _board_run(tmp_path, monkeypatch, Silent(tiny_spec()), ["--random", "4"])
    out = capsys.readouterr().out
    assert code == 1
    assert "errors:         4" in out and "NAK" in out and "no answer" in out
    assert n_bytes(17) == 3  # the tiny spec's 17-bit input takes 3 bytes


@pytest.mark.toolchain
def test_hgq_build_prints_progress_and_the_table(tmp_path: Path, capsys) -> None:
    from tests.boards.conftest import require_tools

    require_tools("yosys", "nextpnr-ice40", "icepack")
    spec = save(tiny_spec(), tmp_path / "tiny.json")
    out = tmp_path / "ice"
    argv = ["build", "--board", "icebreaker", "--top", "selftest", str(spec), "-o", str(out)]
    assert main([*argv, "--vectors", "16"]) == 0
    text = capsys.readouterr().out
    assert "synthesis: done in" in text and "place and route: done in" in text
    assert "ICESTORM_LC" in text and "Fmax" in text and (out / "top.bin").exists()
    report = json.loads((out / "report.json").read_text())
    assert report["vectors"] == 16 and report["top"] == "selftest"
