"""Shared fixtures: an isolated environment, the shipped matrix, and helpers."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings

from triage.engine.decide import resolve_answers, triage
from triage.matrix.loader import Matrix, read_matrix

# Fuzzing: CI runs a quick, reproducible pass; `HYPOTHESIS_PROFILE=long` runs 10,000 inputs per reader.
settings.register_profile("ci", max_examples=150, derandomize=True, deadline=5000,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=10_000, derandomize=True, deadline=5000,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
MATRIX_PATH = ROOT / "matrix.yaml"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No user settings leak in: fixed terminal size, no colour, no matrix from the environment."""
    monkeypatch.delenv("TRIAGE_MATRIX", raising=False)
    monkeypatch.delenv("TRIAGE_ROSTER", raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("LINES", "40")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("TRIAGE_HISTORY", str(tmp_path / "history" / "history.sqlite3"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def matrix() -> Matrix:
    return read_matrix(MATRIX_PATH.read_bytes(), str(MATRIX_PATH))


def shipped_text() -> str:
    return MATRIX_PATH.read_text(encoding="utf-8")


def run(matrix: Matrix, at: datetime, **given):
    """A triage of answers given as keywords; `deadline` is no unless a case says otherwise (a question that can
    change the severity is never assumed, so a case that leaves it out answers it here)."""
    answers, skipped = resolve_answers(matrix, {"deadline": False, **given})
    return triage(matrix, answers, skipped=skipped, at=at)


@pytest.fixture
def terminal(monkeypatch):
    """The follow-up commands believe they run in a terminal; `terminal(keys)` types the keys into the real
    widgets and returns the prompter, whose `asked` lists the prompts in order."""
    from prompt_toolkit.input import create_pipe_input

    from triage.cli import ticket as ticket_cli

    from .test_prompts import Keys

    opened: list = []

    def typed(keys: list[str]):
        context = create_pipe_input()
        pipe = context.__enter__()
        opened.append(context)
        prompter = Keys(pipe, keys)
        monkeypatch.setattr(ticket_cli, "prompter", lambda: prompter)
        monkeypatch.setattr(ticket_cli, "terminal", lambda: True)
        return prompter

    yield typed
    for context in opened:
        context.__exit__(None, None, None)
