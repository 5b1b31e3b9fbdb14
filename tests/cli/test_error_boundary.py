"""The one error boundary: every command turns each class of expected failure into ONE line.

Classes: a missing file, a folder where a file is expected, a file where a folder is expected,
an unwritable output folder, a corrupt ``.keras``, a corrupt ``.npz``, a design folder of
another spec and a tool that failed (a fake Yosys / openFPGALoader on the environment
override, a Verilog file that does not build). Each case runs :func:`hgqflow.cli.main` in this
process (an unexpected exception would escape it, as its traceback would on the console) and
asserts exit status 1, exactly one line on stderr, ``hgq COMMAND: error: ``, the file named, no
traceback. Subprocess tests show the same on the console and that ``--debug`` (or
``--traceback``, ``HGQ_DEBUG=1``) prints the traceback instead. Every case stops before
TensorFlow trains anything, so the whole matrix takes seconds.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hgq_hw.errors import (
    DesignMismatchError,
    InputFileError,
    ToolError,
    describe,
    is_expected,
)
from hgqflow.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "examples" / "specs" / "tiny.json"
SEED = 11  # the random bytes of the corrupt files


# -- the files every case needs -------------------------------------------------------------


def _fake_tool(path: Path, message: str) -> Path:
    path.write_text(f"#!/bin/sh\necho '{message}'\necho '{message}' >&2\nexit 3\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _fake_board_build(folder: Path) -> Path:
    """A folder as ``hgq build`` leaves it for the iCEBreaker: a fake bitstream, its report."""
    from boards.registry import get_board
    from hgq_hw.reports import BOARD_BUILD_FORMAT, BoardBuildReport, ResourceEstimate

    folder.mkdir()
    (folder / "top.bin").write_bytes(b"\xff" * 64)
    target = get_board("icebreaker")
    BoardBuildReport(
        format=BOARD_BUILD_FORMAT,
        version=1,
        board=target.name,
        device=target.device,
        top="uart",
        spec="tiny",
        name="top",
        bitstream="top.bin",
        clock_mhz=target.clock_hz / 1e6,
        baud=115200,
        uart_divisor=104,
        latency=6,
        in_width=17,
        out_width=13,
        vectors=None,
        seed=0,
        pipeline_levels=4,
        estimate=ResourceEstimate(500, 400, 0, "estimate"),
        synthesis=None,
        utilisation={},
        timing=None,
        stage_seconds={},
        seconds=1.0,
        part=target.part,
    ).save(folder / "report.json")
    return folder


def _unwritable_dir(root: Path) -> Path | None:
    """A folder this process cannot create files in: a read-only folder, or for root (who may
    write anywhere) /sys; None when there is none."""
    folder = root / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    for candidate in (folder, Path("/sys")):
        try:
            (candidate / ".probe").touch()
        except OSError:
            return candidate
        (candidate / ".probe").unlink()
    return None


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Good, missing, misplaced and corrupt files, two generated designs and a broken one."""
    print(f"corrupt-file seed {SEED}")
    root = tmp_path_factory.mktemp("boundary")
    rng = np.random.default_rng(SEED)
    f: dict[str, Path] = {"root": root, "spec": TINY, "missing": root / "missing.json"}
    f["folder"] = root / "a-folder"
    f["folder"].mkdir()
    for suffix in (".npz", ".keras", ".json"):  # folders named like files
        f["folder_" + suffix[1:]] = root / f"a-folder{suffix}"
        f["folder_" + suffix[1:]].mkdir()
    f["file"] = root / "a-file"
    f["file"].write_text("not a folder\n")

    good_zip = root / "good.zip"
    with zipfile.ZipFile(good_zip, "w") as archive:
        archive.writestr("config.json", json.dumps({"layers": list(range(400))}))
        archive.writestr("model.weights.h5", rng.bytes(2000))
    data = good_zip.read_bytes()
    for suffix in (".keras", ".npz"):
        (root / f"empty{suffix}").write_bytes(b"")
        (root / f"junk{suffix}").write_bytes(rng.bytes(700))
        (root / f"truncated{suffix}").write_bytes(data[: len(data) // 2])
    with zipfile.ZipFile(root / "not-keras.keras", "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY")
    np.savez(root / "good.npz", x=np.zeros((2, 3)))
    whole = (root / "good.npz").read_bytes()
    (root / "truncated.npz").write_bytes(whole[: len(whole) - 40])
    for name in ("empty", "junk", "truncated"):
        for suffix in (".keras", ".npz"):
            f[f"{name}_{suffix[1:]}"] = root / f"{name}{suffix}"
    f["not-keras_keras"] = root / "not-keras.keras"

    run = root / "run-with-corrupt-model"  # an interrupted training whose model.keras is 0 bytes
    run.mkdir()
    (run / "model.keras").write_bytes(b"")
    (run / "state.json").write_text(json.dumps({"epochs_done": 3}))
    (run / "config.json").write_text(json.dumps({"dataset": "digits", "seed": 0}))
    f["corrupt-run"] = run
    f["corrupt-config"] = root / "run-with-corrupt-config"  # a Keras-like zip, broken JSON
    f["corrupt-config"].mkdir()
    shutil.copyfile(good_zip, f["corrupt-config"] / "model.keras")
    (f["corrupt-config"] / "config.json").write_text('{"dataset": "digits", ')
    flow = root / "flow-with-corrupt-model"
    shutil.copytree(run, flow / "train")
    f["corrupt-flow"] = flow

    assert main(["gen", str(TINY), "-o", str(root / "gen")]) == 0
    f["gen"] = root / "gen"
    assert main(["random-spec", "-o", str(root / "other.json"), "--seed", "5", "--depth", "1"]) == 0
    assert main(["gen", str(root / "other.json"), "-o", str(root / "gen-other")]) == 0
    f["gen-other"] = root / "gen-other"
    shutil.copytree(root / "gen", root / "gen-bad")
    verilog = next((root / "gen-bad").glob("*.v"))
    verilog.write_text(verilog.read_text().replace("endmodule", "endmodul"))
    f["gen-bad"] = root / "gen-bad"

    f["fake-yosys"] = _fake_tool(root / "fake-yosys", "ERROR: fake yosys refuses")
    f["fake-loader"] = _fake_tool(root / "fake-loader", "unable to open ftdi device")
    f["board-build"] = _fake_board_build(root / "board-build")
    unwritable = _unwritable_dir(root)
    if unwritable is not None:
        f["unwritable"] = unwritable
    return f


def _one_line(capsys: pytest.CaptureFixture[str], command: str, argv: list[str]) -> str:
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 1, f"exit status {status} for {argv}; stderr: {err}"
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith(f"hgq {command}: error: "), err
    assert "Traceback" not in err
    return err.strip()


# -- each command against each class ----------------------------------------------------------

# (id, argv: words with {names} of `files`, what the line must name); {spec}: the tiny spec.
CASES: list[tuple[str, str, str]] = [
    # a missing file
    ("check-missing", "check {missing}", "{missing}"),
    ("gen-missing", "gen {missing} -o {root}/g1", "{missing}"),
    ("eval-missing-inputs", "eval {spec} --inputs {root}/no.npz", "{root}/no.npz"),
    ("sim-missing-design", "sim {spec} --design {root}/nodir", "{root}/nodir"),
    ("export-missing", "export {root}/no.keras -o {root}/s.json", "{root}/no.keras"),
    ("train-missing-data", "train --dataset {root}/no.npz --out {root}/t1", "no.npz"),
    ("flow-missing-data", "flow --dataset {root}/no.npz --out {root}/f1", "no.npz"),
    # a folder where a file is expected
    ("check-folder", "check {folder_json}", "{folder_json}"),
    ("gen-folder", "gen {folder_json} -o {root}/g2", "{folder_json}"),
    ("eval-folder-inputs", "eval {spec} --inputs {folder_npz}", "{folder_npz}"),
    ("eval-output-folder", "eval {spec} -o {folder}", "{folder}"),
    ("sim-folder-data", "sim {spec} --data {folder_npz}", "{folder_npz}"),
    ("export-folder", "export {folder_keras} -o {root}/s.json", "{folder_keras}"),
    ("export-output-folder", "export {empty_keras} -o {folder}", "{folder}"),
    ("train-folder-data", "train --dataset {folder_npz} --out {root}/t2", "{folder_npz}"),
    ("build-folder", "build {folder_json} --board icebreaker", "{folder_json}"),
    # a file where a folder is expected
    ("gen-output-file", "gen {spec} -o {file}", "{file}"),
    ("gen-output-under-file", "gen {spec} -o {file}/sub", "{file}"),
    ("eval-output-under-file", "eval {spec} -o {file}/y.npy", "{file}"),
    ("sim-work-file", "sim {spec} --work {file}", "{file}"),
    ("sim-design-file", "sim {spec} --design {file}", "{file}"),
    ("synth-file", "synth {file} --target ice40", "{file}"),
    ("export-output-under-file", "export {empty_keras} -o {file}/s.json", "{file}"),
    ("train-out-file", "train --out {file}", "{file}"),
    ("flow-out-file", "flow --out {file}", "{file}"),
    ("build-output-file", "build {spec} --board icebreaker -o {file}", "{file}"),
    ("random-spec-under-file", "random-spec -o {file}/s.json", "{file}"),
    ("program-file", "program {file}", "{file}"),
    # an unwritable output folder
    ("gen-unwritable", "gen {spec} -o {unwritable}/g", "{unwritable}"),
    ("eval-unwritable", "eval {spec} -o {unwritable}/y.npy", "{unwritable}"),
    ("sim-unwritable", "sim {spec} --work {unwritable}/w", "{unwritable}"),
    ("export-unwritable", "export {empty_keras} -o {unwritable}/s.json", "{unwritable}"),
    ("train-unwritable", "train --out {unwritable}/run", "{unwritable}"),
    ("flow-unwritable", "flow --out {unwritable}/run", "{unwritable}"),
    ("random-spec-unwritable", "random-spec -o {unwritable}/s.json", "{unwritable}"),
    ("build-unwritable", "build {spec} --board icebreaker -o {unwritable}/b", "{unwritable}"),
    # a corrupt .keras
    ("export-empty-keras", "export {empty_keras} -o {root}/s.json", "{empty_keras}"),
    ("export-junk-keras", "export {junk_keras} -o {root}/s.json", "{junk_keras}"),
    ("export-truncated-keras", "export {truncated_keras} -o {root}/s.json", "{truncated_keras}"),
    ("export-not-keras", "export {not-keras_keras} -o {root}/s.json", "{not-keras_keras}"),
    ("train-resume-corrupt", "train --out {corrupt-run} --resume", "{corrupt-run}/model.keras"),
    (
        "flow-resume-corrupt",
        "flow --out {corrupt-flow} --resume",
        "{corrupt-flow}/train/model.keras",
    ),
    (
        "export-corrupt-run-config",
        "export {corrupt-config}/model.keras -o {root}/s.json",
        "{corrupt-config}/config.json: not valid JSON",
    ),
    # a corrupt .npz
    ("eval-empty-npz", "eval {spec} --inputs {empty_npz}", "{empty_npz}"),
    ("eval-junk-npz", "eval {spec} --inputs {junk_npz} --real", "{junk_npz}"),
    ("eval-truncated-npz", "eval {spec} --inputs {truncated_npz}", "{truncated_npz}"),
    ("sim-truncated-npz", "sim {spec} --data {truncated_npz}", "{truncated_npz}"),
    ("train-junk-npz", "train --dataset {junk_npz} --out {root}/t3", "{junk_npz}"),
    ("flow-empty-npz", "flow --dataset {empty_npz} --out {root}/f3", "{empty_npz}"),
    (
        "export-truncated-npz",
        "export {empty_keras} --dataset {truncated_npz} -o {root}/s.json",
        "{truncated_npz}",
    ),
    ("board-run-junk-npz", "board-run --port p --spec {spec} --data {junk_npz}", "{junk_npz}"),
    # a design folder of another spec
    ("sim-other-design", "sim {spec} --design {gen-other}", "{gen-other}"),
]


@pytest.mark.parametrize(("words", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_command_gives_one_line(
    words: str, named: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    if "{unwritable}" in words and "unwritable" not in files:
        pytest.skip("no folder here refuses writes to this user")
    values = {k: str(v) for k, v in files.items()}
    argv = [a.format(**values) for a in words.split()]
    line = _one_line(capsys, argv[0], argv)
    assert named.format(**values) in line, line


def test_a_corrupt_keras_is_not_called_missing(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("empty_keras", "junk_keras", "truncated_keras", "not-keras_keras"):
        line = _one_line(capsys, "export", ["export", str(files[name]), "-o", "s.json"])
        assert "not a valid Keras archive" in line and "not found" not in line.lower(), line


def test_a_design_of_another_spec_is_refused_before_simulating(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    line = _one_line(capsys, "sim", ["sim", str(TINY), "--design", str(files["gen-other"])])
    assert "was generated from spec 'random_5'" in line and "not from spec 'tiny'" in line, line
    # a report.json from before spec_digest: the spec name still tells
    old = files["root"] / "gen-other-old"
    shutil.copytree(files["gen-other"], old)
    report = json.loads((old / "report.json").read_text())
    del report["spec_digest"]
    (old / "report.json").write_text(json.dumps(report))
    line = _one_line(capsys, "sim", ["sim", str(TINY), "--design", str(old)])
    assert "was generated from spec 'random_5'" in line, line


# -- a tool that failed ------------------------------------------------------------------------


def test_synth_with_a_failing_yosys_names_its_log(
    files: dict[str, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    gen = tmp_path / "gen"
    shutil.copytree(files["gen"], gen)
    monkeypatch.setenv("YOSYS", str(files["fake-yosys"]))
    line = _one_line(capsys, "synth", ["synth", str(gen), "--target", "ice40"])
    assert "yosys: " in line and "exit status 3" in line, line
    log = Path(line.rsplit("see ", 1)[1])
    assert log.parent == gen and "fake yosys refuses" in log.read_text()


def test_build_with_a_failing_yosys_names_its_log(
    files: dict[str, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("YOSYS", str(files["fake-yosys"]))
    out = tmp_path / "board"
    argv = ["build", str(TINY), "--board", "icebreaker", "-o", str(out)]
    line = _one_line(capsys, "build", argv)
    assert "yosys: synthesis failed" in line and "exit status 3" in line, line
    log = Path(line.rsplit("see ", 1)[1])
    assert out in log.parents and "fake yosys refuses" in log.read_text()


def test_program_with_a_failing_loader_names_its_log(
    files: dict[str, Path], capsys, monkeypatch
) -> None:
    monkeypatch.setenv("OPENFPGALOADER", str(files["fake-loader"]))
    line = _one_line(capsys, "program", ["program", str(files["board-build"])])
    log = files["board-build"] / "program.log"
    assert line.endswith(f"see {log}") and "unable to open ftdi device" in log.read_text()


@pytest.mark.sim
@pytest.mark.parametrize(
    ("simulator", "tool"), [("icarus", "iverilog"), ("verilator", "verilator")]
)
def test_sim_build_failure_names_the_build_log(
    simulator: str, tool: str, files: dict[str, Path], tmp_path: Path, capsys
) -> None:
    from tests.sim.conftest import require

    require(simulator)
    work = tmp_path / "work"
    argv = ["sim", str(TINY), "--design", str(files["gen-bad"]), "--simulator", simulator]
    line = _one_line(capsys, "sim", [*argv, "--work", str(work), "--samples", "2"])
    assert f"{tool}: building {files['gen-bad']}" in line and "for simulation failed" in line
    assert line.endswith(f"see {work / f'build-{simulator}.log'}"), line
    assert "syntax error" in (work / f"build-{simulator}.log").read_text()


@pytest.mark.sim
@pytest.mark.slow
@pytest.mark.parametrize("simulator", ["icarus", "verilator"])
def test_sim_work_folder_with_a_space(simulator: str, tmp_path: Path, capsys) -> None:
    from tests.sim.conftest import require

    require(simulator)
    work = tmp_path / "my work"
    argv = ["sim", str(TINY), "--simulator", simulator, "--samples", "4", "--no-data"]
    assert main([*argv, "--work", str(work)]) == 0, capsys.readouterr()
    assert "PASS" in capsys.readouterr().out


# -- --debug, the console, and what is not expected --------------------------------------------


def _console(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hgqflow", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--debug", "check", "missing.json"], None),
        (["check", "missing.json", "--debug"], None),
        (["check", "missing.json", "--traceback"], None),
        (["check", "missing.json"], {"HGQ_DEBUG": "1"}),
    ],
    ids=["global", "after-the-command", "traceback-alias", "environment"],
)
def test_debug_shows_the_traceback(argv: list[str], env: dict[str, str] | None) -> None:
    done = _console(argv, env)
    assert done.returncode == 1, done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert "SpecError: missing.json: cannot read" in done.stderr


def test_the_console_shows_one_line_and_no_traceback(files: dict[str, Path]) -> None:
    for argv in (
        ["check", "missing.json"],
        ["export", str(files["junk_keras"]), "-o", str(files["root"] / "s.json")],
        ["gen", str(TINY), "-o", str(files["file"])],
    ):
        done = _console(argv, {"HGQ_DEBUG": ""})
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert done.stderr.startswith(f"hgq {argv[0]}: error: ")


def test_debug_in_process_raises(files: dict[str, Path]) -> None:
    with pytest.raises(InputFileError, match="not a valid Keras archive"):
        main(["--debug", "export", str(files["junk_keras"]), "-o", "s.json"])


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import hgqflow.cli.spec_cmds as spec_cmds

    def broken(spec_path: str) -> str:
        raise ZeroDivisionError("a bug, not bad input")

    monkeypatch.setattr(spec_cmds, "spec_summary", broken)
    with pytest.raises(ZeroDivisionError):
        main(["check", str(TINY)])


# -- hgq_hw.errors -----------------------------------------------------------------------------


def test_describe_is_one_line_naming_the_path() -> None:
    err = PermissionError(errno.EACCES, "Permission denied", "/out/report.json")
    assert describe(err) == "/out/report.json: Permission denied"
    renamed = OSError(errno.EXDEV, "Invalid cross-device link", "/a.tmp", None, "/b")
    assert describe(renamed) == "/a.tmp -> /b: Invalid cross-device link"
    assert describe(FileNotFoundError("data file x.npz does not exist")) == (
        "data file x.npz does not exist"
    )
    tool = ToolError(
        "yosys", "failed", command=["yosys", "-q"], exit_code=1, log="/g/y.log", tail="a\nb"
    )
    assert str(tool).count("\n") == 3
    assert describe(tool) == "yosys: failed; exit status 1; see /g/y.log"
    assert describe(ValueError("first\n  second")) == "first second"
    assert describe(EOFError()) == "corrupt or truncated file (EOFError)"
    assert describe(ValueError()) == "ValueError"


def test_what_is_expected() -> None:
    expected: list[Callable[[], BaseException]] = [
        lambda: ValueError("x"),
        lambda: NotADirectoryError("x"),
        lambda: ToolError("yosys", "failed"),
        lambda: InputFileError("m.keras", "not a valid Keras archive"),
        lambda: DesignMismatchError("other spec"),
        lambda: zipfile.BadZipFile("x"),
        lambda: ModuleNotFoundError("No module named 'keras'", name="keras"),
    ]
    assert all(is_expected(make()) for make in expected)
    assert not any(
        is_expected(e) for e in (ZeroDivisionError(), KeyError("k"), TypeError(), RecursionError())
    )
    assert isinstance(DesignMismatchError("x"), ValueError)  # callers catching ValueError
