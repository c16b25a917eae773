"""Work remembered between runs: checked matrices, so that an agent's `triage` shows its first question
sooner, and the validators of the file formats, so that every command reading a YAML file starts sooner.

A matrix is parsed and checked once (about 50 ms of schema building and validation); the checked form is
kept in the user's cache directory under a name made of the matrix bytes, where they came from, and the
versions of triage, Python and pydantic, so an edited matrix or an upgraded install never meets an old
entry. The kept matrix holds plain records in place of the model objects (`frozen`), so loading it needs no
pydantic. Anything wrong with an entry (unreadable, truncated, from other code) means it is ignored and the
matrix is checked again. `TRIAGE_CACHE_DIR` moves the cache; set to an empty value it turns it off. Entries
are pickles, as trusted as the user's own files: the directory is created readable by the user only.

A format's validator depends on the code alone, never on a file: pydantic builds it from the models on first
use (20 to 35 ms of schema generation in Python); pydantic-core can pickle what it built, and loading that
takes about a millisecond. Every file is still validated in full each time.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import Any

KEEP = 32  # entries kept; the oldest go first


def directory() -> Path | None:
    configured = os.environ.get("TRIAGE_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("triage", appauthor=False))


@functools.cache
def _code_stamp() -> str:
    """When the package's own code last changed: a checkout being edited never meets entries of older code.
    Read once a process: a command keys a matrix and a validator with it."""
    here = Path(__file__).parent
    try:
        return str(max(entry.stat().st_mtime_ns for entry in os.scandir(here) if entry.name.endswith(".py")))
    except OSError:
        return "?"


@functools.cache
def _pydantic_stamp() -> bytes:
    """The installed pydantic's version file, found on the import path and read rather than imported: a
    command that finds its matrix in the cache never imports pydantic (see `frozen`)."""
    for folder in sys.path:
        try:
            with open(os.path.join(folder or ".", "pydantic", "version.py"), "rb") as handle:
                return handle.read()
        except OSError:
            continue
    return b"?"


def key(kind: str, data: bytes, source: str) -> str:
    from . import __version__

    digest = hashlib.sha256()
    for part in (kind, source, __version__, sys.version, _code_stamp()):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(_pydantic_stamp() + b"\0")
    digest.update(data)
    return f"{kind}-{digest.hexdigest()[:40]}.pickle"


def get(name: str, expected: type) -> Any:
    """The entry `name` if it holds an `expected`, else None."""
    folder = directory()
    if folder is None:
        return None
    try:
        with open(folder / name, "rb") as handle:
            if not (_private(os.stat(folder)) and _private(os.fstat(handle.fileno()))):
                return None  # someone else could have written it: not loaded
            found = pickle.load(handle)
    except Exception:  # noqa: BLE001 - any broken entry is only a miss
        return None
    return found if type(found) is expected else None


def _private(status: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else."""
    owner = getattr(os, "getuid", lambda: status.st_uid)()
    return status.st_uid == owner and not status.st_mode & 0o022


def frozen(value: Any) -> bytes:
    """`value` pickled with every model object in it as a plain `frozen.Record` (see `frozen`)."""
    import io

    from .frozen import thaw
    from .model import Model

    class Pickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            if isinstance(obj, Model):
                return thaw, (type(obj).__name__, dict(obj.__dict__))
            return NotImplemented

    buffer = io.BytesIO()
    Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def put(name: str, value: Any) -> None:
    """Keep `value` (or its pickle, as bytes) as entry `name`, written whole or not at all; a cache that cannot
    be written is skipped."""
    folder = directory()
    if folder is None:
        return
    from .errors import InputError
    from .files import write_atomic

    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = value if type(value) is bytes else pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        write_atomic(str(folder / name), data)
        entries = sorted(folder.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
    except (OSError, InputError, pickle.PicklingError, TypeError, AttributeError):
        return


def validator(root: Any) -> Any:
    """The pydantic-core validator of the model class `root`, from the cache when this code built it before."""
    from pydantic_core import SchemaValidator

    name = key("validator", f"{root.__module__}.{root.__qualname__}".encode(), "models")
    found = get(name, SchemaValidator)
    if found is None:
        root.model_rebuild()  # the models are built on first use (`defer_build`)
        found = root.__pydantic_validator__
        put(name, found)
    return found
