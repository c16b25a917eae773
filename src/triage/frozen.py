"""A checked matrix as plain read-only records, for the commands that only read it.

The models of `model` check a file; once a matrix has passed, the engine only reads attributes of it. A
matrix remembered in the cache keeps each model object as a `Record` of the same name and values, so a
command that finds its matrix there does not import pydantic and the model classes (about 60 ms at each
start; Typer's own use of pydantic is kept away by `cli._plain_options`). A record compares, hashes and
prints like the model it stands for, and cannot be changed.
"""

from __future__ import annotations

from typing import Any

_KINDS: dict[str, type[Record]] = {}


class Record:
    """The values of one checked model object, by field name."""

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:  # as a frozen model's: unhashable when a value is (a list, a mapping)
        return hash((type(self), *self.__dict__.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"

    def __reduce__(self) -> tuple[Any, ...]:
        return thaw, (type(self).__name__, self.__dict__)


def thaw(kind: str, values: dict[str, Any]) -> Record:
    """A record of the model class named `kind` holding `values` (its fields, in order)."""
    cls = _KINDS.get(kind)
    if cls is None:
        cls = _KINDS[kind] = type(kind, (Record,), {"__slots__": (), "__module__": __name__})
    record = object.__new__(cls)
    object.__setattr__(record, "__dict__", values)
    return record
