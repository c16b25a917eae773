"""The `triage` program: the Typer app, its global options, and every command registered in one place."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from triage import __version__
from triage.cli import ask, audit, capacity, classify, matrix, ticket
from triage.cli.common import MatrixOption, stderr
from triage.errors import ExitCode

app = typer.Typer(
    name="triage",
    help="Triage support escalations with your team's escalation matrix.",
    add_completion=False,
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    ctx: typer.Context,
    matrix_path: MatrixOption = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """With no command in a terminal: the interactive triage (as `triage ask`)."""
    ctx.obj = {"matrix": matrix_path}
    if ctx.invoked_subcommand is None:
        ask.ask(ctx)


app.command()(ask.ask)
app.command()(matrix.validate)
app.command()(matrix.schema)
app.command()(matrix.show)
app.command()(matrix.diff)
app.command()(matrix.init)
app.command()(classify.classify)
app.command()(ticket.update)
app.command()(ticket.handoff)
app.command()(ticket.retriage)
app.command()(ticket.close)
app.command()(ticket.reopen)
app.command()(ticket.rename)
app.command(name="history")(ticket.history_command)
app.command()(audit.audit)
app.command()(audit.review)
app.command()(capacity.capacity)


def main() -> None:
    """The `triage` program. A usage error that Typer finds (an unknown option, a bad value) is one line on
    stderr with a pointer to the help, exit 2, like triage's own errors."""
    try:
        code = app(standalone_mode=False, prog_name="triage")
    except typer.TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "triage"
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        stderr(f"error: {message} (see `{where} --help`)")
        sys.exit(int(getattr(exc, "exit_code", ExitCode.USAGE)))
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(int(ExitCode.INPUT))
    sys.exit(code if isinstance(code, int) else 0)
