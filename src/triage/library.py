"""triage as a Python library: the functions `import triage` offers, stable under semantic versioning.

Each gives what the command of the same job gives, built by the same code: `triage()` the result of `triage ask
--no-input --format json`, `classify()` and `classify_jsonl()` the lines of `triage classify`, and the audit
functions the report of `triage audit --format json`. Errors are `TriageError`s with a message meant for a
person (`InputError` for a bad file, record or answer; `MissingAnswerError` when an answer is needed).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, Literal

from triage.audit import measure as audit_measure
from triage.audit.measure import Options as AuditOptions
from triage.audit.measure import Partial as AuditPartial
from triage.engine import classify as bulk
from triage.engine import decide
from triage.engine.decide import Result
from triage.errors import TriageError
from triage.exports.sources import read_part
from triage.files import read_bytes
from triage.matrix.calendars import zone
from triage.matrix.loader import Matrix, read_matrix

__all__ = ["AuditOptions", "AuditPartial", "Matrix", "Result", "audit_parts", "classify", "classify_jsonl",
           "finish_audit", "load_matrix", "measure_export", "merge_partials", "triage"]

log = logging.getLogger("triage")
Errors = Literal["raise", "report"]


def load_matrix(path: str | os.PathLike[str]) -> Matrix:
    """The checked matrix in a YAML file; raises `MatrixError` (an `InputError`) naming the first problem and
    where it is, as `triage validate` would."""
    name = os.fspath(path)
    return read_matrix(read_bytes(name), name)


def _moment(matrix: Matrix, at: datetime | str | None) -> datetime:
    """A triage time: now, an aware datetime, or ISO 8601 text (read in the matrix's zone when it has no offset)."""
    if at is None:
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(at, str):
        return decide.parse_at(at, zone(matrix.model.matrix.timezone))
    if at.tzinfo is None:
        raise TypeError("`at` must be an aware datetime (with a time zone), or ISO 8601 text")
    return at


def _display(matrix: Matrix, display: str | tzinfo | None) -> tzinfo:
    if display is None:
        return zone(matrix.model.matrix.timezone)
    return zone(display) if isinstance(display, str) else display


def triage(matrix: Matrix, answers: Mapping[str, Any], *, at: datetime | str | None = None,
           ticket: str | None = None, account: str | None = None, segment: str | None = None,
           packet: Mapping[str, str | None] | None = None, display: str | tzinfo | None = None,
           plan: str | None = None) -> Result:
    """Triage one ticket from its answers (question id to answer, as `--answer` takes them or as JSON holds
    them). A question the matrix skips, or one that cannot change the severity, may be left out and takes its
    default (named in the result's notes); any other missing answer raises `MissingAnswerError`. `plan` is
    the customer's support plan, for a matrix with plans (the answer to its plan question, given apart).
    `result.to_json()` is the contract object of `triage ask --format json`."""
    when = _moment(matrix, at)
    answers = dict(answers)
    plan = decide.plan_as_answer(matrix, answers, plan)
    resolved, skipped = decide.resolve_answers(matrix, answers)
    return decide.triage(matrix, resolved, skipped=skipped, at=when, ticket=ticket, packet=packet,
                         display=_display(matrix, display), account=account, segment=segment,
                         assumed=decide.assumed(answers, resolved, skipped), plan=plan)


def classify(matrix: Matrix, records: Iterable[Mapping[str, Any]], *, at: datetime | str | None = None,
             full: bool = False, display: str | tzinfo | None = None, errors: Errors = "raise"
             ) -> Iterator[dict[str, Any]]:
    """Classify records lazily, one result per record in order: each record maps question ids to answers and
    may carry `ticket`, `at`, `account`, `segment` and `plan`. Results are those `triage classify` writes (with the
    packet and update texts when `full`). A bad record raises `InputError`, or with `errors="report"` gives
    `{"line": n, "error": message}` in its place (n counts records from 1)."""
    numbered = ((n, dict(r) if isinstance(r, Mapping) else r) for n, r in enumerate(records, 1))
    return _classified(matrix, numbered, at=at, full=full, display=display, errors=errors)


def classify_jsonl(matrix: Matrix, data: bytes, *, at: datetime | str | None = None, full: bool = False,
                   display: str | tzinfo | None = None, errors: Errors = "raise") -> Iterator[dict[str, Any]]:
    """`classify` over JSON Lines bytes: a result for each line that is not blank, lazily; a line that is not
    a JSON object is a bad record (n is then the line number)."""
    numbered = ((n, record) for n, record, _ in bulk.jsonl_records(data.splitlines()))
    return _classified(matrix, numbered, at=at, full=full, display=display, errors=errors)


def _classified(matrix: Matrix, numbered: Iterable[tuple[int, Any]], *, at: datetime | str | None, full: bool,
                display: str | tzinfo | None, errors: Errors) -> Iterator[dict[str, Any]]:
    """The results of (number, record) pairs, lazily; a bad record raises or, with "report", is reported."""
    classifier = bulk.Classifier(matrix, at=_moment(matrix, at), display=_display(matrix, display), full=full)
    for number, record in numbered:
        try:
            yield classifier.classify(record)
        except TriageError as exc:
            if errors != "report":
                raise
            yield {"line": number, "error": exc.message}


def measure_export(matrix: Matrix, data: bytes, *, name: str = "<export>", kind: Literal["csv", "jsonl"] | None = None,
                   mapping: str | None = None, timezone: str | None = None, severity: int | None = None,
                   options: AuditOptions | None = None) -> AuditPartial:
    """Measure one part of an export (CSV with its header, or JSON Lines) into a partial audit: plain values and
    NumPy arrays, no matrix objects, so that it pickles small and can be measured anywhere. `mapping` is a
    built-in mapping's name or a mapping file (default: recognised from the header); `options` must be the same
    for every part. Warnings (repeated references, activities missing) go to the `triage` logger."""
    options = options or AuditOptions()
    source, items = read_part(name, data, matrix, mapping=mapping, kind=kind, timezone=timezone, warn=log.warning,
                              severity=severity)
    partial = audit_measure.measure(matrix, items, options)
    partial.sources = [source]
    return partial


def merge_partials(*partials: AuditPartial) -> AuditPartial:
    """The partial of several parts, given in the parts' order; merging is associative, so parts may be merged
    in any grouping (pairs on a cluster, say) and the counts, medians and percentiles stay exact."""
    return audit_measure.merge(*partials)


def finish_audit(matrix: Matrix, partial: AuditPartial, options: AuditOptions | None = None) -> dict[str, Any]:
    """The audit report of the parts merged into `partial`: the JSON object of `triage audit --format json`."""
    options = options or AuditOptions()
    return audit_measure.to_json(audit_measure.finish(matrix, partial, options))


def audit_parts(matrix: Matrix, parts: Iterable[bytes], *, kind: Literal["csv", "jsonl"] | None = None,
          mapping: str | None = None, timezone: str | None = None, severity: int | None = None,
          options: AuditOptions | None = None) -> dict[str, Any]:
    """The audit report of an export given as parts (each with its header), in one process."""
    options = options or AuditOptions()
    measured = [measure_export(matrix, data, name=f"<part {n}>", kind=kind, mapping=mapping, timezone=timezone,
                               severity=severity, options=options) for n, data in enumerate(parts, 1)]
    return finish_audit(matrix, merge_partials(*measured), options)
