"""The rich console every command writes to, in a module of its own: the interactive session needs it
before its first question and should not wait for the report renderers' imports."""

from __future__ import annotations

from rich.console import Console


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)
