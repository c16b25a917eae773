"""Strict, safe YAML reading that remembers where every value came from.

Only plain data is accepted: no aliases or anchors (so no "billion laughs"), no explicit tags (so
`!!python/...` never constructs anything), no merge keys, no duplicate keys, one document, bounded
size and depth. Booleans follow YAML 1.2 (`true`/`false` only): a bare `yes`, `no`, `on` or `off`
is reported, because other YAML tools would read it as a boolean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent, StreamEndEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from triage.errors import InputError, Problem
from triage.files import MAX_BYTES

MAX_DEPTH = 40
_AMBIGUOUS = {"yes", "no", "on", "off", "y", "n"}


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



class _Resolver(yaml.resolver.Resolver):
    """Implicit typing close to YAML 1.2's core schema: no sexagesimal numbers, no yes/no booleans."""


_Resolver.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9_]*)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        r"|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
        r"(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        "0123456789",
    ),
]:
    _Resolver.add_implicit_resolver(_tag, re.compile(_regexp), list(_first))


class _TooDeep(Exception):
    def __init__(self, mark: Any) -> None:
        self.mark = mark


class _PurePython(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
    def __init__(self, text: str) -> None:
        yaml.reader.Reader.__init__(self, text)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)


# libyaml parses about ten times faster; the composing below stays ours either way. PyYAML offers its parser
# through the loader classes it builds on it; the base loader adds only what our composer sets up again.
_Parser: Any = yaml.CBaseLoader if yaml.__with_libyaml__ else _PurePython


class _Composer(yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
    """Composes nodes from a parser's events (the parser is the other base of `_Loader` and `_PureLoader`)."""

    _parser_init: Any
    check_event: Any
    get_event: Any
    peek_event: Any

    def __init__(self, text: str, report: Any) -> None:
        self._parser_init(text)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)
        self._report = report
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.get_event()
            self._report(event.start_mark, "an alias (*name) is not allowed: write the value out", "Y104")
            return ScalarNode("tag:yaml.org,2002:null", "", event.start_mark, event.end_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            self._report(event.start_mark, "an anchor (&name) is not allowed: write each value out", "Y104")
            event.anchor = None
        tag = getattr(event, "tag", None)
        if tag is not None and tag != "!":
            self._report(event.start_mark, f"an explicit tag ({tag}) is not allowed: only plain data is read", "Y105")
            event.tag = None
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _TooDeep(event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(_Parser, _Composer):  # type: ignore[misc]
    _parser_init = _Parser.__init__
    __init__ = _Composer.__init__


class _PureLoader(_PurePython, _Composer):
    _parser_init = _PurePython.__init__
    __init__ = _Composer.__init__


def decode(data: bytes, source: str, *, limit: int = MAX_BYTES) -> str:
    """Bytes of a text file to str, refusing oversize, binary and non-UTF-8 content with a located error."""
    if len(data) > limit:
        raise InputError(f"{source}: file is {len(data):,} bytes, over the {limit:,}-byte limit for this kind of file")
    nul = data.find(b"\x00", 0, 8192)
    if nul >= 0:
        raise InputError(f"{source}: this is a binary file, not text (NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    return text.removeprefix("\ufeff")


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def load(text: str, source: str, *, pure: bool = False) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document. Returns the document (None if unreadable) and every problem found.
    `pure` uses PyYAML's Python parser instead of libyaml (both must behave the same)."""
    problems: list[Problem] = []

    def report(mark: Any, message: str, code: str, level: str = "error") -> None:
        problems.append(Problem(source, mark.line + 1, mark.column + 1, level, message, code))

    composed = _compose(text, source, report, pure=pure)
    if isinstance(composed, list):
        return None, problems + composed if composed and composed[0].code != "Y102" else composed
    if composed is None:
        return None, problems
    root, loader = composed
    doc = Document(source, None, text)
    doc.data = _Builder(doc, loader, report).build(root, ())
    return doc, problems


def _compose(text: str, source: str, report: Any, *, pure: bool) -> tuple[Any, Any] | list[Problem] | None:
    """The document's root node and its loader; or the problem that stops reading (a list), or None when the
    problem was reported through `report`."""
    loader = None
    try:
        loader = (_PureLoader if pure else _Loader)(text, report)
        loader.get_event()  # stream start
        if loader.check_event(StreamEndEvent):
            return [Problem(source, 1, 1, "error", "the file is empty", "Y102")]
        root = loader.compose_document()
        if not loader.check_event(StreamEndEvent):
            report(loader.peek_event().start_mark, "a second YAML document starts here: keep one document per file",
                   "Y103")
        return root, loader
    except _TooDeep as exc:
        report(exc.mark, f"nesting deeper than {MAX_DEPTH} levels", "Y107")
        return None
    except yaml.reader.ReaderError as exc:
        # libyaml counts bytes of the UTF-8 text; the pure-Python reader counts characters
        position = exc.position
        if not pure and yaml.__with_libyaml__:
            position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
        line, col = _line_col(text, position)
        return [Problem(source, line, col, "error", f"control character #x{exc.character:04x} is not allowed in YAML",
                        "Y101")]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(x for x in (exc.context, exc.problem) if x) or "YAML syntax error"
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return [Problem(source, line, col, "error", f"YAML syntax: {message}{_hint(text, line, col, message)}",
                        "Y101")]
    finally:
        if loader is not None:
            loader.dispose()


def _hint(text: str, line: int, col: int, message: str) -> str:
    """What usually causes a syntax error, said in words: a tab used to indent, a colon inside plain text."""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in here[:max(col, 1)] or (0 < col <= len(here) and here[col - 1] == "\t"):
        return "; a tab cannot indent YAML: use spaces"
    if "mapping values are not allowed" in message:
        return ("; a text holding `: ` must be quoted, for example `name: \"Support: escalations\"`")
    return ""


class _Builder:
    """Plain data from composed nodes, recording where each key and value stood."""

    def __init__(self, doc: Document, loader: Any, report: Any) -> None:
        self.doc, self.loader, self.report = doc, loader, report

    def build(self, node: Any, path: Path) -> Any:
        self.doc.values[path] = _mark_of(node)
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        if not node.style and node.value.lower() in _AMBIGUOUS:
            self.report(node.start_mark, f"bare `{node.value}`: YAML 1.1 tools read it as a boolean; write "
                        "true/false, or quote it as text", "Y106")
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            self.report(node.start_mark, f"unreadable value: {exc.problem}", "Y101")
            return None
        except (ValueError, OverflowError) as exc:  # a date or time that does not exist: 2026-11-31, 25:00
            self.report(node.start_mark, f"`{node.value}` is not a real date or time ({exc}); quote it if it "
                        "is meant as text", "Y101")
            return None

    def mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.report(key_node.start_mark, "a key must be plain text", "Y108")
                continue
            key = key_node.value
            if not key_node.style and key.lower() in _AMBIGUOUS | {"true", "false"}:
                self.report(key_node.start_mark, f"bare `{key}` as a key: YAML 1.1 tools read it as a boolean; "
                            "quote it or rename it", "Y106")
            if key == "<<" and not key_node.style:
                self.report(key_node.start_mark, "merge keys (<<) are not allowed: write the keys out", "Y104")
                continue
            if key in seen:
                self.report(key_node.start_mark, f"duplicate key `{key}` (first defined at line {seen[key]})", "Y109")
                continue
            seen[key] = key_node.start_mark.line + 1
            self.doc.keys[path + (key,)] = _mark_of(key_node)
            out[key] = self.build(value_node, path + (key,))
        return out


def _mark_of(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1
