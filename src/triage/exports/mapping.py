"""Export mappings: how an export's columns, words and times map to triage's fields, kept as data
(`data/mappings/*.yaml`, or a file of the team's own), and the built-in one a CSV header looks like."""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Any, Literal

from pydantic import Field

from triage.errors import InputError, MatrixError
from triage.matrix.model import Model

TICKET_FIELDS = ("ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
                 "updates", "reassignments", "tags", "account", "override_reason", "exception", "escalated_to",
                 "time_spent")
TIME_FIELDS = ("created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at")
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
    day_first: bool = False
    timezone: str | None = None
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
    return mapping


def sniff(header_line: bytes) -> str:
    """The built-in mapping a CSV header looks like, for `--mapping` left out."""
    names = {c.strip().lstrip("\ufeff") for c in next(csv.reader(io.StringIO(header_line.decode("utf-8", "replace"))),
                                                      [])}
    if {"ticket", "at", "event"} <= names:
        return "generic-events"
    if {"case:concept:name", "time:timestamp"} <= names:
        return "bpic2013"
    if {"Id", "Priority", "Created at"} <= names:
        return "zendesk"
    if {"Ticket ID", "Priority", "Created time"} <= names:
        return "freshdesk"
    if {"Issue key", "Priority", "Created"} <= names:
        return "jira-service-management"
    return "generic"
