"""The decision engine on the shipped matrix: the guide's cases, every combination, overrides."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from triage.engine.decide import decide, resolve_answers, triage
from triage.errors import AnswerError, InputError, MissingAnswerError

from .conftest import run

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
BASE = {"confirmed": "yes", "security": "no"}


@pytest.mark.parametrize(("case", "given", "level"), [
    ("system-wide outage, no workaround", {"scope": "system_wide", "impact": "service_unavailable",
                                           "workaround": "none"}, 1),
    ("suspected security event, one account", {"scope": "one_account", "impact": "inconvenient",
                                               "workaround": "available", "security": "yes"}, 1),
    ("one account blocked, risky workaround", {"scope": "one_account", "impact": "workflow_blocked",
                                               "workaround": "limited"}, 2),
    ("limited problem with a workaround", {"scope": "one_user", "impact": "inconvenient", "workaround": "available"},
     3),
    ("question or cosmetic issue", {"scope": "one_user", "impact": "none"}, 4),
    ("cosmetic issue, strategic account", {"scope": "one_user", "impact": "none", "strategic_account": "yes"}, 4),
    ("time-bound event at risk raises the floor", {"scope": "one_user", "impact": "inconvenient",
                                                   "workaround": "available", "deadline": "yes"}, 2),
    ("unconfirmed widespread outage", {"confirmed": "no", "scope": "many_accounts", "impact": "service_unavailable",
                                       "workaround": "none"}, 2),
])
def test_guide_cases(matrix, case, given, level):
    result = run(matrix, AT, **{**BASE, **given})
    assert result.level == level, case
    assert result.computed.rules, "every severity comes with its reasons"


def test_strategic_account_changes_communication_not_severity(matrix):
    plain = run(matrix, AT, **BASE, scope="one_user", impact="none")
    strategic = run(matrix, AT, **BASE, scope="one_user", impact="none", strategic_account="yes")
    assert plain.level == strategic.level == 4
    assert "customer_success" not in plain.notify
    assert "customer_success" in strategic.notify
    assert [r for _, r, _ in strategic.routes] == ["customer_success"]


def guide_severity(a: dict) -> int:
    """The guide's definitions, written out independently of the matrix's rules."""
    blocked = a["impact"] in ("workflow_blocked", "revenue_risk", "service_unavailable")
    many = a["scope"] in ("many_accounts", "system_wide")
    if a["security"]:
        return 1  # a suspected security event is critical until ruled out
    if many and blocked and a["confirmed"] and a["workaround"] == "none":
        return 1  # many customers cannot use a core function, no acceptable workaround
    if many and blocked:
        return 2  # important functionality degraded for a meaningful group
    if a["scope"] == "one_account" and blocked and a["workaround"] in ("limited", "none"):
        return 2  # one customer seriously disrupted, workaround hard or risky
    if a["deadline"]:
        return 2  # a time-sensitive workflow at risk
    if a["impact"] != "none":
        return 3  # partial issue, workaround available, or limited users
    return 4  # question, cosmetic, request


def every_combination(matrix):
    kinds = matrix.kinds
    ids = [q.id for q in matrix.model.questions]
    for combo in itertools.product(*(matrix.domain(q) for q in ids)):
        given = dict(zip(ids, combo))
        given = {k: (list(v) if isinstance(v, tuple) else v) for k, v in given.items()}
        yield given
    assert kinds


def test_every_answer_combination_matches_the_guide(matrix):
    checked = 0
    for given in every_combination(matrix):
        answers, _skipped = resolve_answers(matrix, given)
        expected = guide_severity(answers)
        assert decide(matrix, answers).level == expected, given
        checked += 1
    assert checked == 2 * 4 * 5 * 3 * 2 * 32 * 2 * 2 * 2


def test_questions_that_do_not_apply_take_their_default(matrix):
    answers, skipped = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none",
                                                "workaround": "none", "deadline": "yes"})
    assert skipped == ["workaround", "deadline"]
    assert answers["workaround"] == "available" and answers["deadline"] is False


@pytest.mark.parametrize(("given", "error", "text"), [
    ({**BASE, "scope": "galaxy", "impact": "none"}, AnswerError, "one_user, one_account, many_accounts, system_wide"),
    ({**BASE, "scope": "one_user", "impact": "none", "security": "maybe"}, AnswerError, "yes or no"),
    ({**BASE, "scope": "one_user", "impact": "none", "areas": "billing,tax"}, AnswerError, "'tax'"),
    ({**BASE, "scope": "one_user", "impact": "none", "colour": "red"}, AnswerError, "unknown question `colour`"),
    ({"confirmed": "yes", "scope": "one_user"}, MissingAnswerError, "--answer impact="),
])
def test_bad_answers_are_refused_with_the_allowed_values(matrix, given, error, text):
    with pytest.raises(error) as caught:
        resolve_answers(matrix, given)
    assert text in caught.value.message


def test_yes_no_accepts_booleans_and_words(matrix):
    for yes in (True, "yes", "TRUE", "y"):
        answers, _ = resolve_answers(matrix, {**BASE, "security": yes, "scope": "one_user", "impact": "none"})
        assert answers["security"] is True


def test_any_of_accepts_lists_and_commas_in_choice_order(matrix):
    a, _ = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none", "areas": "compliance, billing"})
    b, _ = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none", "areas": ["compliance", "billing"]})
    assert a["areas"] == b["areas"] == ("billing", "compliance")


def test_override_keeps_both_decisions_and_moves_the_targets(matrix):
    answers, skipped = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none"})
    result = triage(matrix, answers, skipped=skipped, at=AT, override=(2, "Contract penalty clause"))
    assert (result.computed.level, result.level) == (4, 2)
    assert result.targets["acknowledge"].due == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    data = result.to_json()
    assert data["override"] == {"level": 2, "reason": "Contract penalty clause"}
    assert data["computed_severity"]["id"] == "sev4" and data["severity"]["id"] == "sev2"


@pytest.mark.parametrize(("override", "text"), [
    ((4, "same"), "already gives Severity 4"),
    ((2, "   "), "needs a reason"),
    ((9, "why"), "does not exist"),
])
def test_bad_overrides(matrix, override, text):
    answers, _skipped = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none"})
    with pytest.raises(AnswerError, match=text):
        triage(matrix, answers, at=AT, override=override)


def test_triage_time_needs_an_offset(matrix):
    answers, _ = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none"})
    with pytest.raises(InputError):
        triage(matrix, answers, at=datetime(2026, 11, 27, 10, 0))


def test_routes_and_notifications(matrix):
    result = run(matrix, AT, **BASE, scope="one_account", impact="revenue_risk", workaround="available",
                 areas="billing,permissions,compliance", vendor="yes")
    roles = [role for _, role, _ in result.routes]
    assert roles == ["engineering_oncall", "engineering_oncall", "finance", "security", "compliance", "vendor_manager"]
    assert "compliance" in result.notify


def test_sev1_escalation_path_follows_the_guide(matrix):
    result = run(matrix, AT, **BASE, scope="system_wide", impact="service_unavailable", workaround="none")
    assert [role for role, _, _ in result.steps] == ["frontline", "support_lead", "engineering_oncall"]
    assert result.owner == "support_lead"
    assert result.notify == ["leadership", "customer_success"]


def test_update_texts_follow_the_update_format(matrix):
    result = run(matrix, AT, **BASE, scope="one_account", impact="workflow_blocked", workaround="limited")
    customer = result.update["customer"]
    for label in ("Summary:", "Current impact:", "Actions taken:", "Next step:", "Next update:"):
        assert label in customer
    assert "Product specialist" not in customer and "Product specialist" in result.update["internal"]
    assert "An expert on this part of the product takes over your ticket" in customer  # the step's own wording
    assert "Fri 27 Nov 2026 06:00 EST" in customer  # next update one hour after 05:00 EST
    assert "$" not in customer and "$" not in result.update["internal"]


def test_packet_lists_missing_fields(matrix):
    answers, _skipped = resolve_answers(matrix, {**BASE, "scope": "one_user", "impact": "none"})
    result = triage(matrix, answers, at=AT, packet={"logs": "req-123", "attachments": "  "})
    assert result.packet["severity"] == "Severity 4 (Low)"
    assert result.packet["logs"] == "req-123"
    assert "attachments" in result.missing and "logs" not in result.missing
    with pytest.raises(AnswerError, match="unknown packet field"):
        triage(matrix, answers, at=AT, packet={"mood": "calm"})


KINDS = {"signals": ("any_of", ("a", "b", "c", "d")), "flag": ("yes_no", ())}


@pytest.mark.parametrize(("clause", "chosen", "holds"), [
    ({"at_least": 2, "of": ["a", "b", "c", "d"]}, (), False),
    ({"at_least": 2, "of": ["a", "b", "c", "d"]}, ("c",), False),
    ({"at_least": 2, "of": ["a", "b", "c", "d"]}, ("a", "d"), True),
    ({"at_least": 2, "of": ["a", "b"]}, ("a", "c", "d"), False),  # only the listed choices count
    ({"at_least": 1, "of": ["b"]}, ("b",), True),
    ({"at_least": 4, "of": ["a", "b", "c", "d"]}, ("a", "b", "c", "d"), True),
    (["a", "b"], ("b",), True),
    ({"all_of": ["a", "b"]}, ("b",), False),
    ({"none_of": ["a"]}, ("b",), True),
])
def test_at_least_k_of_n(clause, chosen, holds):
    from triage.matrix.conditions import matches, normalise

    condition, problems = normalise({"signals": clause}, KINDS)
    assert problems == []
    assert matches(condition, {"signals": chosen}) is holds


@pytest.mark.parametrize(("clause", "message"), [
    ({"at_least": 5, "of": ["a", "b", "c", "d"]}, "`at_least` is a whole number from 1 to 4"),
    ({"at_least": 0, "of": ["a"]}, "`at_least` is a whole number from 1 to 1"),
    ({"at_least": 2, "of": []}, "`of` lists the choices to count"),
    ({"at_least": 1, "of": ["a", "e"]}, "`e` is not a choice of `signals`"),
    ({"at_least": 1}, "{at_least: N, of: [choices]}"),
])
def test_a_bad_count_is_refused(clause, message):
    from triage.matrix.conditions import normalise

    _, problems = normalise({"signals": clause}, KINDS)
    assert any(message in text for _, text, _ in problems), problems


def test_a_route_on_two_of_the_money_areas_and_a_question_that_is_only_recorded(tmp_path):
    from triage.engine.lint import lint
    from triage.matrix.loader import read_matrix

    from .conftest import shipped_text

    text = shipped_text().replace("routes:\n", "routes:\n  - id: money_pile_up\n    when: {areas: {at_least: 2, of: "
                                  "[billing, invoicing, payroll]}}\n    role: leadership\n    reason: Money twice.\n", 1)
    text = text.replace("  - id: vendor\n", "  - id: customer_priority\n    kind: one_of\n    ask: Which priority did the "
                        "customer choose?\n    help: As the form shows it.\n    choices: {low: Low, high: High}\n"
                        "    default: low\n    affects: record\n  - id: vendor\n", 1)
    assert [p.format() for p in lint(text.encode(), "m.yaml", today=AT.date())] == []
    matrix = read_matrix(text.encode(), "m.yaml")
    for areas, routed in ((["billing"], False), (["billing", "payroll"], True), (["permissions", "payroll"], False)):
        given = {**BASE, "scope": "one_user", "impact": "inconvenient", "workaround": "available", "areas": areas,
                 "deadline": "no",
                 "customer_priority": "high"}
        answers, skipped = resolve_answers(matrix, given)
        result = triage(matrix, answers, skipped=skipped, at=AT)
        assert ("leadership" in {role for _, role, _ in result.routes}) is routed, areas
        assert result.answers["customer_priority"] == "high"
    reads = text.replace("    when: {}\n    at_least: 4\n", "    when: {customer_priority: low}\n    at_least: 4\n")
    codes = [(p.code, p.level) for p in lint(reads.encode(), "m.yaml", today=AT.date())]
    assert ("L405", "error") in codes
