"""What counts as an expected failure, in one place, and its one-line description.

An *expected* failure is one a user can fix without reading code: bad input (a spec, a design
folder, a data or model file that is missing, of the wrong kind or corrupt), a file system that
refuses a path (``OSError``: a file where a folder is expected, an unwritable folder, a full
disk), an optional extra that is not installed (``ModuleNotFoundError``) or an external tool
that failed (:class:`~hgq_hw.toolchain.ToolError`, which names its log). The ``hgq`` command
turns each of them into one line, ``hgq COMMAND: error: ...``, and exit status 1
(:func:`is_expected`, :func:`describe`); every other exception is a bug and keeps its traceback.
``hgq --debug`` shows the traceback of expected failures too.

The hierarchy (every class is also a ``ValueError``, so older callers that catch
``ValueError`` keep working):

* :class:`HgqError`: base of hgqflow's own expected errors.
* :class:`InputFileError`: a file that exists but is not what it should be (e.g. a ``.keras``
  file that is not a Keras archive); ``file`` names it.
* :class:`DesignMismatchError`: a generated design folder that belongs to another spec.

``SpecError`` (:mod:`hgq_hw.spec`) and ``ReportError`` (:mod:`hgq_hw.reports`) are
``ValueError`` subclasses and so expected too. Standard library only (no Amaranth, cocotb or
TensorFlow), so the command line can import it in its error path.
"""

from __future__ import annotations

import os
import zipfile

from hgq_hw.toolchain.errors import ToolError

__all__ = [
    "EXPECTED_ERRORS",
    "DesignMismatchError",
    "HgqError",
    "InputFileError",
    "ToolError",
    "describe",
    "is_expected",
]


class HgqError(ValueError):
    """Base of hgqflow's own expected errors (bad input that the message explains)."""


class InputFileError(HgqError):
    """A file that exists but cannot be used: corrupt, truncated or of another kind.

    Members: ``file`` (the path) and ``reason`` (what is wrong with it); ``str(err)`` is
    ``"<file>: <reason>"``.
    """

    def __init__(self, file: str | os.PathLike[str], reason: str) -> None:
        self.file = str(file)
        self.reason = reason
        super().__init__(f"{self.file}: {reason}")


class DesignMismatchError(HgqError):
    """A design folder (``hgq gen`` output) generated from another spec than the one given."""


EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,  # SpecError, ReportError, HgqError, bad option values
    OSError,  # FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError, ...
    ToolError,  # an external tool is missing or failed; names its log
    zipfile.BadZipFile,  # a corrupt .npz / .keras read by a library that does not say which
    EOFError,  # a truncated file read by numpy
    ModuleNotFoundError,  # an optional extra (training, simulation, boards) is not installed
)
"""The exception types a command reports in one line (anything else is a bug: traceback)."""


def is_expected(err: BaseException) -> bool:
    """Whether ``err`` is an expected failure (:data:`EXPECTED_ERRORS`), not a bug."""
    return isinstance(err, EXPECTED_ERRORS)


def _os_error_line(err: OSError) -> str:
    if err.errno is None or err.strerror is None:  # raised by our code with its own message
        return str(err)
    where = "" if err.filename is None else os.fsdecode(err.filename)
    if err.filename2 is not None:
        where += f" -> {os.fsdecode(err.filename2)}"
    return f"{where}: {err.strerror}" if where else err.strerror


def describe(err: BaseException) -> str:
    """``err`` as ONE line: the message of a bad input, ``<path>: <reason>`` of an ``OSError``,
    the first line of a :class:`ToolError` (tool, what failed, exit status, ``see <log>``); an
    empty message gives the exception's type name."""
    if isinstance(err, ToolError):
        text = str(err).splitlines()[0] if str(err) else err.tool
    elif isinstance(err, OSError):
        text = _os_error_line(err)
    else:
        text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    if isinstance(err, zipfile.BadZipFile | EOFError):
        text = f"corrupt or truncated file ({text or type(err).__name__})"
    if isinstance(err, ModuleNotFoundError) and "pip install" not in text:
        text += " ('hgq doctor' lists what is missing and how to install it)"
    return text.strip() or type(err).__name__
