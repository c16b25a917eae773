"""Export mappings: how an export's columns, words and times map to triage's fields, kept as data
(`data/mappings/*.yaml`, or a file of the team's own), and the built-in one a CSV header looks like."""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

from pydantic import Field

from triage.errors import InputError, MatrixError
from triage.matrix.model import Model

TICKET_FIELDS = ("ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
                 "updates", "reassignments", "tags", "account", "override_reason", "exception", "escalated_to",
                 "time_spent")
TIME_FIELDS = ("created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at")
EVENT_FIELDS = ("ticket", "at", "activity", "severity", "actor", "account", "tags")
EVENT_KINDS = ("created", "acknowledged", "assigned", "escalated", "customer_update", "reassigned", "resolved")
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
    activities: dict[str, list[str]] = Field(default_factory=dict, description="event kind -> activity values")
    escalated_after_first: bool = False
    reassignment: Literal["events", "actor_change"] = "events"
    time_spent_unit: Literal["seconds", "minutes", "hours"] = Field(
        default="minutes", description="unit of a plain number in the time_spent column (h:mm is read as such)")


def builtin_mappings() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("triage").joinpath("data/mappings").iterdir()
                  if p.name.endswith(".yaml"))


def load_mapping(name_or_path: str, read: Any) -> ExportMapping:
    """A built-in mapping by name, or a mapping file; `read(path) -> bytes` reads files (the shell's reader)."""
    from triage.matrix.loader import parse_model

    if name_or_path in builtin_mappings():
        source = f"(built-in mapping {name_or_path})"
        data = resources.files("triage").joinpath(f"data/mappings/{name_or_path}.yaml").read_bytes()
    elif "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")):
        source, data = name_or_path, read(name_or_path)
    else:
        raise InputError(f"unknown mapping `{name_or_path}` "
                         f"(built in: {', '.join(builtin_mappings())}; or a YAML file)")
    _, mapping, problems = parse_model(data, source, ExportMapping, "export mapping")
    if mapping is None:
        raise MatrixError(problems)
    check_fields(mapping, source)
    return mapping


def check_fields(mapping: ExportMapping, source: str) -> None:
    """Refuse keys that name no field triage reads: a misspelling (with the likely field), or a pair written
    the wrong way round (the export's column first)."""
    import difflib

    fields = [*(TICKET_FIELDS if mapping.shape == "tickets" else EVENT_FIELDS)]
    if mapping.reassignments_from:
        fields.append(mapping.reassignments_from)
    for key, column in mapping.columns.items():
        if key in fields or key.startswith("packet_"):
            continue
        if isinstance(column, str) and column in fields:
            raise InputError(f"{source}: columns: `{key}: {column}` is written the wrong way round; write "
                             f"`{column}: {key}` (triage's field, then the export's column)")
        close = difflib.get_close_matches(key, fields, n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise InputError(f"{source}: columns: unknown field `{key}`{hint}; the fields of a {mapping.shape} "
                         f"export are: {', '.join(fields)}")
    times = [*TIME_FIELDS, "updates"] if mapping.shape == "tickets" else ["at"]
    for key in mapping.formats:
        if key not in times:
            raise InputError(f"{source}: formats: `{key}` is not a time field (one of: {', '.join(times)})")
    for key in mapping.optional:
        if key not in fields and key not in EVENT_KINDS:
            raise InputError(f"{source}: optional: `{key}` is not a field or an event kind")
    if mapping.shape == "events":
        for kind in mapping.activities:
            if kind not in EVENT_KINDS:
                close = difflib.get_close_matches(kind, EVENT_KINDS, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise InputError(f"{source}: activities: unknown event kind `{kind}`{hint}; the kinds are: "
                                 f"{', '.join(EVENT_KINDS)}")


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
