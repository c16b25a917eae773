"""The `triage` program: the Typer app, its global options, and every command registered in one place."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from triage import __version__
from triage.cli import ask, audit, capacity, classify, matrix, ticket
from triage.cli.common import MatrixOption, stderr
from triage.errors import ExitCode

app = typer.Typer(
    name="triage",
    help="Triage support escalations with your team's escalation matrix.",
    add_completion=True,
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


class Command(TyperCommand):
    """A command whose help names its arguments as people write them (TICKET, [TICKET], FILE..., [PATH]...),
    without the Python types Typer would print beside them."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [argument_name(p) for p in self.get_params(ctx) if p.param_type_name == "argument"]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((argument_name(param), record[1]))
            else:
                options.append(record)
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def argument_name(param: Any) -> str:
    name = param.metavar or (param.name or "").upper()
    name += "..." if param.nargs != 1 else ""
    return name if param.required else f"[{name}]"


COMMANDS: list[tuple[str, Callable[..., None]]] = [
    ("ask", ask.ask), ("validate", matrix.validate), ("schema", matrix.schema), ("show", matrix.show),
    ("diff", matrix.diff), ("init", matrix.init), ("classify", classify.classify), ("update", ticket.update),
    ("handoff", ticket.handoff), ("retriage", ticket.retriage), ("close", ticket.close), ("reopen", ticket.reopen),
    ("rename", ticket.rename), ("pause", ticket.pause), ("resume", ticket.resume),
    ("history", ticket.history_command), ("queue", ticket.queue),
    ("audit", audit.audit), ("review", audit.review), ("mappings", matrix.mappings),
    ("capacity", capacity.capacity)]
for name, function in COMMANDS:
    app.command(name=name, cls=Command)(function)


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
