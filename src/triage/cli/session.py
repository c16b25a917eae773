"""The interactive triage session: header, questionnaire, decision, override, packet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from triage.cli.prompts import Prompter, interview
from triage.engine.decide import decide
from triage.matrix.loader import Matrix

if TYPE_CHECKING:
    from rich.console import Console


def review_overdue(matrix: Matrix, today: date) -> date | None:
    """The date the matrix's review fell due, if that is in the past."""
    info = matrix.model.matrix
    due = info.revised + timedelta(days=info.review_every_days)
    return due if due < today else None


def header(matrix: Matrix, prompter: Prompter, today: date) -> None:
    """Which matrix this is, written by the prompter's own means: the first question need not wait for the
    report library."""
    info = matrix.model.matrix
    prompter.note([("bold", info.name), ("dim", f"  version {info.version}, owned by {matrix.role_name(info.owner)}")])
    overdue = review_overdue(matrix, today)
    if overdue:
        prompter.note([("yellow", f"Warning: this matrix was due for review on {overdue.isoformat()} "
                                  f"(revised {info.revised.isoformat()}, "
                                  f"reviewed every {info.review_every_days} days).")])
    prompter.note([("dim",
                    "Answer each question; choose 'Back' to change an earlier answer. Ctrl-C stops without saving.")])


def session(matrix: Matrix, prompter: Prompter, err: Console | Callable[[], Console], *, given: dict[str, Any],
            ticket: str | None, override: tuple[int, str] | None, packet: dict[str, str], today: date,
            check_ticket: Callable[[str | None], None] = lambda _: None,
            ) -> tuple[dict[str, Any], list[str], str | None, tuple[int, str] | None, dict[str, str]]:
    """Ask whatever the flags did not give. Returns answers, skipped, ticket, override, packet. Lines around
    the questions go through the prompter; `err` is the console for the decision, or a function that makes
    it when first needed."""
    header(matrix, prompter, today)
    if ticket is None:
        ticket = prompter.text("Ticket reference", instruction="(Enter to skip)").strip() or None
        check_ticket(ticket)
    answers, skipped = interview(matrix, prompter, given,
                                 show_help=lambda help_text: prompter.note([("dim italic", help_text)]))
    from rich.panel import Panel
    from rich.text import Text

    from triage.render.result import SEVERITY_STYLE, T

    decision = decide(matrix, answers)
    sev = matrix.severity(decision.level).spec
    rules = {r.id: r for r, _ in matrix.severity_rules}
    lines = [Text.assemble((f" SEVERITY {decision.level} ", SEVERITY_STYLE.get(decision.level, "reverse")), " ",
                           T(sev.label, "bold")), T(sev.definition)]
    lines += [Text.assemble("  • ", T(rules[rid].because)) for rid in decision.rules]
    console = err() if callable(err) else err
    console.print(Panel(Text("\n").join(lines), title="The matrix says"))
    if override is None:
        choice = prompter.choose("Use this severity?", [
            (f"Yes, severity {decision.level} ({sev.label})", "accept"),
            ("No, change it (a reason is required)", "change")])
        if choice == "change":
            levels = [(f"Severity {lvl.level} ({lvl.spec.label}): {lvl.spec.definition[:60]}...", lvl.level)
                      for lvl in sorted(matrix.levels.values(), key=lambda s: s.level) if lvl.level != decision.level]
            level = prompter.choose("Which severity?", levels)
            reason = ""
            while not reason.strip():
                reason = prompter.text("Why? (kept with the ticket)", instruction="(required)")
            override = (level, reason.strip())
    packet = dict(packet)
    for field in matrix.model.handoff_packet:
        if field.filled_from or field.id in packet or field.stage != "triage":
            continue
        if field.help:
            prompter.note([("dim italic", field.help)])
        value = prompter.text(field.label, instruction="(Enter to skip)").strip()
        if value:
            packet[field.id] = value
    return answers, skipped, ticket, override, packet
