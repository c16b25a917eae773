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
            test, values = expected
            joined = ", ".join(q.choices[c] for c in q.choices if c in values)
            word = {"any_of": "any of", "all_of": "all of", "none_of": "none of"}[test]
            parts.append(f"{qid}: {word} {joined}")
    return "; ".join(parts)


def describe_cadence(steps: Iterable[Any], span: Callable[[timedelta], str] = human_duration) -> str:
    """An update cadence, e.g. `every 30 min for 2 h, then every 1 h`."""
    out = []
    for step in steps:
        text = f"every {span(step.every)}"
        if step.for_ is not None:
            text += f" for {span(step.for_)}"
        out.append(text)
    return ", then ".join(out)
