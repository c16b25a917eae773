"""Export mappings: how an export's columns, words and times map to triage's fields, kept as data
(`data/mappings/*.yaml`, or a file of the team's own), and the built-in one a CSV header looks like."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from typing import Any, Literal

from pydantic import Field

from triage.errors import InputError, MatrixError, Problem
from triage.matrix.model import Model

TICKET_FIELDS = ("ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
                 "updates", "reassignments", "tags", "account", "override_reason", "exception", "escalated_to",
                 "time_spent")
TIME_FIELDS = ("created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at")
EVENT_FIELDS = ("ticket", "at", "activity", "severity", "actor", "account", "tags")
EVENT_KINDS = ("created", "acknowledged", "assigned", "escalated", "customer_update", "reassigned", "resolved",
               "paused", "resumed")
MISSING = ("", "?", "-", "n/a")  # "none" is a real answer (impact: none), so it is not one of them


class Offset(Model):
    from_: str = Field(alias="from", description="the field the offset counts from, e.g. created_at")
    minutes: str | None = Field(default=None, description="column holding minutes after `from`")
    hours: str | None = Field(default=None, description="column holding hours after `from`")


class ExportMapping(Model):
    name: str
    description: str = ""
    shape: Literal["tickets", "events"]
    columns: dict[str, str | list[str]] = Field(description="triage field -> export column (a list is joined with /)")
    offsets: dict[str, Offset] = Field(default_factory=dict,
                                       description="times given as minutes or hours after another")
    reassignments_from: str | None = Field(default=None,
                                           description="a column counting teams visited (reassignments + 1)")
    list_separator: str = ";"
    tag_separator: str | None = None
    severity: dict[str, int] = Field(default_factory=dict, description="the export's priority words -> severity level")
    day_first: bool | None = Field(default=None, description=(
        "whether numeric dates give the day first (31/12/2026) or the month (12/31/2026); left out, the data "
        "settles it, and a column no value settles is refused"))
    formats: dict[str, str] = Field(default_factory=dict, description=(
        "triage field -> strftime pattern of its times, e.g. created_at: '%d-%m-%Y %H:%M'"))
    timezone: str | None = None
    default_severity: int | None = Field(default=None, description="the severity of tickets the export gives none")
    optional: list[str] = Field(default_factory=list, description=(
        "fields (and event kinds) the export may lack: their columns (activities) need not be in the file"))
    missing: list[str] = Field(default_factory=lambda: list(MISSING))
    activities: dict[str, list[str]] = Field(default_factory=dict, description=(
        "(event logs) event kind -> the activity values that mean it"))
    escalated_after_first: bool = Field(default=False, description=(
        "an `escalated` activity at the creation time is intake; only later ones are escalations"))
    reassignment: Literal["events", "actor_change"] = "events"
    time_spent_unit: Literal["seconds", "minutes", "hours"] = Field(
        default="minutes", description="unit of a plain number in the time_spent column (h:mm is read as such)")


def builtin_mappings() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("triage").joinpath("data/mappings").iterdir()
                  if p.name.endswith(".yaml"))


def builtin_text(name: str) -> bytes:
    """The YAML text of a built-in mapping, as shipped (for `triage mappings NAME` to copy from)."""
    return resources.files("triage").joinpath(f"data/mappings/{name}.yaml").read_bytes()


def load_mapping(name_or_path: str, read: Any) -> ExportMapping:
    """A built-in mapping by name, or a mapping file; `read(path) -> bytes` reads files (the shell's reader)."""
    if name_or_path in builtin_mappings():
        source, data = f"(built-in mapping {name_or_path})", builtin_text(name_or_path)
    elif "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        source, data = name_or_path, read(name_or_path)
    else:
        raise InputError(f"unknown mapping `{name_or_path}` "
                         f"(built in: {', '.join(builtin_mappings())}; or a YAML file)")
    mapping, problems = check_mapping(data, source)
    if mapping is None:
        raise MatrixError(problems)
    return mapping


def check_mapping(data: bytes, source: str) -> tuple[ExportMapping | None, list[Problem]]:
    """A mapping file's problems, each located: its structure, then keys that name no field triage reads."""
    from triage.matrix.loader import parse_model

    doc, mapping, problems = parse_model(data, source, ExportMapping, "export mapping")
    if mapping is None or doc is None:
        return None, problems
    problems += [doc.problem(path, message, "M205", key=True) for path, message in field_problems(mapping)]
    return (None if any(p.level == "error" for p in problems) else mapping), problems


def field_problems(mapping: ExportMapping) -> list[tuple[tuple[str, ...], str]]:
    """Keys that name no field triage reads: a misspelling (with the likely field), or a pair written the wrong
    way round (the export's column first); each with the path of its key in the file."""
    import difflib

    def unknown(key: str, known: Iterable[str], what: str) -> str:
        close = difflib.get_close_matches(key, list(known), n=1)
        return f"unknown {what} `{key}`" + (f" (did you mean `{close[0]}`?)" if close else "")

    out: list[tuple[tuple[str, ...], str]] = []
    fields = [*(TICKET_FIELDS if mapping.shape == "tickets" else EVENT_FIELDS)]
    if mapping.reassignments_from:
        fields.append(mapping.reassignments_from)
    for key, column in mapping.columns.items():
        if key in fields or key.startswith("packet_"):
            continue
        if isinstance(column, str) and column in fields:
            out.append((("columns", key), f"columns: `{key}: {column}` is written the wrong way round; write "
                                          f"`{column}: {key}` (triage's field, then the export's column)"))
        else:
            out.append((("columns", key), f"columns: {unknown(key, fields, 'field')}; the fields of a "
                                          f"{mapping.shape} export are: {', '.join(fields)}"))
    times = [*TIME_FIELDS, "updates"] if mapping.shape == "tickets" else ["at"]
    out += [(("formats", key), f"formats: `{key}` is not a time field (one of: {', '.join(times)})")
            for key in mapping.formats if key not in times]
    out += [(("optional",), f"optional: `{key}` is not a field or an event kind")
            for key in mapping.optional if key not in fields and key not in EVENT_KINDS]
    if mapping.shape == "events":
        out += [(("activities", kind), f"activities: {unknown(kind, EVENT_KINDS, 'event kind')}; the kinds are: "
                                       f"{', '.join(EVENT_KINDS)}")
                for kind in mapping.activities if kind not in EVENT_KINDS]
        if "activity" not in mapping.columns or "at" not in mapping.columns:
            out.append((("columns",), "columns: an event log needs `ticket`, `at` and `activity`"))
    elif "created_at" not in mapping.columns or "ticket" not in mapping.columns:
        out.append((("columns",), "columns: a ticket export needs at least `ticket` and `created_at`"))
    return out


def mapping_schema_json() -> str:
    from triage.matrix.schema import schema_json

    return schema_json(ExportMapping, "mapping.schema.json", "triage export mapping",
                       "How an export's columns, words and times map to the fields `triage audit`, `review` and "
                       "`capacity` read; `triage validate` checks it.")


SIGNATURES = (  # the built-in mapping an export's header shows, by columns only that help desk writes
    ("generic-events", ("ticket", "at", "event")),
    ("bpic2013", ("case:concept:name", "time:timestamp")),
    ("zendesk", ("Id", "Priority", "Created at")),
    ("freshdesk", ("Ticket ID", "Priority", "Created time")),
    ("jira-service-management", ("Issue key", "Priority", "Created")),
)


def sniff(header: list[str]) -> tuple[str, list[str]]:
    """The built-in mapping a CSV header looks like, for `--mapping` left out, and the columns that show it."""
    names = set(header)
    for name, columns in SIGNATURES:
        if set(columns) <= names:
            return name, list(columns)
    return "generic", []
