"""`triage show`, `init` and `diff`, and matrices shaped like other organisations' policies."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli.app import app

from .browser import rendered_dom, screenshot
from .conftest import MATRIX_PATH, shipped_text

runner = CliRunner()
OTHERS = Path(__file__).parent / "matrices"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_show_markdown_has_every_part():
    result = invoke("show", "--matrix", str(MATRIX_PATH), "--format", "markdown")
    assert result.exit_code == 0
    for heading in ("# Support escalation matrix", "## When to start a severity review", "## Severity levels",
                    "## Response targets", "## Triage questions", "## How severity is decided",
                    "## Routing and escalation", "## Cross-functional routes", "## Communication",
                    "## Handoff packet", "## Closing the loop", "## Exceptions in force",
                    "## Keeping this matrix current"):
        assert heading in result.stdout
    assert "| 1 Critical | around\\_the\\_clock | 15 min | 30 min | 30 min |" in result.stdout


def test_show_text_fits_the_terminal():
    result = invoke("show", "--matrix", str(MATRIX_PATH))
    assert result.exit_code == 0 and "Severity 1: Critical" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_show_html_renders_in_chromium(tmp_path):
    page = tmp_path / "matrix.html"
    result = invoke("show", "--matrix", str(MATRIX_PATH), "--format", "html", "--output", str(page))
    assert result.exit_code == 0
    dom = rendered_dom(page, tmp_path)
    assert "<title>Support escalation matrix</title>" in dom
    text = re.sub(r"<[^>]+>", " ", dom)
    for phrase in ("Severity 1: Critical", "Response targets", "Engineering on-call", "Closing the loop",
                   "Summary: $summary"):
        assert phrase in text
    assert screenshot(page, tmp_path).stat().st_size > 20_000  # a page with real content was painted


def test_html_from_hostile_text_runs_nothing(tmp_path):
    hostile = shipped_text().replace("label: Critical", 'label: "<script>document.title=\'pwned\'</script>"')
    path = tmp_path / "m.yaml"
    path.write_text(hostile)
    page = tmp_path / "m.html"
    assert invoke("show", "--matrix", str(path), "--format", "html", "--output", str(page)).exit_code == 0
    dom = rendered_dom(page, tmp_path)
    assert "<title>Support escalation matrix</title>" in dom
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom


def test_init_writes_a_valid_starter_and_never_overwrites(tmp_path):
    target = tmp_path / "new.yaml"
    assert invoke("init", str(target)).exit_code == 0
    assert f"revised: {datetime.now(UTC).date().isoformat()}" in target.read_text()
    assert invoke("validate", str(target), "--strict").exit_code == 0
    target.write_text("mine")
    result = invoke("init", str(target))
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert target.read_text() == "mine"


def test_diff_in_the_teams_words(tmp_path):
    new = tmp_path / "new.yaml"
    text = shipped_text()
    text = text.replace("      acknowledge: 30m\n", "      acknowledge: 20m\n")
    text = text.replace("        - {role: engineering_oncall, action: Review if the specialist",
                        "        - {role: security, action: Review if the specialist")
    text = text.replace("  - id: third_party\n", "  - id: outside_help\n")
    text = text.replace("    when: {deadline: true}\n    at_least: 2", "    when: {deadline: true}\n    at_least: 1")
    text = text.replace("Work goes on with some friction.", "Work continues, with friction.")
    new.write_text(text)
    result = invoke("diff", str(MATRIX_PATH), str(new))
    assert result.exit_code == 0
    out = result.stdout
    assert "acknowledge target shortened from 30 min to 20 min" in out
    assert "Security team added to the escalation path" in out
    assert "route `third_party` to Vendor manager removed" in out
    assert "rule `dated_event_at_risk` raised from at least 2 to at least 1" in out
    assert "reason of `friction` reworded" in out
    assert "answer combinations get a different severity" in out
    data = json.loads(invoke("diff", str(MATRIX_PATH), str(new), "--format", "json").stdout)
    kinds = {(c["section"], c["kind"]) for c in data["changes"]}
    assert ("routes", "removed") in kinds and ("routes", "added") in kinds


def test_diff_reads_as_published_and_warns_about_a_new_file_that_does_not_validate(tmp_path):
    new = tmp_path / "new.yaml"
    text = shipped_text().replace("    when: {security: true}\n", "    when: {security: true, confirmed: true}\n", 1)
    text = text.replace("        - {every: 30m, for: 2h}\n        - {every: 1h}\n",
                        "        - {every: 20m, for: 2h}\n        - {every: 2h}\n", 1)
    text = text.replace("      owner: support_lead\n", "      owner: specialist\n", 1)
    text = text.replace("expect: {severity: 1, owner: support_lead,", "expect: {severity: 1, owner: specialist,")
    text = text.replace("within: 40h}", "within: 48h}", 1)
    text = text.replace("{confirmed: false, scope: one_account, impact: inconvenient, workaround: available, security: true}",
                        "{confirmed: true, scope: one_account, impact: inconvenient, workaround: available, security: true}")
    new.write_text(text)
    result = invoke("diff", str(MATRIX_PATH), str(new))
    assert result.exit_code == 0 and result.stderr == ""
    out = result.stdout
    assert "rule `suspected_security_event` now applies when security: yes; confirmed: yes (was security: yes)" in out
    assert "updates now every 20 min for 2 h, then every 2 h (was every 30 min for 2 h, then every 1 h)" in out
    assert "update cadence changed" not in out and "first update interval" not in out
    assert "owner after handoff is now Product specialist (was Support lead (incident commander))" in out
    assert "\n## Severity 1 (Critical)\n" in out
    assert "resolution target lengthened from 40 h to 48 h" in out  # business hours, as `show` writes them
    assert "\\`" not in out and "{'" not in out
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("      escalate: 2h\n", "      escalate: 20h\n"))
    result = invoke("diff", str(MATRIX_PATH), str(broken), "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["new_errors"] == 1
    assert f"warning: {broken} does not validate (1 error, the first: {broken}:" in result.stderr
    assert "[L408]); run `triage validate" in result.stderr


def test_diff_of_identical_files():
    result = invoke("diff", str(MATRIX_PATH), str(MATRIX_PATH))
    assert result.exit_code == 0 and "No changes." in result.stdout


@pytest.mark.parametrize("name", ["vendor_policy.yaml", "priority_grid.yaml"])
def test_other_organisations_policies_need_no_code_changes(name):
    result = invoke("validate", str(OTHERS / name), "--strict")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("answers", "level", "due"), [
    # Priority 1 is answered around the clock, even late on a Friday.
    (["environment=production", "effect=down"], 1, "2026-12-18T17:30:00+00:00"),
    # Priority 2 waits for London office hours: Monday 08:00 plus the hour left on Friday.
    (["environment=production", "effect=degraded"], 2, "2026-12-21T09:00:00+00:00"),
])
def test_vendor_policy_top_level_only_around_the_clock(answers, level, due):
    args = [x for a in answers for x in ("-a", a)]
    result = invoke("ask", "--matrix", str(OTHERS / "vendor_policy.yaml"), "--no-input", "--format", "json",
                    "--at", "2026-12-18T17:00:00Z", *args)
    data = json.loads(result.stdout)
    assert data["severity"]["level"] == level and data["targets"]["acknowledge"]["due"] == due


def test_priority_grid_covers_every_cell():
    expected = {("high", "high"): 1, ("high", "medium"): 2, ("medium", "high"): 2, ("high", "low"): 3,
                ("medium", "medium"): 3, ("low", "high"): 3, ("medium", "low"): 4, ("low", "medium"): 4,
                ("low", "low"): 4}
    for (impact, urgency), level in expected.items():
        result = invoke("ask", "--matrix", str(OTHERS / "priority_grid.yaml"), "--no-input", "--format", "json",
                        "-a", f"impact={impact}", "-a", f"urgency={urgency}", "--at", "2026-12-24T11:00:00+11:00")
        assert json.loads(result.stdout)["severity"]["level"] == level, (impact, urgency)


def test_show_publishes_a_24x5_policy_as_a_lead_would(tmp_path):
    text = (OTHERS / "vendor_policy.yaml").read_text().replace(
        '''    hours: {mon-fri: "08:00-18:00"}''',
        '''    name: Follow-the-sun weekdays\n    hours: {sun: "17:00-24:00", mon-thu: "00:00-24:00", fri: "00:00-17:00"}''')
    text = text.replace("Production is not usable.", "Production is down (< 1 user can work) & R&D is told.")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    result = invoke("show", "--matrix", str(path), "--format", "markdown")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "| 2 Priority 2 | Follow-the-sun weekdays (open hours count) | 2 h |" in out
    assert "- Follow-the-sun weekdays: Sun 17:00 - Fri 17:00 (Europe/London); public holidays of GB-ENG." in out
    assert "Mon 00:00" not in out and "business hours count" not in out
    assert "2027-05-31 Spring Bank Holiday (closed)" in out  # public holidays listed by date for the coming year
    assert "(< 1 user can work) & R&D" in out and "&lt; 1" not in out
    headings = [line for line in out.splitlines() if line.startswith("#")]
    for empty in ("## Cross-functional routes", "### Review it early when", "### Maintenance checklist"):
        assert empty not in headings  # the policy has none: no heading with nothing under it
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("## "):
            following = next(x for x in lines[i + 1:] if x.strip())
            assert not following.startswith("## "), line


def test_a_level_is_shown_by_its_own_name_everywhere(tmp_path):
    text = (OTHERS / "vendor_policy.yaml").read_text()
    text = text.replace("    level: 1\n    label: Priority 1\n", "    level: 1\n    name: P1\n    label: Critical\n")
    text = text.replace("    level: 2\n    label: Priority 2\n", "    level: 2\n    name: Urgent\n    label: Urgent\n")
    path = tmp_path / "m.yaml"
    path.write_text(text)
    args = ["ask", "--matrix", str(path), "--no-input", "--at", "2026-12-18T17:00:00Z", "-a", "environment=production"]
    shown = invoke(*args, "-a", "effect=down")
    assert shown.exit_code == 0, shown.output
    assert " P1  Critical" in shown.stdout and "SEVERITY" not in shown.stdout
    assert "measured on always: around the clock" in shown.stdout
    marked = invoke(*args, "-a", "effect=degraded", "--format", "markdown").stdout
    assert "**Urgent**:" in marked and "(Urgent)" not in marked and "Severity 2" not in marked
    data = json.loads(invoke(*args, "-a", "effect=down", "--format", "json").stdout)
    assert data["severity"] == {"level": 1, "id": "p1", "label": "Critical", "name": "P1"}
    assert "P1 (Critical)" in data["update"]["customer"] + data["update"]["internal"]
    published = invoke("show", "--matrix", str(path), "--format", "markdown").stdout
    assert "### P1: Critical" in published and "### Urgent\n" in published
    assert "| P1 Critical | always |" in published and "| Urgent | office" in published
    assert "Severity 1" not in published and "Severity 2" not in published
    old = tmp_path / "old.yaml"
    old.write_text((OTHERS / "vendor_policy.yaml").read_text())
    changed = invoke("diff", str(old), str(path)).stdout
    assert "now called P1 (Critical) (was Severity 1 (Priority 1))" in changed


def test_diff_names_what_changed_in_the_plans(tmp_path):
    old = Path(__file__).parent.parent / "examples" / "plan-tiered-first-response.yaml"
    text = old.read_text().replace(
        "p1: {calendar: around_the_clock, acknowledge: 15m, update_every: [{every: 1h}]}",
        "p1: {calendar: around_the_clock, acknowledge: 10m, update_every: [{every: 30m}]}")
    text = text.replace("    premium:\n", "    gold:\n      name: Gold\n    premium:\n", 1)
    text = text.replace("choices: {standard: Standard, premium: Premium}",
                        "choices: {standard: Standard, gold: Gold, premium: Premium}")
    text = text.replace("  timezone: Europe/Berlin\ntriggers:", "  timezone: Europe/Berlin\n  pauses: [resolution]\n"
                        "triggers:")
    new = tmp_path / "new.yaml"
    new.write_text(text)
    out = invoke("diff", str(old), str(new)).stdout
    assert "- P1 acknowledge target shortened from 15 min to 10 min" in out
    assert "- P1 first update interval shortened from 1 h to 30 min" in out
    assert "- plan `gold` (Gold) added" in out
    assert "- a wait on the customer now stops resolution (was none)" in out
