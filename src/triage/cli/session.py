"""The interactive triage session: header, questionnaire, decision, override, packet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from triage.cli.prompts import BACK, Interview, Prompter
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
    it when first needed. Every step after the first question has a way back to the one before it: the
    decision to the last question, the packet to the decision."""
    header(matrix, prompter, today)
    if ticket is None:
        ticket = prompter.text("Ticket reference", instruction="(Enter to skip)").strip() or None
        check_ticket(ticket)
    interview = Interview(matrix, prompter, given,
                          show_help=lambda help_text: prompter.note([("dim italic", help_text)]))
    fields = [f for f in matrix.model.handoff_packet
              if not f.filled_from and f.id not in packet and f.stage == "triage"]
    typed: dict[str, str] = {}
    decided = override  # from the flags: not asked, so not a step to go back to
    stage, resume = "questions", False
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    while True:
        if stage == "questions":
            answers, skipped = interview.run(resume=resume)
            show_decision(matrix, err, decide(matrix, answers))
            stage = "decision" if override is None else "packet"
        elif stage == "decision":
            chosen = choose_severity(matrix, prompter, decide(matrix, answers).level, can_go_back=bool(interview.asked))
            if chosen == BACK:
                stage, resume = "questions", True
                continue
            decided = chosen if isinstance(chosen, tuple) else None
            stage = "packet"
        else:
            back_to = "decision" if override is None else "questions" if interview.asked else None
            if ask_packet(prompter, fields, typed, can_go_back=back_to is not None) == BACK:
                stage, resume = back_to or "packet", True
                continue
            return answers, skipped, ticket, decided, {**packet, **typed}


def show_decision(matrix: Matrix, err: Console | Callable[[], Console], decision: Any) -> None:
    from rich.panel import Panel
    from rich.text import Text

    from triage.render.result import SEVERITY_STYLE, T

    sev = matrix.severity(decision.level).spec
    rules = {r.id: r for r, _ in matrix.severity_rules}
    name = matrix.level_name(decision.level)
    head = [T(f" {name.upper()} ", SEVERITY_STYLE.get(decision.level, "reverse"))]
    if sev.label.casefold() != name.casefold():
        head += [Text(" "), T(sev.label, "bold")]
    lines = [Text.assemble(*head), T(sev.definition)]
    lines += [Text.assemble("  • ", T(rules[rid].because)) for rid in decision.rules]
    console = err() if callable(err) else err
    console.print(Panel(Text("\n").join(lines), title="The matrix says"))


def choose_severity(matrix: Matrix, prompter: Prompter, level: int, *, can_go_back: bool) -> Any:
    """None to keep the matrix's severity, (level, reason) to change it, or BACK to the questions."""
    back = [("← Back to the last question", BACK)] if can_go_back else []
    while True:
        choice = prompter.choose("Use this severity?", [(f"Yes, {matrix.level_title(level)}", "accept"),
                                                        ("No, change it (a reason is required)", "change"), *back])
        if choice != "change":
            return None if choice == "accept" else choice
        levels = [(f"{matrix.level_title(lvl.level)}: {lvl.spec.definition[:60]}...", lvl.level)
                  for lvl in sorted(matrix.levels.values(), key=lambda s: s.level) if lvl.level != level]
        chosen = prompter.choose("Which severity?", [*levels, ("← Back: keep the choice open", BACK)])
        if chosen == BACK:
            continue
        reason = ""
        while not reason.strip():
            reason = prompter.text("Why? (kept with the ticket)",
                                   instruction="(required; Left arrow on an empty line to go back)", can_go_back=True)
            if reason == BACK:
                break
        if reason != BACK:
            return chosen, reason.strip()


def ask_packet(prompter: Prompter, fields: list[Any], typed: dict[str, str], *, can_go_back: bool) -> str | None:
    """The packet fields asked at triage, into `typed`, each with a way back to the one before it (and from the
    first, BACK is returned when `can_go_back`)."""
    j = 0
    while j < len(fields):
        field = fields[j]
        if field.help:
            prompter.note([("dim italic", field.help)])
        back_hint = "; Left arrow on an empty line to go back" if j or can_go_back else ""
        value = prompter.text(field.label, instruction=f"(Enter to skip{back_hint})", default=typed.get(field.id, ""),
                              can_go_back=bool(j or can_go_back))
        if value == BACK:
            if j == 0:
                return BACK
            j -= 1
            continue
        if value.strip():
            typed[field.id] = value.strip()
        else:
            typed.pop(field.id, None)
        j += 1
    return None
