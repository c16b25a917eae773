"""The interactive questionnaire with the real questionary widgets, driven through a pipe."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output
from rich.console import Console

from triage.cli.prompts import QuestionaryPrompter
from triage.cli.session import session
from triage.matrix.loader import read_matrix

from .conftest import shipped_text

DOWN, UP, LEFT, ENTER, SPACE, CTRL_C = "\x1b[B", "\x1b[A", "\x1b[D", "\r", " ", "\x03"


class Keys(QuestionaryPrompter):
    """Real widgets; each prompt gets its keystrokes just before it opens, as a person would type them."""

    def __init__(self, pipe: Any, keys: list[str], output: Any = None) -> None:
        super().__init__(input=pipe, output=output or DummyOutput())
        self.pipe, self.keys, self.asked = pipe, list(keys), []

    def _feed(self, message: str) -> None:
        self.asked.append(message)
        self.pipe.send_text(self.keys.pop(0))

    def choose(self, message, choices, *, default=None):
        self._feed(message)
        return super().choose(message, choices, default=default)

    def choose_many(self, message, choices, *, checked, can_go_back):
        self._feed(message)
        return super().choose_many(message, choices, checked=checked, can_go_back=can_go_back)

    def text(self, message, *, instruction="", default="", can_go_back=False):
        self._feed(message)
        return super().text(message, instruction=instruction, default=default, can_go_back=can_go_back)


def interact(matrix, keys: list[str], output: Any = None, **flags: Any):
    err = Console(file=io.StringIO(), width=100, color_system=None)
    with create_pipe_input() as pipe:
        prompter = Keys(pipe, keys, output)
        options = {"given": {}, "ticket": None, "override": None, "packet": {}, "today": date(2026, 11, 27)} | flags
        result = session(matrix, prompter, err, **options)
    assert not prompter.keys, f"unused keystrokes: {prompter.keys}"
    return result, prompter, err.file.getvalue()


PACKET_SKIPPED = [ENTER] * 7


def test_one_account_blocked_with_a_risky_workaround(matrix):
    keys = ["T-7" + ENTER,  # ticket
            DOWN + ENTER,  # confirmed: Yes (a question that can change the severity starts on no answer)
            DOWN * 2 + ENTER,  # scope: one_account
            DOWN * 3 + ENTER,  # impact: workflow_blocked
            DOWN * 2 + ENTER,  # workaround: limited
            DOWN * 2 + ENTER,  # security: No
            ENTER,  # areas: none
            ENTER,  # vendor: the default No (routing only)
            DOWN * 2 + ENTER,  # deadline: No
            ENTER,  # strategic: the default No
            ENTER,  # accept the severity
            "Checkout fails for Acme" + ENTER, *PACKET_SKIPPED[1:]]
    (answers, skipped, ticket, override, packet), _prompter, err = interact(matrix, keys)
    assert ticket == "T-7"
    assert answers["scope"] == "one_account" and answers["workaround"] == "limited" and answers["security"] is False
    assert override is None and skipped == []
    assert packet == {"impact_summary": "Checkout fails for Acme"}
    assert "SEVERITY 2" in err and "One customer account is seriously disrupted" in err


def test_questions_that_do_not_apply_are_not_asked(matrix):
    keys = [ENTER, DOWN + ENTER, DOWN + ENTER, DOWN + ENTER, DOWN * 2 + ENTER, ENTER, ENTER, ENTER, ENTER,
            *PACKET_SKIPPED]
    # ticket skipped, confirmed yes, scope one_user, impact none -> no workaround or deadline question
    (_answers, skipped, *_), prompter, _ = interact(matrix, keys)
    assert skipped == ["workaround", "deadline"]
    assert not any("another way" in m or "dated event" in m for m in prompter.asked)


def test_back_returns_to_the_previous_question(matrix):
    keys = [ENTER,  # ticket skipped
            DOWN + ENTER,  # confirmed: Yes
            UP + ENTER,  # scope: the last choice is Back
            DOWN + ENTER,  # confirmed again: No
            DOWN * 4 + ENTER,  # scope: system_wide
            DOWN * 5 + ENTER,  # impact: service_unavailable
            DOWN * 3 + ENTER,  # workaround: none
            DOWN * 2 + ENTER,  # security: No
            LEFT,  # areas: back to security
            UP + ENTER,  # security: Yes now (No, the earlier answer, is highlighted)
            SPACE + ENTER,  # areas: billing
            ENTER, DOWN * 2 + ENTER, ENTER, ENTER, *PACKET_SKIPPED]
    (answers, *_), prompter, _ = interact(matrix, keys)
    assert answers["confirmed"] is False and answers["scope"] == "system_wide"
    assert answers["security"] is True and answers["areas"] == ("billing",)
    assert prompter.asked.count("Is the problem confirmed?") == 2


def test_override_needs_a_reason(matrix):
    keys = [ENTER, DOWN + ENTER, DOWN + ENTER, DOWN + ENTER, DOWN * 2 + ENTER, ENTER, ENTER, ENTER,
            DOWN + ENTER,  # change the severity
            ENTER,  # the first other level: severity 1
            ENTER,  # an empty reason is asked again
            "CEO demo in an hour" + ENTER, *PACKET_SKIPPED]
    (_, _, _, override, _), prompter, _ = interact(matrix, keys)
    assert override == (1, "CEO demo in an hour")
    assert prompter.asked.count("Why? (kept with the ticket)") == 2


def test_flags_answer_questions_in_advance(matrix):
    keys = [ENTER, ENTER, ENTER, *PACKET_SKIPPED]  # only vendor, strategic and the decision remain
    given = {"confirmed": "yes", "scope": "one_user", "impact": "none", "security": "no", "areas": ""}
    (_answers, *_), prompter, _ = interact(matrix, keys, given=given, ticket="T-1")
    assert len(prompter.asked) == 3 + 7


def test_ctrl_c_interrupts(matrix):
    with pytest.raises(KeyboardInterrupt):
        interact(matrix, [ENTER, CTRL_C])


def test_matrix_text_is_shown_literally_in_the_widgets(tmp_path):
    hostile = shipped_text().replace("ask: Who is affected?", 'ask: "[bold]Who[/bold] \\e]0;pwned\\a is affected?"')
    matrix = read_matrix(hostile.encode(), "hostile.yaml")
    screen = io.StringIO()
    output = Vt100_Output(screen, lambda: Size(rows=40, columns=120), term="xterm")
    keys = [ENTER, DOWN + ENTER, DOWN + ENTER, DOWN + ENTER, DOWN * 2 + ENTER, ENTER, ENTER, ENTER, ENTER,
            *PACKET_SKIPPED]
    interact(matrix, keys, output=output)
    drawn = screen.getvalue()
    assert "[bold]Who[/bold]" in drawn
    assert "\x1b]0;pwned" not in drawn and "\\x1b]0;pwned\\x07" in drawn


@pytest.mark.parametrize(("width", "parts", "expected"), [
    (40, [("bold", "Support escalation matrix"), ("dim", "  version 2026.11, owned by Support lead (incident commander)")],
     "Support escalation matrix  version\n2026.11, owned by Support lead (incident\ncommander)"),
    (20, [("", "x" * 30 + " short words here")], "x" * 30 + "\nshort words here"),
    (20, [("", "first line\nsecond line is longer than twenty")], "first line\nsecond line is\nlonger than twenty"),
    (80, [("", "fits")], "fits"),
])
def test_notes_wrap_between_words_keeping_styles(width, parts, expected):
    from triage.cli.prompts import wrap_words

    wrapped = wrap_words(parts, width)
    assert "".join(text for _, text in wrapped) == expected
    assert all(len(line) <= width or " " not in line for line in expected.splitlines())
    assert {style for style, text in wrapped if text.strip()} == {style for style, _ in parts}


def test_a_question_that_can_change_the_severity_has_no_answer_under_the_cursor(matrix):
    keys = [ENTER,  # ticket skipped
            ENTER,  # confirmed: Enter on "(choose an answer)" answers nothing, and the question is asked again
            DOWN + ENTER,  # confirmed: Yes
            DOWN + ENTER, DOWN + ENTER, DOWN * 2 + ENTER, ENTER,
            ENTER, ENTER,  # vendor and strategic only route, so their default No stands under the cursor
            ENTER, *PACKET_SKIPPED]
    (answers, *_), prompter, _ = interact(matrix, keys)
    assert prompter.asked.count("Is the problem confirmed?") == 2 and answers["confirmed"] is True
    assert answers["vendor"] is False and answers["strategic_account"] is False


def test_every_step_after_the_questions_has_a_way_back(matrix):
    keys = [ENTER, DOWN + ENTER, DOWN + ENTER, DOWN + ENTER, DOWN * 2 + ENTER, ENTER, ENTER, ENTER,
            UP + ENTER,  # "Use this severity?": Back, to the last question (strategic account)
            UP + ENTER,  # strategic account: Yes this time (No, the earlier answer, is under the cursor)
            DOWN + ENTER, UP + ENTER,  # change it... then Back from "Which severity?"
            DOWN + ENTER, ENTER, LEFT,  # change it, to severity 1, then Left on the empty reason: back again
            ENTER,  # keep the matrix's severity
            "Slow exports" + ENTER, LEFT,  # the second packet field goes back to the first
            ENTER,  # which shows what was typed; Enter keeps it
            *PACKET_SKIPPED[1:]]
    (answers, _, _, override, packet), prompter, _ = interact(matrix, keys)
    assert answers["strategic_account"] is True and override is None
    assert packet == {"impact_summary": "Slow exports"}
    assert prompter.asked.count("Use this severity?") == 4 and prompter.asked.count("Impact summary") == 2
