"""Making text from files and customers safe to show: no control sequences, no markup."""

from __future__ import annotations

import re
from typing import Any

import orjson

# C0/C1 controls (except tab and newline), DEL, and the bidirectional overrides and isolates that
# can make a terminal or a page show text in a different order than it is stored.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MD_INLINE = re.compile(r"([\\`*_\[\]|~])")
_MD_LINE_START = re.compile(r"(?m)^(\s*)([#+\-=>]|\d+[.)])")
_MD_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")  # where `<` could open a tag, a comment or an autolink
_MD_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")  # where `&` would start a character reference


def visible(text: str) -> str:
    """Replace every unsafe character with a visible escape such as `\\x1b` or `\\u202e`."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


def one_line(text: str) -> str:
    """Visible and on a single line (for error messages and table cells)."""
    return visible(text).replace("\r", "\\r").replace("\n", "\\n")


def markdown(text: str, *, line_start: bool = True) -> str:
    """Text as literal Markdown: markup characters escaped, HTML neutralised where it could start (`<` before a
    letter, `&` before a character reference), so that `< 4 h` or `R&D` read as written in the raw file too.
    `line_start=False` for text that goes in the middle of a line, where `1.` or `-` cannot start a list."""
    text = _MD_INLINE.sub(r"\\\1", visible(text))
    text = _MD_TAG_START.sub("&lt;", _MD_ENTITY.sub("&amp;", text))
    def line_start_escape(m: re.Match[str]) -> str:
        mark = m.group(2)
        return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)

    return _MD_LINE_START.sub(line_start_escape, text) if line_start else text


def has_unsafe(text: str) -> bool:
    return bool(_UNSAFE.search(text))


def json_text(serialised: str) -> str:
    """Serialised JSON with every unsafe character written as a \\u escape (the value is unchanged)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", serialised)


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def safe_json(value: Any, *, indent: bool = True, line: bool = False) -> bytes:
    """The one way triage writes JSON: UTF-8, indented (or, with `line`, one line ending in a newline for JSON
    Lines), times in the form `str` gives them, and every control or direction-changing character as a \\u
    escape, so that no output can reorder or recolour a terminal that shows it."""
    options = _JSON_OPTIONS | (orjson.OPT_INDENT_2 if indent else 0) | (orjson.OPT_APPEND_NEWLINE if line else 0)
    raw = orjson.dumps(value, default=str, option=options)
    return json_text(raw.decode()).encode() if has_unsafe_bytes(raw) else raw


# The same characters as _UNSAFE above C0 (which JSON already escapes), as UTF-8 byte sequences.
_UNSAFE_UTF8 = re.compile(rb"\x7f|\xc2[\x80-\x9f]|\xd8\x9c|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def has_unsafe_bytes(data: bytes) -> bool:
    """Whether UTF-8 bytes hold a character `visible()` would escape (C0 controls aside, which JSON escapes)."""
    if data.isascii():  # the usual case, checked at memory speed: DEL is the one such character in ASCII
        return b"\x7f" in data
    return bool(_UNSAFE_UTF8.search(data))
