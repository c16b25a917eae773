"""`triage diff OLD NEW`: what changed between two revisions of a matrix, in the team's words."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any

from triage.engine.decide import evaluate
from triage.matrix.durations import EndOfDay, human_duration
from triage.matrix.loader import Matrix
from triage.matrix.wording import describe_cadence, describe_condition, level_title

_MAX_DECISION_CHECK = 2_000_000


@dataclass(frozen=True)
class Change:
    section: str
    kind: str  # added, removed, reworded, shortened, lengthened, changed
    text: str


def _keyed(items: Any, key: str = "id") -> dict[str, Any]:
    return {getattr(i, key): i for i in items}


def _span(d: Any, business: bool = False) -> str:
    """A duration as `show` writes it: in open hours on a business-hours calendar, where a day is not 24 h."""
    return "none" if d is None else human_duration(d, business=business, named=False)


def _timing(section: str, what: str, old: Any, new: Any, business: bool = False) -> list[Change]:
    closes = [d.after if isinstance(d, EndOfDay) else None for d in (old, new)]
    if old == new and closes[0] == closes[1]:
        return []
    if old is None or new is None or closes != [None, None]:  # a close of day leaves each ticket its own time
        return [Change(section, "changed", f"{what} changed from {_span(old, business)} to {_span(new, business)}")]
    kind = "shortened" if new < old else "lengthened"
    return [Change(section, kind, f"{what} {kind} from {_span(old, business)} to {_span(new, business)}")]


def _lists(section: str, what: str, old: list[str], new: list[str]) -> list[Change]:
    out = [Change(section, "added", f"{what} added: {item}") for item in new if item not in old]
    out += [Change(section, "removed", f"{what} removed: {item}") for item in old if item not in new]
    return out


def _text(section: str, what: str, old: str, new: str) -> list[Change]:
    return (
        []
        if old == new
        else [Change(section, "reworded", f"{what} reworded: \u201c{new}\u201d (was \u201c{old}\u201d)")]
    )


def diff(old: Matrix, new: Matrix) -> list[Change]:
    """Every change from `old` to `new`, section by section, then what the changes do to decisions."""
    sections = (_about, _roles, _calendars, _questions, _rules, _severities, _plans, _routes, _communication,
                _decisions)
    return [change for section in sections for change in section(old, new)]


def _about(old: Matrix, new: Matrix) -> list[Change]:
    """The matrix's own details, review triggers and maintenance steps."""
    a, b = old.model, new.model
    out: list[Change] = []
    for field in ("name", "version", "owner", "revised", "review_every_days", "timezone", "severity_fixed"):
        x, y = getattr(a.matrix, field), getattr(b.matrix, field)
        if x != y:
            out.append(Change("matrix", "changed", f"{field.replace('_', ' ')} changed from {x} to {y}"))
    if a.matrix.pauses != b.matrix.pauses:
        out.append(Change("matrix", "changed", "a wait on the customer now stops "
                          f"{', '.join(b.matrix.pauses) or 'no target'} (was {', '.join(a.matrix.pauses) or 'none'})"))
    out += _lists("matrix", "review trigger", a.matrix.review_triggers, b.matrix.review_triggers)
    out += _lists("matrix", "maintenance step", a.matrix.maintenance_checklist, b.matrix.maintenance_checklist)
    out += _lists("triggers", "trigger", a.triggers, b.triggers)
    return out


def _roles(old: Matrix, new: Matrix) -> list[Change]:
    """Roles added, removed, renamed or moved."""
    a, b = old.model, new.model
    out: list[Change] = []
    ra, rb = a.roles, b.roles
    out += [Change("roles", "added", f"role `{r}` ({rb[r].name}) added") for r in rb if r not in ra]
    out += [Change("roles", "removed", f"role `{r}` ({ra[r].name}) removed") for r in ra if r not in rb]
    for r in set(ra) & set(rb):
        out += _text("roles", f"role `{r}` name", ra[r].name, rb[r].name)
        out += _text("roles", f"role `{r}` contact point", ra[r].where, rb[r].where)
    return out


def _calendars(old: Matrix, new: Matrix) -> list[Change]:
    """Calendars added, removed, with other hours or holidays."""
    a, b = old.model, new.model
    out: list[Change] = []
    ca, cb = a.calendars, b.calendars
    out += [Change("calendars", "added", f"calendar `{c}` added") for c in cb if c not in ca]
    out += [Change("calendars", "removed", f"calendar `{c}` removed") for c in ca if c not in cb]
    for c in set(ca) & set(cb):
        if ca[c].hours != cb[c].hours or ca[c].timezone != cb[c].timezone or ca[c].kind != cb[c].kind:
            out.append(
                Change(
                    "calendars",
                    "changed",
                    f"calendar `{c}` hours changed: {new.calendars[c].describe()} (was {old.calendars[c].describe()})",
                )
            )
        ha = {h.date: h for h in ca[c].holidays}
        hb = {h.date: h for h in cb[c].holidays}
        out += [
            Change("calendars", "added", f"calendar `{c}`: holiday {d} {hb[d].name} added") for d in hb if d not in ha
        ]
        out += [
            Change("calendars", "removed", f"calendar `{c}`: holiday {d} {ha[d].name} removed")
            for d in ha
            if d not in hb
        ]
    return out


def _questions(old: Matrix, new: Matrix) -> list[Change]:
    """Questions added, removed or reworded, choices, when asked."""
    a, b = old.model, new.model
    out: list[Change] = []
    qa, qb = _keyed(a.questions), _keyed(b.questions)
    out += [Change("questions", "added", f"question `{q}` added: {qb[q].ask}") for q in qb if q not in qa]
    out += [Change("questions", "removed", f"question `{q}` removed: {qa[q].ask}") for q in qa if q not in qb]
    for q in [q for q in qb if q in qa]:
        out += _text("questions", f"question `{q}`", qa[q].ask, qb[q].ask)
        out += _text("questions", f"help for `{q}`", qa[q].help, qb[q].help)
        out += _lists("questions", f"choice of `{q}`", list(qa[q].choices), list(qb[q].choices))
        if qa[q].applies_when != qb[q].applies_when:
            out.append(Change("questions", "changed", f"`{q}` is now asked when {_when(new, new.applies.get(q))} "
                              f"(was {_when(old, old.applies.get(q))})"))
        if qa[q].affects != qb[q].affects:
            out.append(Change("questions", "changed", f"`{q}` now affects {qb[q].affects} (was {qa[q].affects})"))
    return out


def _condition(pairs: Any, item_id: str) -> dict[str, Any] | None:
    return next((cond for item, cond in pairs if item.id == item_id), None)


def _when(matrix: Matrix, condition: dict[str, Any] | None) -> str:
    return "always" if condition is None else describe_condition(matrix, condition)


def _rules(old: Matrix, new: Matrix) -> list[Change]:
    """Severity rules added, removed, raised, lowered or reworded."""
    a, b = old.model, new.model
    out: list[Change] = []
    sa, sb = _keyed(a.severity_rules), _keyed(b.severity_rules)
    out += [Change("severity rules", "added", f"rule `{r}` added: at least {sb[r].at_least}, {sb[r].because}")
            for r in sb if r not in sa]
    out += [Change("severity rules", "removed", f"rule `{r}` removed (was at least {sa[r].at_least})")
            for r in sa if r not in sb]
    for r in [r for r in sb if r in sa]:
        if sa[r].at_least != sb[r].at_least:
            word = "raised" if sb[r].at_least < sa[r].at_least else "lowered"
            out.append(
                Change(
                    "severity rules",
                    "changed",
                    f"rule `{r}` {word} from at least {sa[r].at_least} to at least {sb[r].at_least}",
                )
            )
        if sa[r].when != sb[r].when:
            out.append(Change("severity rules", "changed", f"rule `{r}` now applies when "
                              f"{_when(new, _condition(new.severity_rules, r))} "
                              f"(was {_when(old, _condition(old.severity_rules, r))})"))
        out += _text("severity rules", f"reason of `{r}`", sa[r].because, sb[r].because)
        out += _text("severity rules", f"intended dip of `{r}`", sa[r].intended_dip or "", sb[r].intended_dip or "")
    return out


def _severities(old: Matrix, new: Matrix) -> list[Change]:
    """Severities added, removed, or with other targets and routing."""
    a, b = old.model, new.model
    out: list[Change] = []
    for sid in b.severities:
        if sid not in a.severities:
            out.append(Change("severities", "added", f"severity `{sid}` ({b.severities[sid].label}) added"))
            continue
        out += _severity(sid, a.severities[sid], b.severities[sid], old, new)
    out += [Change("severities", "removed", f"severity `{s}` removed") for s in a.severities if s not in b.severities]
    return out


def _plans(old: Matrix, new: Matrix) -> list[Change]:
    """Support plans added or removed, the default and the plan question, and each plan's targets."""
    pa, pb = old.model.plans, new.model.plans
    ta = pa.tiers if pa is not None else {}
    tb = pb.tiers if pb is not None else {}
    out = [Change("plans", "added", f"plan `{p}` ({tb[p].name}) added") for p in tb if p not in ta]
    out += [Change("plans", "removed", f"plan `{p}` ({ta[p].name}) removed") for p in ta if p not in tb]
    if pa is not None and pb is not None:
        if pa.default != pb.default:
            out.append(Change("plans", "changed", f"default plan now `{pb.default}` (was `{pa.default}`)"))
        if pa.chosen_by != pb.chosen_by:
            out.append(Change("plans", "changed", f"plan now chosen by `{pb.chosen_by or '--plan'}` "
                              f"(was `{pa.chosen_by or '--plan'}`)"))
    for pid in [p for p in tb if p in ta]:
        for level in sorted(set(old.levels) & set(new.levels)):
            x, y = old.targets(level, pid), new.targets(level, pid)
            if x == y:
                continue
            out += _target_changes(f"plan {tb[pid].name}", x, y, new.business_time(y.calendar),
                                   new.level_name(level))
    return out


def _target_changes(sec: str, x: Any, y: Any, business: bool, what: str = "") -> list[Change]:
    """A level's targets changed from `x` to `y`: calendar, step targets, cadence and resolution time (`what`
    names the level where the section does not)."""
    out = []
    if x.calendar != y.calendar:
        out.append(Change(sec, "changed",
                          f"{what} targets now measured on `{y.calendar}` (was `{x.calendar}`)".strip()))
    for name in ("acknowledge", "assign_owner", "escalate"):
        out += _timing(sec, f"{what} {name.replace('_', ' ')} target".strip(), getattr(x, name), getattr(y, name),
                       business)
    out += _cadence(sec, x.update_every, y.update_every, business, what)
    out += _timing(sec, f"{what} resolution target".strip(), x.resolution and x.resolution.within,
                   y.resolution and y.resolution.within, business)
    return out


def _routes(old: Matrix, new: Matrix) -> list[Change]:
    """Cross-functional routes."""
    a, b = old.model, new.model
    out: list[Change] = []
    ta, tb = _keyed(a.routes), _keyed(b.routes)
    out += [Change("routes", "added", f"route `{r}` to {new.role_name(tb[r].role)} added: {tb[r].reason}")
            for r in tb if r not in ta]
    out += [Change("routes", "removed",
                   f"route `{r}` to {old.role_name(ta[r].role)} removed") for r in ta if r not in tb]
    for r in [r for r in tb if r in ta]:
        if ta[r].role != tb[r].role:
            out.append(
                Change(
                    "routes",
                    "changed",
                    f"route `{r}` now goes to {new.role_name(tb[r].role)} (was {old.role_name(ta[r].role)})",
                )
            )
        if ta[r].when != tb[r].when:
            out.append(Change("routes", "changed", f"route `{r}` now applies when "
                              f"{_when(new, _condition(new.routes, r))} (was {_when(old, _condition(old.routes, r))})"))
        out += _text("routes", f"reason of route `{r}`", ta[r].reason, tb[r].reason)
    return out


def _communication(old: Matrix, new: Matrix) -> list[Change]:
    """Communication, handoffs, closure and exceptions."""
    a, b = old.model, new.model
    out: list[Change] = []
    ia, ib = a.communication.internal_updates, b.communication.internal_updates
    if (ia.posted_by, ia.where) != (ib.posted_by, ib.where):
        out.append(Change("communication", "changed", f"internal updates now posted by {new.role_name(ib.posted_by)} "
                          f"in {ib.where} (was {old.role_name(ia.posted_by)} in {ia.where})"))
    for stage in b.communication.templates:
        if stage in a.communication.templates and a.communication.templates[stage] != b.communication.templates[stage]:
            out.append(Change("communication", "reworded", f"template `{stage}` reworded"))
    out += _lists("handoff packet", "packet field", [f.label for f in a.handoff_packet],
                  [f.label for f in b.handoff_packet])
    out += _lists("closure", "closure step", [c.item for c in a.closure_checklist],
                  [c.item for c in b.closure_checklist])
    out += _lists("handoff points", "handoff point", [p.label for p in a.handoff_points],
                  [p.label for p in b.handoff_points])
    pa, pb = _keyed(a.handoff_points), _keyed(b.handoff_points)
    for pid in [p for p in pb if p in pa]:
        out += _lists("handoff points", f"field required at {pb[pid].label}", pa[pid].requires, pb[pid].requires)
        out += _lists("handoff points", f"receiver at {pb[pid].label}", pa[pid].to, pb[pid].to)
    ea, eb = _keyed(a.exceptions), _keyed(b.exceptions)
    out += [Change("exceptions", "added", f"exception `{e}` added: {eb[e].reason} (expires {eb[e].expires})")
            for e in eb if e not in ea]
    out += [Change("exceptions", "removed", f"exception `{e}` removed") for e in ea if e not in eb]
    out += [Change("exceptions", "changed", f"exception `{e}` changed") for e in eb if e in ea and ea[e] != eb[e]]
    return out


def _severity(sid: str, x: Any, y: Any, old: Matrix, new: Matrix) -> list[Change]:
    title = level_title(y.level, y.label, y.name)
    sec = title[:1].lower() + title[1:] if y.name is None else title  # "severity 2 (High)", as before names
    out = _text(sec, "label", x.label, y.label) + _text(sec, "definition", x.definition, y.definition)
    if x.name != y.name:
        out.append(Change(sec, "changed", f"now called {level_title(y.level, y.label, y.name)} "
                          f"(was {level_title(x.level, x.label, x.name)})"))
    out += _lists(sec, "example", x.examples, y.examples)
    tx, ty = x.targets, y.targets
    business = new.business_time(ty.calendar)
    out += _target_changes(sec, tx, ty, business)
    rx_, ry_ = tx.resolution, ty.resolution
    out += _text(sec, "resolution expectation", rx_.expect if rx_ else "none", ry_.expect if ry_ else "none")
    rx, ry = x.routing, y.routing
    for key, what in (("receives", "first receiver"), ("approves", "approver"), ("owner", "owner after handoff")):
        if getattr(rx, key) != getattr(ry, key):
            out.append(Change(sec, "changed", f"{what} is now {new.role_name(getattr(ry, key))} "
                              f"(was {old.role_name(getattr(rx, key))})"))
    px = {s.role: s for s in rx.steps}
    py = {s.role: s for s in ry.steps}
    out += [Change(sec, "added", f"{new.role_name(r)} added to the escalation path after "
                   f"{_span(py[r].after, business)}: {py[r].action}") for r in py if r not in px]
    out += [Change(sec, "removed", f"{old.role_name(r)} removed from the escalation path") for r in px if r not in py]
    for r in [r for r in py if r in px]:
        out += _timing(sec, f"{new.role_name(r)} step delay", px[r].after, py[r].after, business)
        out += _text(sec, f"{new.role_name(r)} step", px[r].action, py[r].action)
    out += _lists(sec, "told", [old.role_name(n.role) for n in rx.notify], [new.role_name(n.role) for n in ry.notify])
    return out


def _cadence(sec: str, x: Any, y: Any, business: bool, what: str = "") -> list[Change]:
    """One line for a changed cadence: the first interval's change when that is all, else both cadences
    (`what` names the level where the section does not)."""
    steps_x, steps_y = [(s.every, s.for_) for s in x], [(s.every, s.for_) for s in y]
    if steps_x == steps_y:
        return []
    if steps_x and steps_y and steps_x[1:] == steps_y[1:] and steps_x[0][1] == steps_y[0][1]:
        return _timing(sec, f"{what} first update interval".strip(), steps_x[0][0], steps_y[0][0], business)
    def span(d: Any) -> str:
        return _span(d, business)

    return [Change(sec, "changed", f"{what} updates now {describe_cadence(y, span) or 'not promised'} (was "
                   f"{describe_cadence(x, span) or 'not promised'})".strip())]


def _decisions(old: Matrix, new: Matrix) -> list[Change]:
    """Answer combinations whose severity differs, when both questionnaires ask the same things."""
    if old.kinds != new.kinds:
        return []
    inputs = tuple(q for q in new.kinds if q in set(old.severity_inputs) | set(new.severity_inputs))
    size = 1
    for q in inputs:
        size *= len(new.domain(q))
    if size > _MAX_DECISION_CHECK:
        return []
    changed, example = 0, None
    for combo in itertools.product(*(new.domain(q) for q in inputs)):
        answers = dict(zip(inputs, combo))
        x, y = evaluate(old, answers), evaluate(new, answers)
        if (x and x.level) != (y and y.level):
            changed += 1
            example = example or (answers, x, y)
    if not changed:
        return []
    answers, x, y = example  # type: ignore[misc]
    def word(v: Any) -> str:
        return "yes" if v is True else "no" if v is False else ",".join(v) if isinstance(v, tuple) else str(v)

    shown = ", ".join(f"{k}={word(v)}" for k, v in answers.items())
    return [Change("decisions", "changed", f"{changed:,} of {size:,} answer combinations get a different severity, "
                   f"for example {shown}: {x.level if x else 'none'} before, {y.level if y else 'none'} now")]


def to_markdown(changes: list[Change], old_label: str, new_label: str) -> str:
    from triage.sanitize import markdown as md

    lines = [f"# Changes from {md(old_label)} to {md(new_label)}", ""]
    if not changes:
        return "\n".join(lines + ["No changes.", ""])
    for section, group in itertools.groupby(sorted(changes, key=lambda c: _order(c.section)), key=lambda c: c.section):
        lines += [f"## {md(section[:1].upper() + section[1:])}", ""]
        lines += [f"- {_markdown(c.text)}" for c in group] + [""]
    return "\n".join(lines)


def _markdown(text: str) -> str:
    """A change as Markdown: its `code spans` kept as code, the rest escaped."""
    from triage.sanitize import markdown as md
    from triage.sanitize import visible

    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: all text
        return md(text, line_start=False)
    return "".join(md(part, line_start=False) if i % 2 == 0 else f"`{visible(part)}`" for i, part in enumerate(parts))


def _order(section: str) -> tuple[int, str]:
    first = ["decisions", "matrix", "triggers", "questions", "severity rules"]
    return (first.index(section), section) if section in first else (len(first), section)


def to_json(changes: list[Change]) -> list[dict[str, str]]:
    return [asdict(c) for c in changes]
