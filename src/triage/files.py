"""Reading input files and writing output files for the shell: size caps, clear errors, atomic writes."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from triage.errors import InputError, UsageError

DEFAULT_MATRIX = "matrix.yaml"
MAX_BYTES = 1_048_576  # a matrix, roster, mapping or answers file


def read_bytes(path: str, *, limit: int = MAX_BYTES) -> bytes:
    """Read a whole (small) file, or stdin for `-`, refusing oversize input before reading it all."""
    handle = open_input(path)
    try:
        data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
    if len(data) > limit:
        raise InputError(f"{path}: larger than the {limit:,}-byte limit for this kind of file")
    return data


MAX_RECORD = 1_048_576  # bytes in one line of a streamed input (classify records, export rows)


def capped_lines(handle: Any, *, limit: int = MAX_RECORD) -> Iterator[bytes]:
    """Lines of a binary stream as they arrive (each with its newline); a line longer than `limit` becomes the
    OVERSIZE marker and the rest of it is skipped unread, so one endless line cannot exhaust memory."""
    while line := handle.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield OVERSIZE
            continue
        yield line


OVERSIZE = b"\x00triage: line over the size limit\x00\n"


def matrix_source(path: str | None) -> tuple[str, bytes]:
    """The matrix to use: --matrix / $TRIAGE_MATRIX, else ./matrix.yaml, else the one in the package."""
    if path:
        return path, read_bytes(path)
    if Path(DEFAULT_MATRIX).is_file():
        return DEFAULT_MATRIX, read_bytes(DEFAULT_MATRIX)
    return "(built-in matrix.yaml)", resources.files("triage").joinpath("data/matrix.yaml").read_bytes()


def history_path(path: str | None) -> str:
    """--history / $TRIAGE_HISTORY, else the user's data directory (XDG on Linux)."""
    if path:
        return path
    env = os.environ.get("TRIAGE_HISTORY")
    if env:
        return env
    from platformdirs import user_data_dir

    return str(Path(user_data_dir("triage", appauthor=False)) / "history.sqlite3")


def _new_file_mode() -> int:
    """The mode a new file gets under the user's umask (a temporary file is made private; the output is not)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: str, text: str | bytes, *, overwrite: bool = True) -> None:
    """Write a file (text as UTF-8, or bytes as they are) so that readers see either the old content or the
    new, never a part; with `overwrite=False`, refuse when anything already exists at `path`."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{path}: is a directory")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise InputError(f"{path}: already exists; not overwriting it")
    directory = target.parent if str(target.parent) else Path(".")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
        os.fchmod(fd, _new_file_mode())
        with os.fdopen(fd, "wb") as handle:
            handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, target)
            tmp = None
        else:
            os.link(tmp, target)  # fails if the file appeared meanwhile: never overwrite
    except FileExistsError:
        raise InputError(f"{path}: already exists; not overwriting it") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp is not None:
            with suppress(OSError):
                os.unlink(tmp)


def open_input(path: str) -> BinaryIO:
    """A binary input stream: stdin for `-`, else the file, with a clear error when it cannot be opened."""
    if path == "-":
        if sys.stdin.isatty():  # nobody is piping anything in: never sit waiting for a keypress
            raise UsageError("reading records from stdin, but stdin is a terminal: pass a FILE or pipe data in")
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None


class AtomicOutput:
    """A binary output file that appears whole at `close()`, or not at all if the run fails."""

    def __init__(self, path: str) -> None:
        self.path = path
        target = Path(path)
        if target.is_dir():
            raise InputError(f"{path}: is a directory")
        directory = target.parent if str(target.parent) else Path(".")
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
            os.fchmod(fd, _new_file_mode())
        except OSError as exc:
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        self.handle = os.fdopen(fd, "wb", buffering=1 << 16)

    def write(self, data: bytes) -> None:
        try:
            self.handle.write(data)
        except OSError as exc:
            self.discard()
            raise InputError(f"{self.path}: cannot write ({exc.strerror or exc})") from None

    def close(self) -> None:
        try:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.discard()
            raise InputError(f"{self.path}: cannot write ({exc.strerror or exc})") from None

    def discard(self) -> None:
        with suppress(OSError):
            self.handle.close()
        with suppress(OSError):
            os.unlink(self.tmp)


@contextmanager
def reading(path: str) -> Iterator[BinaryIO]:
    """`open_input` as a context: the file is closed at the end, stdin is left open."""
    handle = open_input(path)
    try:
        yield handle
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
