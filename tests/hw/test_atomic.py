"""hgq_hw.atomic: a write appears complete or not at all, and leaves no temporary file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hgq_hw import atomic

ROOT = Path(__file__).resolve().parents[2]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_text_bytes_and_json_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    assert atomic.write_text(path, "one\nline é\n") == path
    assert path.read_bytes() == "one\nline é\n".encode()
    atomic.write_bytes(path, b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    atomic.write_json(tmp_path / "v.json", {"a": [1, 2]}, indent=1)
    assert (tmp_path / "v.json").read_text() == '{\n "a": [\n  1,\n  2\n ]\n}\n'
    assert _names(tmp_path) == ["a.txt", "v.json"]


def test_mode_is_that_of_a_plain_write(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    atomic.write_text(tmp_path / "atomic", "x")
    assert (tmp_path / "atomic").stat().st_mode == plain.stat().st_mode


def test_a_failure_mid_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(b"old complete model")
    with pytest.raises(RuntimeError, match="disk full"), atomic.atomic_path(path) as temp:
        temp.write_bytes(b"half a mod")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old complete model"
    assert _names(tmp_path) == ["model.keras"]


def test_a_failing_rename_keeps_the_old_file_and_no_temp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "spec.json"
    path.write_text("old")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(f"cannot rename {src} to {dst}")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError):
        atomic.write_text(path, "new")
    assert path.read_text() == "old" and _names(tmp_path) == ["spec.json"]


def test_a_writer_that_leaves_nothing_is_an_error(tmp_path: Path) -> None:
    with (
        pytest.raises(FileNotFoundError, match="nothing was written"),
        atomic.atomic_path(tmp_path / "out.bin") as temp,
    ):
        temp.unlink()
    assert _names(tmp_path) == []


def test_the_temporary_path_keeps_the_suffix(tmp_path: Path) -> None:
    with atomic.atomic_path(tmp_path / "data.npz") as temp:
        assert temp.parent == tmp_path and temp.suffix == ".npz"
        assert atomic.is_temp_name(temp.name)
        np.savez(temp, x=np.arange(3))  # numpy appends .npz unless it is there
    with np.load(tmp_path / "data.npz") as f:
        assert f["x"].tolist() == [0, 1, 2]
    assert _names(tmp_path) == ["data.npz"]


def test_copy_file_and_long_names(tmp_path: Path) -> None:
    source = tmp_path / "build.bin"
    source.write_bytes(bytes(range(256)) * 64)
    long_name = "b" * 250 + ".bin"  # the temporary name is cut to stay within 255 bytes
    atomic.copy_file(source, tmp_path / long_name)
    assert (tmp_path / long_name).read_bytes() == source.read_bytes()
    assert _names(tmp_path) == sorted(["build.bin", long_name])


def test_sigkill_during_a_write_keeps_the_old_file(tmp_path: Path) -> None:
    """A child writes 64 MiB in chunks and is killed with SIGKILL in the middle: the target
    still holds the old bytes; the temporary file it left is removed by remove_stale_temps."""
    path = tmp_path / "big.bin"
    path.write_bytes(b"old")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from hgq_hw import atomic
        with atomic.atomic_path({str(path)!r}) as temp, open(temp, "wb") as f:
            for i in range(64):
                f.write(bytes([i % 256]) * (1 << 20))
                if i == 20:
                    f.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert path.read_bytes() == b"old"
    left = [p for p in tmp_path.iterdir() if p.name != "big.bin"]
    assert len(left) == 1 and atomic.is_temp_name(left[0].name)
    assert left[0].stat().st_size == 21 << 20  # killed after 21 of 64 chunks
    assert atomic.remove_stale_temps(tmp_path) == left
    assert _names(tmp_path) == ["big.bin"]
    assert atomic.remove_stale_temps(tmp_path / "absent") == []


def test_import_needs_only_the_standard_library() -> None:
    code = (
        "import sys, importlib.util; "
        "spec = importlib.util.spec_from_file_location('a', 'hgq_hw/atomic.py'); "
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
        "print(sorted(k for k in ('numpy', 'tensorflow', 'amaranth') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
