"""Tickets as the audit sees them: one at a time, or a batch of them field by field; and rows that could not
be read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any


from triage.exports.moments import MomentLists, Moments

@dataclass(slots=True)
class Ticket:
    """One ticket as the audit sees it; times are aware datetimes or None."""

    ticket: str
    level: int
    line: int
    created: datetime
    acknowledged: datetime | None = None
    assigned: datetime | None = None
    escalated: datetime | None = None
    resolved: datetime | None = None
    updates: list[datetime] = field(default_factory=list)
    reassignments: int = 0
    tags: list[str] = field(default_factory=list)
    account: str | None = None
    override_reason: str | None = None
    exception: str | None = None
    escalated_to: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    packet: dict[str, bool] = field(default_factory=dict)
    time_spent: float | None = None  # seconds of hands-on work the help desk tracked
    paused: tuple[tuple[float, float], ...] = ()  # (start, end) POSIX seconds waiting on the customer; end inf: open


ZONE_OF = attrgetter("tzinfo")
EMPTY: dict[str, Any] = {}  # shared by tickets without answers or packet fields; never written to
NO_PAUSES: tuple[tuple[float, float], ...] = ()
BATCH = 4096  # rows read and measured together: large enough for bulk work, small enough for flat memory


@dataclass(slots=True)
class Batch:
    """Tickets of one stretch of an export, field by field: the form audits measure in bulk. Lists line up:
    index i of every list is the same ticket."""

    ticket: list[str]
    level: list[int]
    line: list[int]
    created: list[datetime] | Moments  # times read as whole columns are Moments: they index like the lists
    acknowledged: list[datetime | None] | Moments
    assigned: list[datetime | None] | Moments
    escalated: list[datetime | None] | Moments
    resolved: list[datetime | None] | Moments
    updates: list[list[datetime]] | MomentLists
    reassignments: list[int]
    tags: list[list[str]]
    account: list[str | None]
    override_reason: list[str | None]
    exception: list[str | None]
    escalated_to: list[str | None]
    answers: list[dict[str, str]]
    packet: list[dict[str, bool]]
    time_spent: list[float | None]
    paused: list[tuple[tuple[float, float], ...]]

    def __len__(self) -> int:
        return len(self.ticket)

    def ticket_at(self, i: int) -> Ticket:
        return Ticket(*(getattr(self, name)[i] for name in _FIELDS))

    def tickets(self) -> Iterator[Ticket]:
        return map(self.ticket_at, range(len(self)))

    def without(self, rows: Iterable[int]) -> Batch:
        drop = set(rows)
        keep = [i for i in range(len(self)) if i not in drop]
        kept: dict[str, Any] = {name: values.take(keep) if isinstance(values := getattr(self, name),
                                                                      (Moments, MomentLists))
                                else [values[i] for i in keep] for name in _FIELDS}
        return Batch(**kept)

    @classmethod
    def of(cls, tickets: list[Ticket]) -> Batch:
        return cls(*([getattr(t, name) for t in tickets] for name in _FIELDS))


_FIELDS = tuple(Ticket.__dataclass_fields__)  # a Batch has the same fields, in the same order, as lists


def each_ticket(items: Iterable[Ticket | Batch | BadRow]) -> Iterator[Ticket | BadRow]:
    """Tickets one by one, out of batches."""
    for item in items:
        if isinstance(item, Batch):
            yield from item.tickets()
        else:
            yield item


def batched(items: Iterable[Ticket | Batch | BadRow], size: int = BATCH) -> Iterator[Batch | BadRow]:
    """Batches (and BadRows), out of tickets one by one: event logs fold into tickets, audits measure batches."""
    pending: list[Ticket] = []
    for item in items:
        if isinstance(item, Ticket):
            pending.append(item)
            if len(pending) >= size:
                yield Batch.of(pending)
                pending = []
        else:
            if pending and not isinstance(item, BadRow):  # whatever else comes keeps its place after them
                yield Batch.of(pending)
                pending = []
            yield item
    if pending:
        yield Batch.of(pending)


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str
