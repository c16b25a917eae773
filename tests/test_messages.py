"""Customer texts as a customer receives them: for every severity, override and exception of the shipped
matrix, no role, queue, internal action or override reason; and paragraphs that wrap where they are shown."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.engine.decide import resolve_answers, triage
from triage.matrix.loader import Matrix, check, read_matrix

from .conftest import MATRIX_PATH, NEW_YORK, shipped_text

runner = CliRunner()
REASON = "CFO escalated; payroll for 2,000 staff due tomorrow"
EXCEPTION = """exceptions:
  - id: acme_watch
    scope: {account: Acme}
    changes: {targets: {sev2: {acknowledge: 15m}, sev3: {acknowledge: 1h}}, notify: [customer_success],
              update_every: {sev3: 2h}}
    reason: Renewal under negotiation
    approver: support_lead
    expires: 2099-03-31
"""


def internal_words(matrix: Matrix) -> list[str]:
    """What a customer must never read: role ids and names, where roles are reached, internal actions, and
    the override reason."""
    roles = matrix.model.roles
    words = [*roles, *(r.name for r in roles.values()), *(r.where for r in roles.values()), REASON,
             matrix.model.communication.internal_updates.where]
    words += [step.action for sev in matrix.model.severities.values() for step in sev.routing.steps]
    return words


def leaks(text: str, words: list[str]) -> list[str]:
    return [w for w in words if re.search(r"(?<![\w-])" + re.escape(w) + r"(?![\w-])", text, re.IGNORECASE)]


def every_answer_set(matrix: Matrix):
    questions = [q.id for q in matrix.model.questions if q.id != "areas"]
    for combo in itertools.product(*(matrix.domain(q) for q in questions)):
        yield {**dict(zip(questions, combo)), "areas": ()}


@pytest.mark.parametrize("exception", [False, True])
def test_no_customer_text_names_a_role_a_queue_an_action_or_an_override_reason(exception):
    from datetime import datetime

    text = shipped_text().replace("exceptions: []\n", EXCEPTION) if exception else shipped_text()
    matrix = read_matrix(text.encode(), "matrix.yaml")
    words = internal_words(matrix)
    seen = set()
    at = datetime(2026, 11, 27, 10, tzinfo=NEW_YORK)
    for given in itertools.islice(every_answer_set(matrix), 0, None, 7):
        answers, skipped = resolve_answers(matrix, given, assume_severity=True)
        computed = triage(matrix, answers, skipped=skipped, at=at, account="Acme" if exception else None)
        for level in [None, *(lvl for lvl in matrix.levels if lvl != computed.computed.level)]:
            result = computed if level is None else triage(
                matrix, answers, skipped=skipped, at=at, override=(level, REASON), ticket="INC-1",
                account="Acme" if exception else None)
            customer = result.update["customer"]
            assert not leaks(customer, words), (given, level, customer)
            seen.add(result.level)
    assert seen == set(matrix.levels)


def test_the_final_message_says_what_was_resolved_and_nothing_internal(tmp_path):
    common = ["--matrix", str(MATRIX_PATH), "--at"]
    runner.invoke(app, ["ask", "--no-input", "--ticket", "F-1", *common, "2027-01-04T10:00", "-a", "confirmed=yes",
                        "-a", "scope=one_user", "-a", "impact=none", "-a", "security=no", "--severity", "2",
                        "--override-reason", REASON])
    closed = runner.invoke(app, ["close", "F-1", *common, "2027-01-04T11:00", "-f", "json", "--item",
                                 "resolution_note=The export button works again.", "--item", "impact_ended=yes",
                                 "--item", "final_message=yes", "--item", "knowledge_article=KB-1",
                                 "--item", "trend_tags=exports"])
    message = json.loads(closed.stdout)["message"]
    assert message.startswith("Ticket F-1 is resolved: The export button works again. If anything")
    matrix = read_matrix(MATRIX_PATH.read_bytes(), "matrix.yaml")
    labels = [label for q in matrix.model.questions for label in q.choices.values()]
    assert not leaks(message, internal_words(matrix) + labels)


def test_validate_reports_a_customer_template_that_names_a_role():
    text = shipped_text().replace("      Next update: $next_update_at\n", "      Next update: $next_update_at\n"
                                  "      Owner: $owner\n", 1)
    _, problems = check(text.encode(), "m.yaml")
    [problem] = [p for p in problems if p.code == "L416"]
    assert problem.level == "error" and "`$owner` names an internal role" in problem.message
    assert text.splitlines()[problem.line - 1].strip() == "Owner: $owner"


def test_a_template_line_broken_inside_a_sentence_is_reported_and_the_shipped_ones_are_paragraphs():
    broken = shipped_text().replace("Ticket $ticket is resolved: $resolution_note. If anything still looks wrong, "
                                    "reply to this message\n      and we will",
                                    "Ticket $ticket is resolved: $resolution_note. If anything still looks wrong,\n"
                                    "      reply to this message and we will")
    assert broken != shipped_text()
    broken = broken.replace("    resolved: >-", "    resolved: |-")
    _, problems = check(broken.encode(), "m.yaml")
    assert [p.code for p in problems if p.code == "L418"] == ["L418"]
    matrix = read_matrix(MATRIX_PATH.read_bytes(), "matrix.yaml")
    for stage in ("under_review", "escalated", "resolved"):
        assert "\n" not in matrix.model.communication.templates[stage]


def noted(prompter) -> None:
    """Record the lines a prompter shows among the questions it asks, in order."""
    prompter.note = lambda parts: prompter.asked.append("note: " + "".join(text for _, text in parts))


SEV3 = ["-a", "confirmed=yes", "-a", "scope=one_account", "-a", "impact=workflow_blocked", "-a", "workaround=available",
        "-a", "security=no", "-a", "deadline=no"]


def test_close_shows_the_final_message_before_asking_whether_it_was_sent(terminal):
    common = ["--matrix", str(MATRIX_PATH), "--at"]
    runner.invoke(app, ["ask", "--no-input", "--ticket", "C-9", *common, "2027-01-04T10:00", *SEV3])
    prompter = terminal(["Exports work again\r", "\r", "\r", "\r", "KB-7\r", "exports\r", "\r"])
    noted(prompter)
    closed = runner.invoke(app, ["close", "C-9", *common, "2027-01-04T12:00"])
    assert closed.exit_code == 0, closed.output
    shown = next(i for i, line in enumerate(prompter.asked) if "Ticket C-9 is resolved: Exports work again." in line)
    assert prompter.asked[0] == "What was resolved, in a sentence for the customer"
    assert shown < prompter.asked.index("Send the final customer message.")


def test_update_shows_the_ticket_before_asking_for_the_impact(terminal):
    common = ["--matrix", str(MATRIX_PATH), "--at"]
    runner.invoke(app, ["ask", "--no-input", "--ticket", "U-1", *common, "2027-01-04T10:00", *SEV3])
    runner.invoke(app, ["update", "U-1", *common, "2027-01-04T11:00", "--impact", "Slow exports", "--actions",
                        "Cleared the cache", "--next-step", "Watch the queue"])
    prompter = terminal(["Still slow\r", "Restarted\r", "Watch\r"])
    noted(prompter)
    result = runner.invoke(app, ["update", "U-1", *common, "2027-01-05T10:00"])
    assert result.exit_code == 0, result.output
    context, impact = prompter.asked[:3], prompter.asked.index("Current impact")
    assert impact == 3
    assert context[0] == "note: U-1: Severity 3 (Moderate), owner Frontline support"
    assert context[1] == "note: This update is due Tue 05 Jan 2027 11:00 EST (in 1 h)."  # 8 business hours on
    assert "Current impact: Slow exports" in context[2]


def ask(ticket: str, at: str, *answers: str, extra: tuple[str, ...] = ()) -> None:
    done = runner.invoke(app, ["ask", "--no-input", "--ticket", ticket, "--matrix", str(MATRIX_PATH), "--at", at,
                               *answers, *extra])
    assert done.exit_code == 0, done.output


SEV1 = ["-a", "confirmed=yes", "-a", "scope=system_wide", "-a", "impact=service_unavailable", "-a", "workaround=none",
        "-a", "security=no", "-a", "deadline=no"]
SEV4 = ["-a", "confirmed=yes", "-a", "scope=one_user", "-a", "impact=none", "-a", "security=no"]


def test_a_due_time_says_which_closed_days_it_skips_and_that_it_is_business_time():
    out = runner.invoke(app, ["ask", "--no-input", "--no-record", "--matrix", str(MATRIX_PATH), "--at",
                              "2026-12-24T12:00", *SEV4], env={"COLUMNS": "200"}).stdout
    assert "8 h of business time; skips the weekend and Christmas Day" in out
    markdown = runner.invoke(app, ["ask", "--no-input", "--no-record", "--matrix", str(MATRIX_PATH), "--at",
                                   "2026-12-24T12:00", *SEV4, "-f", "markdown"]).stdout
    assert "| Acknowledge the customer | 8 h of business time; skips the weekend and Christmas Day |" in markdown


def test_lateness_is_worded_one_way_and_says_business_time():
    ask("L-1", "2027-01-04T10:00", *SEV3)
    common = ["--matrix", str(MATRIX_PATH), "--impact", "a", "--actions", "b", "--next-step", "c"]
    late = runner.invoke(app, ["update", "L-1", "--at", "2027-01-05T15:00", *common]).stdout  # due 01-05 10:00
    assert "is late by 5 h of business time" in " ".join(late.split())
    story = runner.invoke(app, ["history", "L-1", "-f", "json"]).stdout
    assert json.loads(story)["events"][-1]["summary"].startswith("update late by 5 h of business time")


def test_show_writes_business_steps_in_business_hours_wraps_at_80_columns_and_gives_hours_as_ranges():
    out = runner.invoke(app, ["show", "--matrix", str(MATRIX_PATH)], env={"COLUMNS": "80"}).stdout
    assert "…" not in out and "..." not in out
    assert "Mon-Fri 09:00-17:00 (America/New_York)" in " ".join(out.split())
    assert "1 d 16 h" not in out and "40 h of business" in " ".join(out.split())


def test_a_handoff_says_where_the_role_is_reached_and_follows_the_tickets_state():
    ask("H-9", "2027-01-04T10:00", *SEV3)
    common = ["--matrix", str(MATRIX_PATH), "-f", "json", "--no-input"]
    lead = json.loads(runner.invoke(app, ["handoff", "H-9", "--to", "support_lead", "--at", "2027-01-04T10:30",
                                          *common]).stdout)
    assert lead["point"] == "triage_to_owner" and lead["where"] == "support leads channel"
    text = runner.invoke(app, ["handoff", "H-9", "--to", "engineering_oncall", "--at", "2027-01-04T11:00",
                               "--matrix", str(MATRIX_PATH), "--no-input"]).stdout
    assert "Owner to specialist" in text and "Reach them at: on-call paging rotation" in text
    back = runner.invoke(app, ["handoff", "H-9", "--to", "frontline", "--at", "2027-01-04T11:30", *common])
    assert json.loads(back.stdout)["point"] == "triage_to_owner"  # frontline receives nothing later


def build_queue() -> None:
    ask("INC-1001-LONG-REFERENCE", "2027-01-04T09:00", *SEV1)  # acknowledge due 09:15: overdue at 10:20
    ask("B-2", "2027-01-04T09:30", *SEV3, extra=("--account", "Acme"))
    ask("C-3", "2027-01-04T09:40", *SEV4)
    runner.invoke(app, ["close", "C-3", "--matrix", str(MATRIX_PATH), "--at", "2027-01-04T10:00", "--item",
                        "resolution_note=Answered", "--item", "impact_ended=yes", "--item", "final_message=yes",
                        "--item", "knowledge_article=KB", "--item", "trend_tags=howto"])
    runner.invoke(app, ["update", "B-2", "--matrix", str(MATRIX_PATH), "--at", "2027-01-04T10:00", "--impact", "a",
                        "--actions", "b", "--next-step", "c"])


def queue(*args: str, width: str = "80") -> str:
    done = runner.invoke(app, ["queue", "--matrix", str(MATRIX_PATH), "--at", "2027-01-04T10:20", *args],
                         env={"COLUMNS": width})
    assert done.exit_code == 0, done.output
    return done.stdout


def test_the_queue_orders_open_tickets_by_the_next_promise_and_fits_80_columns():
    build_queue()
    data = json.loads(queue("-f", "json"))
    assert [(t["ticket"], t["promise"], t["overdue"]) for t in data["tickets"]] == [
        ("INC-1001-LONG-REFERENCE", "acknowledge", True), ("B-2", "assign_owner", False)]  # C-3 is closed
    assert data["tickets"][0]["minutes_left"] == -65 and data["tickets"][1]["due"] == "2027-01-05T09:30:00-05:00"
    text = queue()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "INC-1001-LONG-REFERENCE" in text and "04 Jan 09:15" in text and "C-3" not in text  # ids and times whole
    assert "overdue by 1 h 5 min" in queue(width="120")
    assert [t["ticket"] for t in json.loads(queue("--overdue", "-f", "json"))["tickets"]] == ["INC-1001-LONG-REFERENCE"]
    assert [t["ticket"] for t in json.loads(queue("--role", "frontline", "-f", "json"))["tickets"]] == ["B-2"]
    assert [t["ticket"] for t in json.loads(queue("--severity", "1", "-f", "json"))["tickets"]] == [
        "INC-1001-LONG-REFERENCE"]
    assert [t["ticket"] for t in json.loads(queue("--account", "acme", "-f", "json"))["tickets"]] == ["B-2"]
    assert queue("-f", "csv").splitlines()[1].startswith("INC-1001-LONG-REFERENCE,1,acknowledge,2027-01-04T09:15")
    assert "| B-2 | 3 | assign an owner | 05 Jan 09:30 | in 23 h 10 min | frontline |" in queue("-f", "markdown")


def test_history_marks_what_is_overdue_fits_80_columns_and_shows_the_matrix_zone():
    build_queue()
    ask("NOW-1", "2027-01-04T10:10", *SEV4)
    out = runner.invoke(app, ["history", "--at", "2027-01-04T10:20"], env={"COLUMNS": "80"}).stdout
    assert all(len(line) <= 80 for line in out.splitlines())
    flat = " ".join(out.split())
    assert "times in America/New_York (EST)" in flat and "INC-1001-LONG-REFERENCE" in out
    wide = " ".join(runner.invoke(app, ["history", "--at", "2027-01-04T10:20"], env={"COLUMNS": "160"}).stdout.split())
    assert "acknowledge due 04 Jan 09:15, overdue by 1 h 5 min" in wide and "closed 04 Jan 10:00" in wide
    fresh = runner.invoke(app, ["ask", "--no-input", "--ticket", "LIVE-1", "--matrix", str(MATRIX_PATH), *SEV4])
    assert fresh.exit_code == 0
    story = json.loads(runner.invoke(app, ["history", "LIVE-1", "-f", "json"]).stdout)
    from datetime import datetime

    opened = datetime.fromisoformat(story["events"][0]["at"]).astimezone(NEW_YORK)
    listed = runner.invoke(app, ["history"], env={"COLUMNS": "120"}).stdout
    assert opened.strftime("%d %b %H:%M") in listed
