"""The local triage history: every triage and what followed it, as events in one SQLite file.

Writers take SQLite's write lock for each event (WAL journal, busy timeout), so several processes can
record at once without losing anything, and a write that is interrupted is rolled back whole. The
schema carries a version; an older file is migrated forward in a transaction, a newer one is refused.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from triage.errors import InputError, UsageError

SCHEMA_VERSION = 4
KINDS = ("triage", "update", "handoff", "retriage", "close", "reopen", "rename", "pause", "resume")

# Each entry upgrades the file from the version before it.
MIGRATIONS: dict[int, list[str]] = {
    1: ["CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ticket TEXT NOT NULL, at TEXT NOT NULL,"
        " kind TEXT NOT NULL, data TEXT NOT NULL)"],
    2: ["ALTER TABLE events ADD COLUMN recorded_at TEXT",
        "UPDATE events SET recorded_at = at WHERE recorded_at IS NULL",
        "CREATE INDEX events_by_ticket ON events (ticket, id)"],
    3: [],  # the kinds `reopen` and `rename`: an older triage would call them damage, so it is told to upgrade
    4: [],  # the kinds `pause` and `resume`, likewise
}


@dataclass(frozen=True)
class Event:
    id: int
    ticket: str
    at: datetime
    kind: str
    data: dict[str, Any]
    recorded_at: str


class History:
    """One history file. Use as a context manager, or call close()."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        target = Path(path)
        if target.is_dir():
            raise InputError(f"{path}: is a directory, not a history file")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self._open_shared()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path}: not a usable triage history ({exc})") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot open the history ({exc.strerror or exc})") from None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _open_shared(self) -> None:
        """Switch to WAL and migrate. Two processes opening a new file at once can see "database is locked"
        while the other changes the journal mode (SQLite does not wait on that), so retry for a while."""
        import time

        deadline = time.monotonic() + 30
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                self.db.execute("PRAGMA synchronous = NORMAL")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _migrate(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self.version()
            if version > SCHEMA_VERSION:
                raise InputError(f"{self.path}: this history was written by a newer triage (schema {version}; "
                                 f"this one knows up to {SCHEMA_VERSION}); upgrade triage to read it")
            if version == 0 and self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise InputError(f"{self.path}: an SQLite file that is not a triage history")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {step}")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def record(self, ticket: str, at: datetime, kind: str, data: dict[str, Any]) -> int:
        """Append one event; it is either stored whole or not at all."""
        if kind not in KINDS:
            raise ValueError(kind)
        payload = json.dumps(data, ensure_ascii=False, default=str)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            cursor = self.db.execute("INSERT INTO events (ticket, at, kind, data, recorded_at) VALUES (?, ?, ?, ?, ?)",
                                     (ticket, at.isoformat(timespec="seconds"), kind, payload, now))
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: could not record the {kind} ({exc})") from None
        return int(cursor.lastrowid or 0)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Events recorded inside are kept together, and only if the block ends without an error."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def record_new(self, ticket: str, at: datetime, kind: str, data: dict[str, Any]) -> int:
        """Record the first event of a ticket; refused when the history already has the ticket. Call it inside
        `transaction()`, so that no other process can record the same ticket between the check and the write."""
        if self.db.execute("SELECT 1 FROM events WHERE ticket = ? LIMIT 1", (ticket,)).fetchone():
            raise UsageError(f"ticket `{ticket}` is already in the history; use `triage retriage {ticket}` "
                             "to change its severity")
        return self.record(ticket, at, kind, data)

    def rename(self, old: str, new: str, at: datetime) -> int:
        """Give a ticket's every event a new reference, and record the rename under it; refused when the new
        reference is taken. Call it inside `transaction()`."""
        if self.db.execute("SELECT 1 FROM events WHERE ticket = ? LIMIT 1", (new,)).fetchone():
            raise UsageError(f"ticket `{new}` is already in the history; choose another reference")
        self.db.execute("UPDATE events SET ticket = ? WHERE ticket = ?", (new, old))
        return self.record(new, at, "rename", {"from": old, "to": new})

    def events(self, ticket: str) -> list[Event]:
        rows = self.db.execute("SELECT id, ticket, at, kind, data, recorded_at FROM events WHERE ticket = ? "
                               "ORDER BY id", (ticket,)).fetchall()
        return [self._event(row) for row in rows]

    def tickets(self) -> list[str]:
        rows = self.db.execute("SELECT ticket FROM events GROUP BY ticket ORDER BY min(id)").fetchall()
        return [row[0] for row in rows]

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])

    def _event(self, row: tuple[Any, ...]) -> Event:
        try:
            data = json.loads(row[4])
            at = datetime.fromisoformat(row[2])
        except ValueError:
            raise InputError(f"{self.path}: event {row[0]} of ticket {row[1]} is damaged") from None
        if not isinstance(data, dict) or row[3] not in KINDS:
            raise InputError(f"{self.path}: event {row[0]} of ticket {row[1]} is damaged")
        return Event(row[0], row[1], at, row[3], data, row[5] or "")
