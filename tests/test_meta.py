"""Project-level promises: the core stays pure, the shipped files agree, every command is documented."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from triage.cli.app import app
from triage.matrix.schema import matrix_schema_json

from .conftest import ROOT

CORE = ["triage.engine.decide", "triage.matrix.loader", "triage.matrix.calendars", "triage.engine.lint", "triage.matrix.model", "triage.matrix.yamlsafe",
        "triage.matrix.conditions", "triage.matrix.answers", "triage.matrix.durations", "triage.errors", "triage.capacity.roster", "triage.capacity.analysis", "triage.capacity.demand", "triage.capacity.queueing", "triage.capacity.replay",
        "triage.exports.readers"]


def test_the_core_imports_no_terminal_libraries():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "bad = [m for m in ('typer', 'click', 'rich', 'questionary', 'prompt_toolkit') if m in sys.modules]\n"
              "print(','.join(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_command_starts_without_the_export_reader_or_dask():
    """polars (about 0.1 s to import) and Dask load only for the commands that read exports or use a cluster:
    `triage ask` reaches its first question without them."""
    code = ("import sys\nimport triage.cli.app\n"
            "print(','.join(m for m in ('polars', 'dask', 'triage.library') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_the_packaged_matrix_is_the_shipped_one():
    assert (ROOT / "src" / "triage" / "data" / "matrix.yaml").read_bytes() == (ROOT / "matrix.yaml").read_bytes()
    assert (ROOT / "src" / "triage" / "data" / "roster.yaml").read_bytes() == (ROOT / "roster.yaml").read_bytes()


def test_the_committed_schema_is_fresh():
    from triage.capacity.roster import roster_schema_json

    assert (ROOT / "matrix.schema.json").read_text() == matrix_schema_json(), "run: triage schema > matrix.schema.json"
    assert (ROOT / "roster.schema.json").read_text() == roster_schema_json(), (
        "run: triage schema --roster > roster.schema.json"
    )


def test_the_shipped_matrix_validates_clean():
    result = CliRunner().invoke(app, ["validate", str(ROOT / "matrix.yaml"), "--strict"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def commands() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_and_is_in_the_readme(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.stdout
    readme = (ROOT / "README.md").read_text()
    assert f"triage {command}" in readme


def test_readme_quickstart_has_exactly_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quick, re.S)
    lines = [line for block in blocks for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert lines[1].strip() in ci, "CI runs the README's test command"


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert text.startswith("# Changelog") and "## [Unreleased]" in text
