"""Generate a matrix whose questionnaire has about 100,000 answer combinations (for benchmarks and tests)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def big_matrix(choices_per_question: int = 10, questions: int = 5) -> str:
    """The shipped matrix with its questionnaire and rules replaced by `questions` ordered one-of questions
    of `choices_per_question` choices each: choices_per_question ** questions combinations."""
    text = (ROOT / "matrix.yaml").read_text(encoding="utf-8")
    qs = ["questions:"]
    for q in range(questions):
        qs += [f"  - id: q{q}", "    kind: one_of", "    ordered: true", f"    ask: Question {q}?",
               f"    help: Help for question {q}.", "    choices:"]
        qs += [f"      c{c}: Choice {c}" for c in range(choices_per_question)]
    rules = ["severity_rules:"]
    n = choices_per_question
    for q in range(questions):
        for level, low in ((1, n - 2), (2, n // 2), (3, n // 4)):
            rules += [f"  - id: q{q}_at_{level}", f"    when: {{q{q}: [{', '.join(f'c{c}' for c in range(low, n))}]}}",
                      f"    at_least: {level}", f"    because: Question {q} is high."]
    rules += ["  - id: both_mid", f"    when: {{q0: [{', '.join(f'c{c}' for c in range(n // 4, n))}], "
              f"q1: [{', '.join(f'c{c}' for c in range(n // 4, n))}]}}", "    at_least: 2", "    because: Both."]
    rules += ["  - id: floor", "    when: {}", "    at_least: 4", "    because: Anything else."]
    text = re.sub(r"\nquestions:\n.*?\n(?=severity_rules:)", "\n" + "\n".join(qs) + "\n\n", text, flags=re.S)
    text = re.sub(r"\nseverity_rules:\n.*?\n(?=severities:)", "\n" + "\n".join(rules) + "\n\n", text, flags=re.S)
    text = re.sub(r"\nroutes:\n.*?\n(?=communication:)", "\nroutes: []\n\n", text, flags=re.S)
    text = re.sub(r"\nexamples:\n.*", "\nexamples: []\n", text, flags=re.S)
    return text


if __name__ == "__main__":
    sys.stdout.write(big_matrix())
