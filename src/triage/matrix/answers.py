"""Reading one answer: the single place where flags, files, records and prompts are checked."""

from __future__ import annotations

from typing import Any

from triage.errors import AnswerError

_YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False}


def parse_answer(qid: str, kind: str, choices: tuple[str, ...], raw: Any) -> Any:
    """Turn a raw answer into its canonical value: bool, a choice id, or a tuple of choice ids."""
    if kind == "yes_no":
        if raw is True or raw is False:
            return raw
        found = _YES_NO.get(raw.strip().lower()) if isinstance(raw, str) else None
        if found is None:
            raise AnswerError(f"`{qid}` takes yes or no, not {_show(raw)}")
        return found
    if kind == "one_of":
        value = raw.strip() if isinstance(raw, str) else None
        if value not in choices:
            raise AnswerError(f"`{qid}` takes one of: {', '.join(choices)}; not {_show(raw)}")
        return value
    if raw is None:
        items: list[Any] = []
    elif isinstance(raw, str):
        items = [part.strip() for part in raw.split(",") if part.strip()]
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        raise AnswerError(f"`{qid}` takes a comma-separated list of: {', '.join(choices)}; not {_show(raw)}")
    wrong = [item for item in items if not isinstance(item, str) or item not in choices]
    if wrong:
        raise AnswerError(f"`{qid}` takes any of: {', '.join(choices)}; not {_show(wrong[0])}")
    chosen = set(items)
    return tuple(c for c in choices if c in chosen)


def _show(raw: Any) -> str:
    text = repr(raw) if not isinstance(raw, str) else f"'{raw}'"
    return text if len(text) <= 60 else text[:57] + "...'"


def to_json(value: Any) -> Any:
    """Answer value as JSON: tuples become lists."""
    return list(value) if isinstance(value, tuple) else value
