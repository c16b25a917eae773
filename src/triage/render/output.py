"""What a command prints, in every format it offers: the JSON value and the renderers of the others."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Output:
    """A command's result: `data` is its JSON; `text` makes the rich renderable for a terminal, and each entry
    of `bodies` makes one other format (Markdown, HTML, CSV, plain text lines...) when it is chosen."""

    data: Any
    text: Callable[[], Any] | None = None
    bodies: Mapping[str, Callable[[], str]] = field(default_factory=dict)
