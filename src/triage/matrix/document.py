"""A loaded YAML document: its plain data and where every key and value stood in the file. Kept apart from
the YAML reader, so that a matrix remembered in the cache (which carries its document, for messages that
point into the file) loads without the YAML library."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from triage.errors import Problem

Path = tuple[Any, ...]


@dataclass
class Document:
    """A loaded YAML document: plain data plus the position of every key and value."""

    source: str
    data: Any
    text: str = ""
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Best position for `path`: the key or value itself, else the nearest parent."""
        path = tuple(path)
        while True:
            table = self.keys if key else self.values
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return (1, 1)
            path = path[:-1]

    def problem(self, path: Path, message: str, code: str, *, level: str = "error", key: bool = False,
                needle: str | None = None) -> Problem:
        line, column = self.locate(path, key=key)
        if needle:  # point inside a long text (a template) at the part the message is about
            lines = self.text.splitlines()
            for number in range(line, min(len(lines), line + 200) + 1):
                found = lines[number - 1].find(needle, column - 1 if number == line else 0)
                if found >= 0:
                    line, column = number, found + 1
                    break
        return Problem(self.source, line, column, level, message, code)
