"""triage: an executable support escalation matrix.

The library API (see the README, "Use as a library"): `load_matrix`, `triage`, `classify`, `classify_jsonl`,
and the audit as split-then-merge, `measure_export`, `merge_partials`, `finish_audit` (or `audit_parts` in one call).
They are loaded on first use, so that the `triage` command starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from triage.errors import InputError, MissingAnswerError, TriageError
    from triage.library import (AuditOptions, AuditPartial, Matrix, Result, audit_parts, classify, classify_jsonl,
                                finish_audit, load_matrix, measure_export, merge_partials, triage)

__all__ = ["AuditOptions", "AuditPartial", "InputError", "Matrix", "MissingAnswerError", "Result", "TriageError",
           "audit_parts", "classify", "classify_jsonl", "finish_audit", "load_matrix", "measure_export",
           "merge_partials", "triage"]
_ERRORS = {"InputError", "MissingAnswerError", "TriageError"}


def __getattr__(name: str) -> Any:
    if name in _ERRORS:
        from triage import errors

        return getattr(errors, name)
    if name in __all__:
        from triage import library

        return getattr(library, name)
    raise AttributeError(f"module 'triage' has no attribute {name!r}")
