"""The interactive questionnaire: questionary widgets behind a small interface, with a way back."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, Protocol

from triage.engine.decide import applies, check_known
from triage.matrix.answers import parse_answer
from triage.matrix.loader import Matrix
from triage.sanitize import one_line, visible

BACK = "\x00back"  # a value no choice id can take (ids are [a-z][a-z0-9_]*)
UNCHOSEN = "\x00unchosen"  # where the cursor starts on a question that can change the severity


class Prompter(Protocol):
    def choose(self, message: str, choices: list[tuple[str, Any]], *, default: Any = None) -> Any: ...

    def choose_many(self, message: str, choices: list[tuple[str, str]], *, checked: tuple[str, ...],
                    can_go_back: bool) -> Any: ...

    def text(self, message: str, *, instruction: str = "", default: str = "", can_go_back: bool = False) -> str:
        """Typed text; with `can_go_back`, the Left arrow on an empty line returns BACK."""

    def note(self, parts: list[tuple[str, str]]) -> None:
        """Show one line made of (style, text) parts: `bold`, `dim`, `italic`, `yellow`, or several."""


class QuestionaryPrompter:
    """Real widgets. Prompts are drawn on stderr so stdout carries only the result."""

    def __init__(self, *, input: Any = None, output: Any = None) -> None:
        if output is None:
            from prompt_toolkit.output import create_output

            output = create_output(stdout=sys.stderr)
        self.kwargs = {"input": input, "output": output} if input is not None else {"output": output}

    def choose(self, message: str, choices: list[tuple[str, Any]], *, default: Any = None) -> Any:
        import questionary

        options = [questionary.Choice(one_line(title), value=value) for title, value in choices]
        chosen = default if default in [v for _, v in choices] else None
        return questionary.select(one_line(message), choices=options, default=chosen, qmark="?",
                                  instruction="(arrow keys, Enter)", **self.kwargs).unsafe_ask()

    def choose_many(self, message: str, choices: list[tuple[str, str]], *, checked: tuple[str, ...],
                    can_go_back: bool) -> Any:
        import questionary
        from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

        options = [questionary.Choice(one_line(title), value=value, checked=value in checked)
                   for title, value in choices]
        hint = "(Space to tick, Enter to confirm" + (", Left arrow to go back)" if can_go_back else ")")
        question = questionary.checkbox(one_line(message), choices=options, qmark="?", instruction=hint,
                                        **self.kwargs)
        if can_go_back:
            keys = KeyBindings()

            @keys.add("left", eager=True)
            def _back(event: Any) -> None:
                event.app.exit(result=BACK)

            app = question.application
            app.key_bindings = merge_key_bindings([app.key_bindings, keys])  # type: ignore[list-item]
        return question.unsafe_ask()

    def text(self, message: str, *, instruction: str = "", default: str = "", can_go_back: bool = False) -> str:
        import questionary

        question = questionary.text(one_line(message), qmark="?", instruction=instruction, default=default,
                                     **self.kwargs)
        if can_go_back:
            from prompt_toolkit.filters import Condition
            from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

            app = question.application
            keys = KeyBindings()

            @keys.add("left", filter=Condition(lambda: not app.current_buffer.text), eager=True)
            def _back(event: Any) -> None:
                event.app.exit(result=BACK)

            app.key_bindings = merge_key_bindings([app.key_bindings, keys])  # type: ignore[list-item]
        answer: str = question.unsafe_ask()
        return answer

    def note(self, parts: list[tuple[str, str]]) -> None:
        from prompt_toolkit import print_formatted_text
        from prompt_toolkit.formatted_text import FormattedText

        styles = {"bold": "bold", "dim": "dim", "italic": "italic", "yellow": "fg:ansiyellow"}
        output = self.kwargs["output"]
        try:
            width = max(output.get_size().columns, 20)
        except Exception:
            width = 80
        styled = [(" ".join(styles.get(word, "") for word in style.split()), visible(text)) for style, text in parts]
        print_formatted_text(FormattedText(wrap_words(styled, width)), output=output)


def wrap_words(parts: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """Styled text broken into lines of at most `width` characters between words (a word longer than a
    line stays whole), keeping each word's style."""
    import re

    out: list[tuple[str, str]] = []
    column = 0
    for style, text in parts:
        for token in re.findall(r"\S+|\s+", text):
            if token.isspace():
                if "\n" in token:  # a line break of the text's own
                    out.append((style, token))
                    column = len(token.rsplit("\n", 1)[1])
                elif column:
                    out.append((style, token))
                    column += len(token)
                continue
            if column and column + len(token) > width:
                while out and out[-1][1].isspace():
                    out.pop()
                out.append(("", "\n"))
                column = 0
            out.append((style, token))
            column += len(token)
    return out


class Interview:
    """The questions the flags did not answer, asked in order with a way back; `run(resume=True)` goes back
    into them from a later step, at the last question the agent answered."""

    def __init__(self, matrix: Matrix, prompter: Prompter, given: dict[str, Any],
                 show_help: Callable[[str], None] = lambda _: None) -> None:
        check_known(matrix, given)
        self.matrix, self.prompter, self.show_help = matrix, prompter, show_help
        self.parsed = {qid: parse_answer(qid, *matrix.kinds[qid], raw) for qid, raw in given.items()}
        self.answers: dict[str, Any] = {}
        self.chosen: dict[str, Any] = {}  # what the agent chose, shown again on the way back
        self.asked: list[int] = []  # indexes of the questions the agent answered, for stepping back

    def run(self, *, resume: bool = False) -> tuple[dict[str, Any], list[str]]:
        """Returns the answers and the ids of questions skipped because they did not apply."""
        matrix, questions = self.matrix, self.matrix.model.questions
        i = self.asked.pop() if resume and self.asked else 0
        while i < len(questions):
            q = questions[i]
            kind, _choices = matrix.kinds[q.id]
            if not applies(matrix, q.id, self.answers):
                self.answers[q.id] = matrix.defaults[q.id]
                i += 1
                continue
            if q.id in self.parsed:
                self.answers[q.id] = self.parsed[q.id]
                i += 1
                continue
            explicit = q.id in matrix.severity_inputs
            previous = self.chosen.get(q.id, None if explicit else matrix.defaults.get(q.id))
            self.show_help(q.help)
            value = ask_one(self.prompter, q.ask, kind, q.choices, previous, can_go_back=bool(self.asked),
                            explicit=explicit)
            if value is None:
                raise KeyboardInterrupt
            if value == BACK:
                i = self.asked.pop()
                continue
            self.answers[q.id] = self.chosen[q.id] = value
            self.asked.append(i)
            i += 1
        skipped = [q.id for q in questions if not applies(matrix, q.id, self.answers)]
        return dict(self.answers), skipped


def interview(matrix: Matrix, prompter: Prompter, given: dict[str, Any],
              show_help: Callable[[str], None] = lambda _: None) -> tuple[dict[str, Any], list[str]]:
    """Ask every applicable question that `given` does not answer, in order, with a way back."""
    return Interview(matrix, prompter, given, show_help).run()


def ask_one(prompter: Prompter, message: str, kind: str, labels: dict[str, str], previous: Any,
            *, can_go_back: bool, explicit: bool = False) -> Any:
    """One question. An `explicit` one (its answer can change the severity) starts with no answer under the
    cursor unless the agent chose one before: Enter there asks again, so a habit never decides."""
    back = [("← Back to the previous question", BACK)] if can_go_back else []
    if kind in ("yes_no", "one_of"):
        options: list[tuple[str, Any]] = [("Yes", True), ("No", False)] if kind == "yes_no" else \
            [(label, cid) for cid, label in labels.items()]
        if not explicit or previous is not None:
            return prompter.choose(message, [*options, *back], default=previous)
        while True:
            value = prompter.choose(message, [("(choose an answer)", UNCHOSEN), *options, *back], default=UNCHOSEN)
            if not (isinstance(value, str) and value == UNCHOSEN):
                return value
            prompter.note([("yellow", "Choose an answer with the arrow keys: this one can change the severity, "
                                      "so none is taken for granted.")])
    value = prompter.choose_many(message, [(label, cid) for cid, label in labels.items()],
                                 checked=tuple(previous or ()), can_go_back=can_go_back)
    if value is None or value == BACK:
        return value
    chosen = set(value)
    return tuple(cid for cid in labels if cid in chosen)
