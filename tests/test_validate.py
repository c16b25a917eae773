"""`triage validate`: each kind of mistake, made in a copy of the shipped matrix, found at its line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.engine.lint import github, lint

from .conftest import shipped_text

TODAY = date(2026, 11, 27)
EXCEPTION = """exceptions:
  - id: launch_week
    scope: {account: Acme}
    changes: {notify: [leadership]}
    reason: Launch week for the account
"""


def edit(old: str, new: str) -> str:
    text = shipped_text()
    assert text.count(old) == 1, old
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    assert needle in text, needle
    return text.split(needle)[0].count("\n") + 1


CASES = [
    # (description, old, new, code, level, needle on the reported line)
    ("no catch-all rule", "  - id: routine\n    when: {}\n    at_least: 4\n",
     "  - id: routine\n    when: {impact: inconvenient}\n    at_least: 4\n", "L401", "error", "severity_rules:"),
    ("a rule that is always outranked", "  - id: friction\n",
     "  - id: shadow\n    when: {security: true}\n    at_least: 2\n    because: Shadowed.\n  - id: friction\n",
     "L402", "warning", "at_least: 2\n    because: Shadowed."),
    ("a level nobody reaches", "    when: {}\n    at_least: 4\n", "    when: {}\n    at_least: 3\n", "L403", "warning",
     "  sev4:"),
    ("a question nobody reads", "    default: false\n    affects: routing\n  - id: deadline",
     "    default: false\n  - id: deadline", "L404", "warning", "  - id: vendor"),
    ("a severity rule reading a routing-only question", "    when: {impact: inconvenient}",
     "    when: {impact: inconvenient, strategic_account: true}", "L405", "error", "strategic_account: true}"),
    ("a wider scope lowers severity", "  - id: routine\n",
     "  - id: loud_user\n    when: {scope: one_user, impact: inconvenient}\n    at_least: 1\n    because: Loud.\n"
     "  - id: routine\n", "L406", "warning", "at_least: 1\n    because: Loud."),
    ("owner assigned before acknowledgement", "      acknowledge: 4h\n      assign_owner: 8h",
     "      acknowledge: 4h\n      assign_owner: 2h", "L407", "error", "assign_owner: 2h"),
    ("a more severe level with a slower target", "      escalate: 2h\n", "      escalate: 20h\n", "L408", "error",
     "escalate: 20h"),
    ("a role named like a person", "  vendor_manager: {name: Vendor manager,", "  vendor_manager: {name: Jane Smith,",
     "L409", "warning", "Jane Smith"),
    ("an e-mail address in a step", "action: Join the incident and start the investigation",
     "action: Mail bob@example.com to join", "L409", "warning", "bob@example.com"),
    ("an exception without expiry or approver", "exceptions: []\n", EXCEPTION, "L410", "error", "  - id: launch_week"),
    ("an expired exception", "exceptions: []\n",
     EXCEPTION + "    approver: support_lead\n    expires: 2026-01-31\n", "L411", "warning", "expires: 2026-01-31"),
    ("markup in displayed text", "help: Count accounts, not messages.", "help: Count [bold]accounts[/bold].", "L413",
     "error", "Count [bold]"),
    ("a control character in displayed text", "ask: Who is affected?", 'ask: "Who \\e[2J is affected?"', "L413", "error",
     "Who \\e[2J"),
    ("an example that no longer holds", "    expect: {severity: 3, owner: frontline}",
     "    expect: {severity: 2, owner: frontline}", "L414", "error", "expect: {severity: 2, owner: frontline}"),
    ("a calendar that never opens", '      mon-fri: "09:00-17:00"', '      mon-fri: "closed"', "L415", "error",
     'mon-fri: "closed"'),
    ("a misspelt key", "    review_every_days: 90", "    review_every_dayz: 90", "M201", "error", "review_every_dayz"),
    ("a duplicate key", "  review_every_days: 90\n", "  review_every_days: 90\n  review_every_days: 30\n", "Y109", "error",
     "review_every_days: 30"),
    ("an anchor and an alias", "  frontline: {name: Frontline support, where: support queue}",
     "  frontline: &fl {name: Frontline support, where: support queue}\n  helper: *fl", "Y104", "error", "&fl"),
    ("a python tag", "  name: Support escalation matrix\n", "  name: !!python/name:os.system\n", "Y105", "error",
     "!!python"),
    ("a merge key", "  specialist: {name: Product specialist, where: specialist queue}",
     "  specialist: {<<: {a: 1}, name: Product specialist, where: specialist queue}", "Y104", "error", "<<:"),
    ("a bare yes", "  timezone: America/New_York\n  review_triggers", "  timezone: yes\n  review_triggers", "Y106",
     "error", "timezone: yes"),
    ("a second document", "exceptions: []\n", "exceptions: []\n---\nmore: 1\n", "Y103", "error", "---"),
    ("a YAML syntax error", "  timezone: America/New_York\n  review_triggers", "  timezone: [America/New_York\n  review_triggers",
     "Y101", "error", "  review_triggers:"),
    ("a duplicate rule id", "  - id: friction\n", "  - id: routine\n", "M205", "error",
     "  - id: routine\n    when: {}"),
    ("a rule for a level that does not exist", "    at_least: 4\n", "    at_least: 5\n", "R307", "error",
     "at_least: 5"),
    ("a condition of the wrong shape", "    when: {security: true}\n    at_least: 1",
     "    when: {security: sometimes}\n    at_least: 1", "R308", "error",
     "security: sometimes"),
    ("an unknown role", "    posted_by: support_lead", "    posted_by: support_led", "R301", "error", "support_led"),
    ("an exception that puts an owner before the acknowledgement", "exceptions: []\n",
     EXCEPTION.replace("{notify: [leadership]}", "{targets: {sev1: {acknowledge: 2w}}}")
     + "    approver: support_lead\n    expires: 2027-01-31\n", "L420", "error", "acknowledge: 2w"),
    ("an exception that makes a level slower than the next", "exceptions: []\n",
     EXCEPTION.replace("{notify: [leadership]}", "{targets: {sev1: {escalate: 6h}}}")
     + "    approver: support_lead\n    expires: 2027-01-31\n", "L420", "warning", "escalate: 6h"),
    ("two exceptions that disagree for one account", "exceptions: []\n",
     EXCEPTION.replace("{notify: [leadership]}", "{targets: {sev2: {acknowledge: 15m}}}")
     + "    approver: support_lead\n    expires: 2027-01-31\n"
     + EXCEPTION.replace("exceptions:\n", "").replace("launch_week", "renewal").replace("Acme", "ACME")
     .replace("{notify: [leadership]}", "{targets: {sev2: {acknowledge: 45m}}}")
     + "    approver: support_lead\n    expires: 2027-01-31\n", "L421", "warning", "acknowledge: 45m"),
    ("an update cadence no shorter than the resolution", "        - {every: 40h}\n", "        - {every: 80h}\n",
     "L419", "warning", "        - {every: 80h}"),
]


@pytest.mark.parametrize(("what", "old", "new", "code", "level", "needle"), CASES, ids=[c[0] for c in CASES])
def test_each_mistake_is_reported_at_its_line(what, old, new, code, level, needle):
    if code == "M201":
        old, new = old.removeprefix("  "), new.removeprefix("  ")
    text = edit(old, new)
    if code == "Y101":
        needle = needle  # the parser reports where it gave up: the line after the unclosed bracket
    problems = lint(text.encode(), "matrix.yaml", today=TODAY)
    hits = [p for p in problems if p.code == code]
    assert hits, [p.format() for p in problems]
    assert hits[0].level == level
    assert hits[0].line == line_of(text, needle), hits[0].format()


def test_incompleteness_is_shown_with_a_reduced_example_and_a_count():
    text = edit("    when: {}\n    at_least: 4\n", "    when: {impact: inconvenient}\n    at_least: 4\n")
    [gap] = [p for p in lint(text.encode(), "m.yaml", today=TODAY) if p.code == "L401"]
    assert "answer combinations reach no severity" in gap.message
    assert "impact=none" in gap.message and "areas=" not in gap.message  # only the questions rules read


def test_the_review_falls_overdue():
    problems = lint(shipped_text().encode(), "m.yaml", today=date(2027, 6, 1))
    assert [p.code for p in problems] == ["L412"]


def test_shipped_matrix_is_clean():
    assert lint(shipped_text().encode(), "m.yaml", today=TODAY) == []


def test_a_failing_stage_stops_the_later_ones():
    text = edit("    when: {}\n    at_least: 4\n", "    when: {}\n    at_least: four\n")
    codes = {p.code for p in lint(text.encode(), "m.yaml", today=TODAY)}
    assert codes == {"M202"}


def test_cli_formats_and_exit_codes(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(shipped_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit("      escalate: 2h\n", "      escalate: 20h\n"))
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(good)])
    assert result.exit_code == 0 and "valid (0 errors, 0 warnings)" in result.stderr
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{bad}:") and "[L408]" in result.stdout
    result = runner.invoke(app, ["validate", str(bad), "--format", "json"])
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and report["files"][0]["problems"][0]["code"] == "L408"
    result = runner.invoke(app, ["validate", str(bad), "--format", "github"])
    assert result.stdout.startswith(f"::error file={bad},line=")
    assert runner.invoke(app, ["validate", "--format", "yaml"]).exit_code == 2


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty [Y102]"),
    (b"\x7fELF\x00\x00binary", "this is a binary file, not text (NUL byte at offset 4) [F001]"),
    (b"name: caf\xe9\n", "not UTF-8 text (invalid byte at offset 9) [F001]"),
    (None, "is a directory, not a file [F001]"),
])
def test_unreadable_files_give_one_clear_line(tmp_path, content, message):
    path = tmp_path / "m.yaml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert result.stdout.count("\n") == 1 and result.stdout.strip().endswith(message), result.stdout


def test_strict_makes_warnings_fail(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(edit("  vendor_manager: {name: Vendor manager,", "  vendor_manager: {name: Jane Smith,"))
    runner = CliRunner()
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 0
    assert runner.invoke(app, ["validate", str(path), "--strict"]).exit_code == 1


def test_github_annotations_cannot_be_forged():
    from triage.errors import Problem

    line = github(Problem("a,b:c.yaml", 3, 4, "error", "bad\n::error::forged 100%", "L413"))
    assert "\n" not in line
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=L413::bad%0A::error::forged 100%25"


@pytest.mark.parametrize(("old", "new", "needle"), [
    ("  revised: 2026-11-01", "  revised: 2026-11-31", "2026-11-31"),
    ("{date: 2027-02-15, name: Presidents' Day}", "{date: 2027-02-29, name: Presidents' Day}", "2027-02-29"),
    ("exceptions: []\n", EXCEPTION + "    approver: support_lead\n    starts: 2026-12-01T25:00:00\n"
     "    expires: 2027-01-31\n", "2026-12-01T25:00:00"),
])
def test_a_date_that_does_not_exist_is_a_located_error_in_every_command(tmp_path, old, new, needle):
    text = edit(old, new)
    path = tmp_path / "m.yaml"
    path.write_text(text)
    line = line_of(text, needle)
    runner = CliRunner()
    checked = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert checked.exit_code == 1 and not isinstance(checked.exception, ValueError)
    problem = json.loads(checked.stdout)["files"][0]["problems"][0]
    assert (problem["line"], problem["code"]) == (line, "Y101") and needle in problem["message"]
    for args in (["show"], ["ask", "--no-input"], ["diff", str(path), str(path)]):
        result = runner.invoke(app, [*args, "--matrix", str(path)] if args[0] != "diff" else args)
        assert result.exit_code == 1, (args, result.output)
        assert f"m.yaml:{line}:" in result.stderr and isinstance(result.exception, (SystemExit, type(None)))


@pytest.mark.parametrize(("old", "new", "hint"), [
    ("  name: Support escalation matrix\n", "  name: Support: escalation matrix\n", "a text holding `: ` must be quoted"),
    ("  name: Support escalation matrix\n", "\tname: Support escalation matrix\n", "a tab cannot indent YAML: use spaces"),
])
def test_a_syntax_error_says_what_usually_causes_it(old, new, hint):
    problems = lint(edit(old, new).encode(), "matrix.yaml", today=TODAY)
    assert problems and problems[0].code == "Y101" and hint in problems[0].message, [p.format() for p in problems]


def test_durations_in_messages_read_as_the_matrix_writes_them():
    problems = lint(edit("      escalate: 2h\n", "      escalate: 48h\n").encode(), "matrix.yaml", today=TODAY)
    message = next(p.message for p in problems if p.code == "L408")
    assert "(2 d against 16 h)" in message and ":00:00" not in message


def test_a_misspelt_time_zone_gets_the_likely_one_and_unreadable_hours_one_error():
    problems = lint(edit("  timezone: America/New_York\n  review_triggers", "  timezone: America/New_Yrok\n"
                         "  review_triggers").encode(), "matrix.yaml", today=TODAY)
    assert any("did you mean `America/New_York`?" in p.message for p in problems), [p.format() for p in problems]
    problems = lint(edit('      mon-fri: "09:00-17:00"', '      mon-fri: "9-17"').encode(), "matrix.yaml", today=TODAY)
    errors = [p for p in problems if p.level == "error"]
    assert [p.code for p in errors] == ["M204"], [p.format() for p in errors]  # no "never open" besides


@pytest.mark.parametrize(("old", "new", "hint"), [
    ("{every: 30m, for: 2h}", "{every: 30m, for 2h}", "unknown key `for 2h` (a colon is missing: `for: 2h`)"),
    ("{every: 30m, for: 2h}", "{every: 30m, for:2h}", "(a colon needs a space after it: `for: 2h`)"),
    ("{expect: A working workaround or mitigation in place,", "{expect: A working workaround,mitigation,",
     "unknown key `mitigation` (a comma inside a {...} value starts a new key: put the text in quotes)"),
    ("{expect: A working workaround or mitigation in place,", "{expect: A working workaround, mitigation in place,",
     "unknown key `mitigation in place` (a comma inside"),
    ("    at_least: 4\n", "    at_least: 5\n", "no severity has level 5 (levels: 1, 2, 3, 4)"),
    ("exceptions: []\n", EXCEPTION.replace("{notify: [leadership]}", "{targets: {sev_1: {acknowledge: 10m}}}"),
     "unknown severity `sev_1`; did you mean `sev1`?"),
    ("exceptions: []\n", EXCEPTION.replace("{notify: [leadership]}", "{update_every: {sevv3: 1h}}"),
     "unknown severity `sevv3`; did you mean `sev3`?"),
    ("exceptions: []\n", EXCEPTION.replace("{notify: [leadership]}", "{targets: {sev1: {acknowlege: 10m}}}"),
     "unknown target `acknowlege`; did you mean `acknowledge`?"),
])
def test_a_mistyped_key_or_id_says_what_was_meant_at_its_place(old, new, hint):
    text = edit(old, new)
    problems = lint(text.encode(), "matrix.yaml", today=TODAY)
    found = [p for p in problems if hint in p.message]
    assert len(found) == 1, [p.format() for p in problems]
    word = hint.split("`")[1] if "`" in hint else "5"  # the reported place holds the mistake
    assert text.splitlines()[found[0].line - 1][found[0].column - 1:].startswith(word.split()[0]), found[0].format()


GRID = (Path(__file__).parent / "matrices" / "priority_grid.yaml").read_text()


def test_a_dip_in_a_grid_is_reported_at_its_rule_for_every_cell_unless_intended():
    dipped = GRID.replace("{id: low_high, when: {impact: low, urgency: high}, at_least: 3,",
                          "{id: low_high, when: {impact: low, urgency: high}, at_least: 1,")
    dipped = dipped.replace("{id: high_low, when: {impact: high, urgency: low}, at_least: 3,",
                            "{id: high_low, when: {impact: high, urgency: low}, at_least: 1,")
    problems = [p for p in lint(dipped.encode(), "grid.yaml", today=TODAY) if p.code == "L406"]
    assert [(p.line, p.level) for p in problems] == [(line_of(dipped, "{id: high_low"), "warning"),
                                                     (line_of(dipped, "{id: low_high"), "warning")]
    assert "rule `low_high` gives severity 1 for impact `One person`, urgency `Work has stopped`; the worse impact " \
           "`A team or site` gives only 2 (by `medium_high`)" in problems[1].message
    assert "rule `high_low` gives severity 1 for impact `The organisation`, urgency `Can wait`; the worse urgency " \
           "`Work is slowed` gives only 2 (by `high_medium`)" in problems[0].message
    intended = dipped.replace("because: \"Low impact, high urgency.\"}",
                              "because: \"Low impact, high urgency.\", intended_dip: The desk treats stopped work as "
                              "critical for one person.}")
    left = [p for p in lint(intended.encode(), "grid.yaml", today=TODAY) if p.code == "L406"]
    assert [p.line for p in left] == [line_of(dipped, "{id: high_low")]


PLANS_TEXT = (Path(__file__).parent.parent / "examples" / "plan-tiered-first-response.yaml").read_text()


@pytest.mark.parametrize(("old", "new", "code", "level", "needle", "words"), [
    ("  default: standard\n  tiers:", "  default: standad\n  tiers:", "R310", "error", "default: standad",
     "unknown plan `standad`; did you mean `standard`?"),
    ("  chosen_by: support_plan", "  chosen_by: impact", "R310", "error", "chosen_by: impact",
     "`impact` must be a one-of question whose choices are the plans (standard, premium)"),
    ("        p2: {acknowledge: 1h}", "        p22: {acknowledge: 1h}", "R307", "error", "p22:",
     "unknown severity `p22`; did you mean `p2`?"),
    ("        p3: {acknowledge: 4h}", "        p3: {acknowledge: 4h, calendar: ofice}", "R302", "error",
     "calendar: ofice", "unknown calendar `ofice`; did you mean `office`?"),
    ("        p2: {acknowledge: 1h}", "        p2: {acknowledge: 10h}", "L422", "error", "p2: {acknowledge: 10h}",
     "plan `premium`: `p2` is more severe than `p3` but its acknowledge target is slower (10 h against 4 h)"),
    ("        p4: {acknowledge: 8h}", "        p4: {acknowledge: 8h, assign_owner: 2h}", "L422", "error",
     "assign_owner: 2h", "plan `premium`: `p4`'s assign_owner (2 h) comes before its acknowledge (8 h)"),
    ("  - {id: questions, when: {}, at_least: 4,", "  - {id: questions, when: {support_plan: standard}, at_least: 4,",
     "L405", "error", "support_plan: standard}", "reads the plan question `support_plan`"),
])
def test_a_mistake_in_the_plans_is_reported_at_its_place(old, new, code, level, needle, words):
    assert PLANS_TEXT.count(old) == 1, old
    text = PLANS_TEXT.replace(old, new)
    hits = [p for p in lint(text.encode(), "plans.yaml", today=TODAY) if p.code == code]
    assert hits, [p.format() for p in lint(text.encode(), "plans.yaml", today=TODAY)]
    assert hits[0].level == level and words in hits[0].message, hits[0].format()
    assert hits[0].line == line_of(text, needle), hits[0].format()


def test_the_plan_question_is_not_reported_unused():
    assert lint(PLANS_TEXT.encode(), "plans.yaml", today=TODAY) == []


@pytest.mark.parametrize(("old", "new", "words"), [
    ("within: 40h}", "within: 5d}", "`5d` on the business-hours calendar `business_hours` counts 120 h of open time, "
     "15 business days of 8 h: write `15bd`, or `120h` to keep it"),
    ("      acknowledge: 4h\n      assign_owner: 8h", "      acknowledge: 4h\n      assign_owner: 1w",
     "`1w` on the business-hours calendar `business_hours` counts 168 h of open time, 21 business days of 8 h"),
])
def test_days_on_a_business_hours_calendar_are_called_out(old, new, words):
    text = edit(old, new)
    hits = [p for p in lint(text.encode(), "matrix.yaml", today=TODAY) if p.code == "L423"]
    assert len(hits) == 1 and words in hits[0].message and hits[0].level == "warning", [p.format() for p in hits]
    assert hits[0].line == line_of(text, new.split()[-1])


def test_business_days_count_the_open_hours_of_a_business_day(tmp_path):
    text = edit("within: 40h}", "within: 5bd}")
    assert lint(text.encode(), "matrix.yaml", today=TODAY) == []
    path = tmp_path / "m.yaml"
    path.write_text(text)
    runner = CliRunner()
    args = ["ask", "--matrix", str(path), "--no-input", "--no-record", "--at", "2026-12-01T10:00:00-05:00",
            "-a", "confirmed=yes", "-a", "scope=one_account", "-a", "impact=workflow_blocked", "-a", "workaround=available",
            "-a", "security=no", "-a", "deadline=no"]
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert data["severity"]["level"] == 3
    # 5 business days of 8 h from Tuesday 10:00 on Mon-Fri 09:00-17:00: the same time the next Tuesday.
    assert data["targets"]["resolution"] == {"within": "PT40H", "due": "2026-12-08T10:00:00-05:00"}
    published = runner.invoke(app, ["show", "--matrix", str(path), "--format", "markdown"]).stdout
    assert "within 5 business days (40 h)" in published


def test_an_exception_on_a_level_that_promises_only_a_first_response_is_checked_without_a_crash():
    text = (Path(__file__).parent.parent / "examples" / "first-response-24x5.yaml").read_text()
    text += ("exceptions:\n  - id: launch\n    scope: {account: Acme}\n    changes: {targets: {high: {acknowledge: 30h}}}\n"
             "    reason: Launch\n    approver: support_manager\n    expires: 2027-01-31\n")
    problems = lint(text.encode(), "vendor.yaml", today=TODAY)
    assert [(p.code, p.level) for p in problems] == [("L420", "warning")], [p.format() for p in problems]
    assert "makes `high`'s acknowledge target slower than `normal`'s (30 h against 12 h)" in problems[0].message
