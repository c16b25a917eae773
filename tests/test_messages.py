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
