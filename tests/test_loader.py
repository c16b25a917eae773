"""Reading YAML safely, and locating every structural problem."""

from __future__ import annotations

import pytest

from triage.errors import InputError, MatrixError
from triage.matrix.loader import read_matrix
from triage.matrix.yamlsafe import decode, load

from .conftest import shipped_text


@pytest.mark.parametrize(("text", "code", "line"), [
    ("a: 1\na: 2\n", "Y109", 2),
    ("a: &x 1\nb: *x\n", "Y104", 1),
    ("a: !!python/object/apply:os.system ['echo hacked']\n", "Y105", 1),
    ("base: {x: 1}\nother:\n  <<: {y: 2}\n", "Y104", 3),
    ("a: 1\n---\nb: 2\n", "Y103", 2),
    ("a: [1, 2\n", "Y101", 2),
    ("yes: 1\n", "Y106", 1),
    ("a: off\n", "Y106", 1),
    ("", "Y102", 1),
    ("[" * 60 + "]" * 60, "Y107", 1),
    ("a: \x1b[2J\n", "Y101", 1),
])
@pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "python"])
def test_unsafe_or_broken_yaml_is_refused_with_a_location(text, code, line, pure):
    _doc, problems = load(text, "m.yaml", pure=pure)
    hits = [p for p in problems if p.code == code]
    assert hits, problems
    assert hits[0].line == line
    assert hits[0].format().startswith(f"m.yaml:{line}:")


def test_python_tags_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    load(text, "m.yaml")
    assert not marker.exists()


def test_billion_laughs_is_refused():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    _doc, problems = load("\n".join(lines) + "\n", "lol.yaml")
    assert any(p.code == "Y104" for p in problems)


@pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "python"])
def test_yaml_12_scalars(pure):
    doc, problems = load('t: 09:00\nv: "2026.11"\nn: 010\nb: true\nw: caf\u00e9 \x01\n', "m.yaml", pure=pure)
    assert (
        problems and problems[0].format() == "m.yaml:5:9: error: control character #x0001 is not allowed in YAML [Y101]"
    )
    doc, problems = load('t: 09:00\nv: "2026.11"\nn: 010\nb: true\n', "m.yaml", pure=pure)
    assert doc.data == {"t": "09:00", "v": "2026.11", "n": "010", "b": True}


def test_both_parsers_read_the_shipped_matrix_alike():
    fast, _ = load(shipped_text(), "m.yaml")
    slow, _ = load(shipped_text(), "m.yaml", pure=True)
    assert fast.data == slow.data and fast.values == slow.values and fast.keys == slow.keys


@pytest.mark.parametrize(("data", "text"), [
    (b"\x00\x01\x02binary", "binary file"),
    (b"a: \xff\xfe\n", "not UTF-8 text (invalid byte at offset 3)"),
    (b"a" * 2_000_000, "over the 1,048,576-byte limit"),
])
def test_files_that_are_not_text(data, text):
    with pytest.raises(InputError, match=text.replace("(", r"\(").replace(")", r"\)")):
        decode(data, "m.yaml")


def mutated(old: str, new: str) -> bytes:
    text = shipped_text()
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def line_of(needle: str) -> int:
    return shipped_text().split(needle)[0].count("\n") + 1 + needle.startswith("\n")


@pytest.mark.parametrize(("old", "new", "code", "needle"), [
    ("  review_every_days: 90\n", "  review_every_day: 90\n", "M201", "review_every_days"),
    ("      acknowledge: 15m\n", "      acknowledge: soon\n", "M202", "acknowledge: 15m"),
    ("  revised: 2026-11-01\n", "", "M203", "\nmatrix:"),
    ("  - id: friction\n", "  - id: Friction\n", "M204", "id: friction"),
    ("    owner: frontline\n      steps:\n        - {role: frontline, action: Troubleshoot",
     "    owner: front_line\n      steps:\n        - {role: frontline, action: Troubleshoot", "R301", "owner: frontline\n      steps:\n        - {role: frontline, action: Troubleshoot"),
    ("      calendar: business_hours\n      acknowledge: 4h", "      calendar: office_hours\n      acknowledge: 4h", "R302",
     "calendar: business_hours\n      acknowledge: 4h"),
    ("    when: {impact: inconvenient}", "    when: {impact: annoying}", "R304", "when: {impact: inconvenient}"),
    ("    when: {deadline: true}", "    when: {due_date: true}", "R303", "when: {deadline: true}"),
    ("    timezone: America/New_York\n    hours:", "    timezone: America/Gotham\n    hours:", "R306",
     "timezone: America/New_York\n    hours:"),
    ("      Next update: $next_update_at\n", "      Next update: $next_update\n", "R305",
     "Next update: $next_update_at"),
])
def test_mistakes_are_located(old, new, code, needle):
    with pytest.raises(MatrixError) as caught:
        read_matrix(mutated(old, new), "matrix.yaml")
    hits = [p for p in caught.value.problems if p.code == code]
    assert hits, [p.format() for p in caught.value.problems]
    assert abs(hits[0].line - line_of(needle)) <= 1, (hits[0].format(), line_of(needle))


def test_did_you_mean():
    with pytest.raises(MatrixError) as caught:
        read_matrix(mutated("  review_every_days: 90\n", "  review_every_day: 90\n"), "m.yaml")
    assert "did you mean `review_every_days`?" in caught.value.message


def test_every_problem_is_reported_at_once():
    data = mutated("  review_every_days: 90\n", "  review_every_day: 90\n").decode()
    data = data.replace("      acknowledge: 15m\n", "      acknowledge: soon\n").encode()
    with pytest.raises(MatrixError) as caught:
        read_matrix(data, "m.yaml")
    assert {p.code for p in caught.value.problems} >= {"M201", "M202"}
    # the misspelt key is reported once, as a misspelling, not again as a missing key
    assert "M203" not in {p.code for p in caught.value.problems}
