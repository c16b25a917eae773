"""Parts of a matrix in the words `show` and `diff` both use: conditions with choice labels, update cadences."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from triage.matrix.durations import human_duration

if TYPE_CHECKING:
    from triage.matrix.loader import Matrix


def describe_condition(matrix: Matrix, condition: dict[str, Any]) -> str:
    """A canonical condition in words, with choice labels."""
    if not condition:
        return "any answers"
    parts = []
    for qid, expected in condition.items():
        q = matrix.question(qid)
        if isinstance(expected, bool):
            parts.append(f"{qid}: {'yes' if expected else 'no'}")
        elif isinstance(expected, frozenset):
            labels = [q.choices[c] for c in q.choices if c in expected]
            parts.append(f"{qid}: " + " or ".join(labels))
        else:
            test, values, count = expected
            joined = ", ".join(q.choices[c] for c in q.choices if c in values)
            word = {"any_of": "any of", "all_of": "all of", "none_of": "none of"}.get(test, f"at least {count} of")
            parts.append(f"{qid}: {word} {joined}")
    return "; ".join(parts)


def level_name(level: int, name: str | None) -> str:
    """How a level is called where it is shown: its own name (`P1`, `Urgent`), else `Severity 2`."""
    return name or f"Severity {level}"


def level_title(level: int, label: str, name: str | None) -> str:
    """A level with its label, `P1 (Critical)` or `Severity 2 (High)`; a level named by its label only once."""
    shown = level_name(level, name)
    return shown if label.casefold() == shown.casefold() else f"{shown} ({label})"


def short_title(level: int | str, label: str, name: str | None) -> str:
    """A level in a table row: `2 High`, or by its own name, `P1 Critical` (`Urgent` when name and label agree)."""
    if not name or name == f"Severity {level}":
        return f"{level} {label}"
    return name if name.casefold() == label.casefold() else f"{name} {label}"


def stored_title(severity: dict[str, Any]) -> str:
    """`level_title` of a severity as the JSON result and the history keep it (older entries have no name)."""
    return level_title(severity["level"], severity["label"], severity.get("name"))


def describe_cadence(steps: Iterable[Any], span: Callable[[timedelta], str] = human_duration) -> str:
    """An update cadence, e.g. `every 30 min for 2 h, then every 1 h`."""
    out = []
    for step in steps:
        text = f"every {span(step.every)}"
        if step.for_ is not None:
            text += f" for {span(step.for_)}"
        out.append(text)
    return ", then ".join(out)
