"""Shell completion of values (`triage --install-completion` sets it up for bash, zsh or fish): question ids
and their answers, roles, handoff points, packet fields, closure items and ticket references. A completer
never fails: whatever it cannot read, it offers nothing for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from triage.errors import TriageError
from triage.matrix.loader import Matrix

Items = list[tuple[str, str]]


def _matrix(ctx: Any) -> Matrix | None:
    from triage.cli.common import load_matrix

    own = ctx.params.get("matrix")
    parent = ctx.parent.params.get("matrix_path") if ctx.parent is not None else None
    try:
        return load_matrix(own or parent, None)
    except (TriageError, OSError, ValueError):
        return None


def answers(ctx: Any, _args: list[str], incomplete: str) -> Items:
    """`ID=` for each question, then the answers that question takes (after a comma for a multi-select)."""
    matrix = _matrix(ctx)
    if matrix is None:
        return []
    if "=" not in incomplete:
        return [(f"{q.id}=", q.ask) for q in matrix.model.questions]
    qid, _, value = incomplete.partition("=")
    if qid not in matrix.kinds:
        return []
    kind, choices = matrix.kinds[qid]
    if kind == "yes_no":
        return [(f"{qid}={word}", "") for word in ("yes", "no")]
    labels = matrix.question(qid).choices
    if kind == "one_of":
        return [(f"{qid}={cid}", labels[cid]) for cid in choices]
    done, _, _last = value.rpartition(",")
    prefix = f"{qid}={done}," if done else f"{qid}="
    taken = set(done.split(","))
    return [(prefix + cid, labels[cid]) for cid in choices if cid not in taken]


def roles(ctx: Any, _args: list[str], _incomplete: str) -> Items:
    matrix = _matrix(ctx)
    return [] if matrix is None else [(rid, role.name) for rid, role in matrix.model.roles.items()]


def plans(ctx: Any, _args: list[str], _incomplete: str) -> Items:
    matrix = _matrix(ctx)
    tiers = matrix.model.plans.tiers if matrix is not None and matrix.model.plans is not None else {}
    return [(pid, tier.name) for pid, tier in tiers.items()]


def points(ctx: Any, _args: list[str], _incomplete: str) -> Items:
    matrix = _matrix(ctx)
    return [] if matrix is None else [(p.id, p.label) for p in matrix.model.handoff_points]


def packet_fields(ctx: Any, _args: list[str], _incomplete: str) -> Items:
    matrix = _matrix(ctx)
    return [] if matrix is None else [(f"{f.id}=", f.label) for f in matrix.model.handoff_packet
                                      if not f.filled_from]


def closure_items(ctx: Any, _args: list[str], incomplete: str) -> Items:
    matrix = _matrix(ctx)
    if matrix is None:
        return []
    items = {c.id: c for c in matrix.model.closure_checklist}
    cid, equals, _ = incomplete.partition("=")
    if equals and cid in items and items[cid].answer == "confirm":
        return [(f"{cid}=yes", ""), (f"{cid}=no", "")]
    return [(f"{c.id}=", c.item) for c in items.values()]


def tickets(ctx: Any, _args: list[str], _incomplete: str) -> Items:
    """The references in the history, newest first; a history that does not exist yet is not created."""
    from triage.engine.history import History
    from triage.files import history_path

    path = history_path(ctx.params.get("history"))
    if not Path(path).is_file():
        return []
    try:
        with History(path) as store:
            return [(name, "") for name in reversed(store.tickets())]
    except TriageError:
        return []
