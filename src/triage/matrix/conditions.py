"""Structured conditions over answers: checking them against the questionnaire and matching them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SET_TESTS = ("any_of", "all_of", "none_of")


def normalise(condition: Mapping[str, Any], kinds: Mapping[str, tuple[str, tuple[str, ...]]]
              ) -> tuple[dict[str, Any], list[tuple[tuple[Any, ...], str, str]]]:
    """Check a condition against question kinds and choices; return a canonical form and problems.

    Canonical form: yes/no -> bool; one-of -> frozenset of choice ids; any-of -> (test, frozenset, count), where
    `{at_least: 2, of: [...]}` is ("at_least", choices, 2) and the other tests have a count of 1.
    Problems are (sub-path, message, code).
    """
    out: dict[str, Any] = {}
    problems: list[tuple[tuple[Any, ...], str, str]] = []
    for qid, expected in condition.items():
        if qid not in kinds:
            problems.append(((qid,), f"unknown question `{qid}`", "R303"))
            continue
        kind, choices = kinds[qid]

        def bad_choices(values: list[Any], path: tuple[Any, ...], qid: str = qid,
                        choices: tuple[str, ...] = choices) -> bool:
            wrong = [v for v in values if v not in choices]
            for v in wrong:
                problems.append((path, f"`{v}` is not a choice of `{qid}` (choices: {', '.join(choices)})", "R304"))
            return bool(wrong)

        if kind == "yes_no":
            if not isinstance(expected, bool):
                problems.append(((qid,), f"`{qid}` is a yes/no question: write true or false", "R308"))
                continue
            out[qid] = expected
        elif kind == "one_of":
            values = [expected] if isinstance(expected, str) else expected
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                problems.append(((qid,), f"`{qid}` is a one-of question: write a choice id or a list of them", "R308"))
                continue
            if not bad_choices(values, (qid,)):
                out[qid] = frozenset(values)
        else:
            clause = _set_test(qid, expected, problems)
            if clause is not None and not bad_choices(sorted(clause[1]), (qid, clause[0] if clause[0] in SET_TESTS
                                                                          else "of")):
                out[qid] = clause
    return out, problems


def _set_test(qid: str, expected: Any, problems: list[tuple[tuple[Any, ...], str, str]]
              ) -> tuple[str, frozenset[str], int] | None:
    """An any-of question's clause in canonical form, or None (with the problem recorded)."""
    if isinstance(expected, list):
        expected = {"any_of": expected}
    if isinstance(expected, dict) and set(expected) == {"at_least", "of"}:
        count, values = expected["at_least"], expected["of"]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values) or not values:
            problems.append(((qid, "of"), f"`{qid}`: `of` lists the choices to count", "R308"))
            return None
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(set(values)):
            problems.append(((qid, "at_least"), f"`{qid}`: `at_least` is a whole number from 1 to "
                             f"{len(set(values))} (the choices it counts)", "R308"))
            return None
        return ("at_least", frozenset(values), count)
    if (not isinstance(expected, dict) or len(expected) != 1 or next(iter(expected)) not in SET_TESTS
            or not isinstance(next(iter(expected.values())), list)
            or not all(isinstance(v, str) for v in next(iter(expected.values())))):
        problems.append(((qid,), f"`{qid}` is an any-of question: write {{any_of|all_of|none_of: [choices]}} or "
                         "{at_least: N, of: [choices]}", "R308"))
        return None
    test, values = next(iter(expected.items()))
    return (test, frozenset(values), 1)


def matches(condition: Mapping[str, Any], answers: Mapping[str, Any]) -> bool:
    """True when every clause of a canonical condition holds for the answers."""
    for qid, expected in condition.items():
        value = answers[qid]
        if isinstance(expected, bool):
            if value is not expected:
                return False
        elif isinstance(expected, frozenset):
            if value not in expected:
                return False
        else:
            test, values, count = expected
            chosen = set(value)
            if test == "any_of" and not chosen & values:
                return False
            if test == "at_least" and len(chosen & values) < count:
                return False
            if test == "all_of" and not values <= chosen:
                return False
            if test == "none_of" and chosen & values:
                return False
    return True
