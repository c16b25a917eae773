"""`triage validate`: every problem in a matrix, located, in stages (parse, structure, references, logic).

The logic stage can prove things because every answer comes from a fixed list: it enumerates the
combinations of the answers that severity rules read.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from triage.engine.decide import answer_words, as_aware, decision_table, resolve_answers, triage
from triage.matrix.calendars import zone
from triage.errors import Problem, TriageError
from triage.matrix.durations import human_duration
from triage.matrix.conditions import matches
from triage.matrix.loader import Matrix, check
from triage.sanitize import has_unsafe, visible

_MARKUP = re.compile(r"\[(?:/|/?[a-zA-Z#@][^\[\]\n]*)\]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ROLE_WORDS = {
    "support", "team", "lead", "leads", "engineering", "engineer", "engineers", "on-call", "oncall", "manager",
    "management", "success", "security", "finance", "compliance", "vendor", "leadership", "specialist",
    "specialists", "frontline", "desk", "queue", "operations", "ops", "it", "officer", "commander", "incident",
    "customer", "account", "product", "technical", "tier", "agent", "agents", "director", "executive",
    "executives", "owner", "group", "department", "provider", "partner", "legal", "billing", "sales", "service",
    "duty", "rotation", "coordinator", "analyst", "administrator", "admin", "head", "chief", "staff",
}


def lint(data: bytes, source: str, *, today: date) -> list[Problem]:
    """All problems of one matrix file, in stage order; a stage with errors stops the later ones."""
    try:
        matrix, problems = check(data, source)
    except TriageError as exc:  # unreadable file: binary, not UTF-8, oversize
        return [Problem(source, 0, 0, "error", exc.message.removeprefix(f"{source}: "), "F001")]
    if matrix is None:
        return problems
    return problems + list(logic(matrix, today=today))


def _reachable(matrix: Matrix, inputs: tuple[str, ...], combo: tuple[Any, ...]) -> bool:
    """False when the combination needs an answer to a question that would not have been asked."""
    answers = dict(zip(inputs, combo))
    for qid in inputs:
        condition = matrix.applies.get(qid)
        if condition is None or not set(condition) <= answers.keys():
            continue
        if not matches(condition, answers) and answers[qid] != matrix.defaults[qid]:
            return False
    return True


def _show(answers: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, tuple):
            return ",".join(v) or "(none)"
        return str(v)

    return ", ".join(f"{k}={value(v)}" for k, v in answers.items()) or "(any answers)"


def logic(matrix: Matrix, *, today: date) -> Iterator[Problem]:
    """What the matrix decides, checked over every reachable combination of answers, then its other parts."""
    inputs = matrix.severity_inputs
    reachable = {combo: decision for combo, decision in decision_table(matrix).items()
                 if _reachable(matrix, inputs, combo)}
    yield from _completeness(matrix, reachable)
    yield from _deciding(matrix, reachable)
    yield from _unread(matrix)
    yield from _monotonic(matrix, reachable)
    yield from _targets(matrix)
    yield from _people(matrix)
    yield from _exceptions(matrix, today)
    yield from _exception_targets(matrix)
    yield from _plan_targets(matrix)
    yield from _days_on_business_hours(matrix)
    yield from _display_text(matrix)
    yield from _examples(matrix)


Reachable = dict[tuple[Any, ...], Any]  # answers to the questions severity rules read -> Decision or None


def _completeness(matrix: Matrix, reachable: Reachable) -> Iterator[Problem]:
    """Answers that reach no severity."""
    inputs = matrix.severity_inputs
    rest = 1
    for q in matrix.model.questions:
        if q.id not in inputs:
            rest *= len(matrix.domain(q.id))
    gaps = [combo for combo, decision in reachable.items() if decision is None]
    if gaps:
        example = _show(dict(zip(inputs, gaps[0], strict=True)))
        total = len(reachable) * rest
        yield matrix.doc.problem(("severity_rules",), f"{len(gaps) * rest:,} of {total:,} answer combinations reach "
                                 f"no severity, for example {example}; add a rule or a catch-all (`when: {{}}`)",
                                 "L401", key=True)


def _deciding(matrix: Matrix, reachable: Reachable) -> Iterator[Problem]:
    """Rules that never decide, and levels never reached."""
    doc, inputs = matrix.doc, matrix.severity_inputs
    deciding = Counter(rid for d in reachable.values() if d for rid in d.rules)
    for i, (rule, condition) in enumerate(matrix.severity_rules):
        if deciding[rule.id]:
            continue
        hits = [d for combo, d in reachable.items() if matches(condition, dict(zip(inputs, combo, strict=True)))]
        if not hits:
            yield doc.problem(("severity_rules", i, "when"), f"rule `{rule.id}` matches no possible answers", "L402",
                              level="warning")
        else:
            over = Counter(rid for d in hits if d for rid in d.rules).most_common(1)[0][0]
            yield doc.problem(("severity_rules", i, "at_least"), f"rule `{rule.id}` never decides: whenever it "
                              f"matches, a more severe rule (such as `{over}`) wins", "L402", level="warning")
    reached = {d.level for d in reachable.values() if d}
    for sid, sev in matrix.model.severities.items():
        if sev.level not in reached:
            yield doc.problem(("severities", sid), f"no answers lead to `{sid}` (level {sev.level})", "L403",
                              level="warning", key=True)


def _unread(matrix: Matrix) -> Iterator[Problem]:
    """Questions nobody reads; routing-only questions in severity rules; recorded-only questions read by a rule;
    the plan question in a severity rule (a plan changes targets, never severity)."""
    doc, inputs = matrix.doc, matrix.severity_inputs
    route_reads = {qid for _, cond in matrix.routes for qid in cond}
    plan_question = matrix.model.plans.chosen_by if matrix.model.plans is not None else None
    for i, q in enumerate(matrix.model.questions):
        if q.id == plan_question:
            for j, (rule, cond) in enumerate(matrix.severity_rules):
                if q.id in cond:
                    yield doc.problem(("severity_rules", j, "when", q.id), f"rule `{rule.id}` reads the plan question "
                                      f"`{q.id}`: a plan changes targets, never the severity", "L405")
            continue
        if q.affects in ("routing", "record"):
            for j, (rule, cond) in enumerate(matrix.severity_rules):
                if q.id in cond:
                    why = ("only affects routing: severity follows impact, not who is asking" if q.affects == "routing"
                           else "is only recorded (`affects: record`): it decides nothing")
                    yield doc.problem(("severity_rules", j, "when", q.id), f"rule `{rule.id}` reads `{q.id}`, which "
                                      + why, "L405")
        if q.affects == "record":
            for j, (route, cond) in enumerate(matrix.routes):
                if q.id in cond:
                    yield doc.problem(("routes", j, "when", q.id), f"route `{route.id}` reads `{q.id}`, which is only "
                                      "recorded (`affects: record`): mark it `affects: routing`", "L405")
        elif q.affects == "routing":
            if q.id not in route_reads:
                yield doc.problem(("questions", i), f"question `{q.id}` affects routing but no route reads it",
                                  "L404", level="warning")
        elif q.id not in inputs:
            yield doc.problem(("questions", i), f"no severity rule reads question `{q.id}` (mark it `affects: "
                              "routing` if it is for routing only, `affects: record` if it only goes on the ticket)",
                              "L404", level="warning")


def _monotonic(matrix: Matrix, reachable: Reachable) -> Iterator[Problem]:
    """One step worse on an ordered question never gives a less severe level. Each dip is reported once, at the
    rule that makes the milder answer more severe, with the answers (by label) of the questions the two rules
    read; a rule whose `intended_dip` gives the reason is a published grid's deliberate choice and passes."""
    inputs = matrix.severity_inputs
    position = {qid: i for i, qid in enumerate(inputs)}
    rules = {rule.id: (i, rule, cond) for i, (rule, cond) in enumerate(matrix.severity_rules)}
    seen: set[tuple[Any, ...]] = set()
    found: list[tuple[int, Problem]] = []
    for q in matrix.model.questions:
        if not (q.ordered and q.id in position):
            continue
        for combo, decision, worse, other in _dips(reachable, position[q.id], list(q.choices)):
            i, rule, cond = rules[decision.rules[0]]
            if rule.intended_dip:
                continue
            read = [qid for qid in inputs if qid in cond or qid in rules[other.rules[0]][2] or qid == q.id]
            cell = tuple(combo[position[qid]] for qid in read)
            key = (rule.id, other.rules[0], q.id, worse, cell)
            if key in seen:
                continue
            seen.add(key)
            answers = ", ".join(f"{qid} `{answer_words(matrix, qid, v)}`" for qid, v in zip(read, cell, strict=True))
            found.append((i, matrix.doc.problem(
                ("severity_rules", i, "at_least"), f"rule `{rule.id}` gives severity {decision.level} for {answers}; "
                f"the worse {q.id} `{answer_words(matrix, q.id, worse)}` gives only {other.level} "
                f"(by `{other.rules[0]}`). "
                "If the grid means it, say why in the rule's `intended_dip`", "L406", level="warning")))
    yield from (problem for _, problem in sorted(found, key=lambda f: f[0]))


def _dips(reachable: Reachable, k: int, choices: list[str]) -> Iterator[tuple[Any, Any, str, Any]]:
    """Every combination where the next worse answer to question `k` gives a less severe level."""
    for combo, decision in reachable.items():
        if decision is None:
            continue
        step = choices.index(combo[k]) + 1
        if step >= len(choices):
            continue
        other = reachable.get(combo[:k] + (choices[step],) + combo[k + 1:])
        if other is not None and other.level > decision.level:
            yield combo, decision, choices[step], other


def _span(matrix: Matrix, spec: Any, delta: timedelta | None) -> str:
    """A duration as `show` writes it: days only on an around-the-clock calendar (a business day is not 24 h)."""
    if delta is None:
        return "none"
    business = matrix.business_time(spec.targets.calendar)
    return human_duration(delta, business=business, named=False)


def _targets(matrix: Matrix) -> Iterator[Problem]:
    doc = matrix.doc
    by_level = sorted(matrix.levels.values(), key=lambda s: s.level)
    got = {lvl.id: _measures(matrix.targets(lvl.level)) for lvl in by_level}
    for kind, one, other, a, b in _disorder(by_level, got):
        key = "update_every" if b == "first update" else b
        if kind == "steps":
            yield doc.problem(("severities", one.id, "targets", b), f"`{one.id}`: {b} "
                              f"({_span(matrix, one.spec, got[one.id][b])}) comes before {a} "
                              f"({_span(matrix, one.spec, got[one.id][a])})", "L407")
        else:
            yield doc.problem(("severities", one.id, "targets", key),
                              f"`{one.id}` is more severe than `{other.id}` but its {a} target is slower "
                              f"({_span(matrix, one.spec, got[one.id][a])} against "
                              f"{_span(matrix, other.spec, got[other.id][a])})", "L408")
    for lvl in by_level:
        t = matrix.targets(lvl.level)
        cadence = t.update_every
        first = cadence[0].every if cadence else None
        resolution = None if t.resolution is None else t.resolution.within
        if first is not None and resolution is not None and first >= resolution:
            yield doc.problem(("severities", lvl.id, "targets", "update_every"), f"`{lvl.id}`: the first customer "
                              f"update ({_span(matrix, lvl.spec, first)}) is due no sooner than the resolution "
                              f"({_span(matrix, lvl.spec, resolution)}): a ticket resolved on time never gets one",
                              "L419", level="warning")
        for j, step in enumerate(cadence[:-1]):
            if step.for_ is None:
                yield doc.problem(("severities", lvl.id, "targets", "update_every", j),
                                  "only the last cadence step may run without `for`", "L407")


STEPS = ("acknowledge", "assign_owner", "escalate")
Measures = dict[str, timedelta | None]


def _disorder(by_level: list[Any], got: dict[str, Measures], touched: Any = None
              ) -> Iterator[tuple[str, Any, Any, str, str]]:
    """Where targets break the order of a ticket's steps, ("steps", level, None, earlier step, later step), or of
    the levels, ("levels", more severe level, less severe one, target, target); only among promised targets,
    and only those `touched(severity id, name)` changed (None: all of them)."""
    def changed(sid: str, name: str) -> bool:
        return touched is None or touched(sid, name)
    for lvl in by_level:
        t = got[lvl.id]
        promised = [name for name in STEPS if t[name] is not None]
        for a, b in itertools.pairwise(promised):
            if (changed(lvl.id, a) or changed(lvl.id, b)) and t[a] > t[b]:  # type: ignore[operator]
                yield "steps", lvl, None, a, b
    for higher, lower in itertools.pairwise(by_level):
        hi, lo = got[higher.id], got[lower.id]
        for name in hi:
            if (changed(higher.id, name) or changed(lower.id, name)) and hi[name] is not None \
                    and lo[name] is not None and hi[name] > lo[name]:  # type: ignore[operator]
                yield "levels", higher, lower, name, name


def _measures(t: Any, changes: Any = None, sid: str = "") -> dict[str, timedelta | None]:
    """A level's targets by name, with an exception's changes (`changes`) for level `sid` applied."""
    values: dict[str, timedelta | None] = {
        "acknowledge": t.acknowledge, "assign_owner": t.assign_owner, "escalate": t.escalate,
        "first update": t.update_every[0].every if t.update_every else None,
        "resolution": None if t.resolution is None else t.resolution.within}
    if changes is not None:
        values.update(changes.targets.get(sid, {}))
        if sid in changes.update_every:
            values["first update"] = changes.update_every[sid]
    return values


def _changed(changes: Any, sid: str) -> set[str]:
    names = set(changes.targets.get(sid, {}))
    return names | ({"first update"} if sid in changes.update_every else set())


def _exception_targets(matrix: Matrix) -> Iterator[Problem]:
    """An exception's targets, applied, keep the order of a ticket's steps and of the levels (L420); two
    exceptions that can cover one ticket do not set one target to two values (L421)."""
    doc = matrix.doc
    by_level = sorted(matrix.levels.values(), key=lambda s: s.level)
    for i, exc in enumerate(matrix.model.exceptions):
        ch = exc.changes
        applied = {lvl.id: _measures(matrix.targets(lvl.level), ch, lvl.id) for lvl in by_level}
        def touched(sid: str, name: str, ch: Any = ch) -> bool:
            return name in _changed(ch, sid)
        for kind, one, other, x, y in _disorder(by_level, applied, touched):
            if kind == "steps":
                yield doc.problem(_exception_path(i, ch, one.id, y if touched(one.id, y) else x),
                                  f"exception `{exc.id}` puts `{one.id}`'s {y} "
                                  f"({_span(matrix, one.spec, applied[one.id][y])}) before its {x} "
                                  f"({_span(matrix, one.spec, applied[one.id][x])})", "L420")
            else:
                sid = one.id if touched(one.id, x) else other.id
                yield doc.problem(_exception_path(i, ch, sid, x),
                                  f"exception `{exc.id}` makes `{one.id}`'s {x} target slower than "
                                  f"`{other.id}`'s ({_span(matrix, one.spec, applied[one.id][x])} against "
                                  f"{_span(matrix, other.spec, applied[other.id][x])})", "L420", level="warning")
    yield from _exception_conflicts(matrix)


_DAYS_WRITTEN = re.compile(r"\d+\s*[dw]\b")


def _durations(matrix: Matrix) -> Iterator[tuple[tuple[Any, ...], str]]:
    """Every target duration of the file with the calendar it runs on: (path, calendar id)."""
    model = matrix.model
    def of(base: tuple[Any, ...], t: dict[str, Any], calendar: str) -> Iterator[tuple[tuple[Any, ...], str]]:
        for name in ("acknowledge", "assign_owner", "escalate"):
            yield base + (name,), calendar
        for j, _ in enumerate(t.get("update_every") or []):
            yield base + ("update_every", j, "every"), calendar
            yield base + ("update_every", j, "for"), calendar
        yield base + ("resolution", "within"), calendar
    data = matrix.doc.data
    for sid, sev in model.severities.items():
        yield from of(("severities", sid, "targets"), data["severities"][sid]["targets"], sev.targets.calendar)
    for pid, tier in (model.plans.tiers.items() if model.plans is not None else []):
        for sid in tier.targets:
            if sid in model.severities:
                calendar = matrix.targets(model.severities[sid].level, pid).calendar
                yield from of(("plans", "tiers", pid, "targets", sid), data["plans"]["tiers"][pid]["targets"][sid],
                              calendar)
    for i, exc in enumerate(model.exceptions):
        for sid in set(exc.changes.targets) | set(exc.changes.update_every):
            if sid in model.severities:
                calendar = model.severities[sid].targets.calendar
                yield from ((("exceptions", i, "changes", "targets", sid, name), calendar)
                            for name in exc.changes.targets.get(sid, {}))
                if sid in exc.changes.update_every:
                    yield ("exceptions", i, "changes", "update_every", sid), calendar


def _raw(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        found = isinstance(data, dict) and key in data
        if found or (isinstance(data, list) and isinstance(key, int) and key < len(data)):
            data = data[key]
        else:
            return None
    return data


def _days_on_business_hours(matrix: Matrix) -> Iterator[Problem]:
    """`d` or `w` on a weekly calendar counts 24 (or 168) open hours, several business days: say so (L423)."""
    from triage.matrix.calendars import WeeklyHours
    from triage.matrix.durations import parse_duration

    for path, cid in _durations(matrix):
        text = _raw(matrix.doc.data, path)
        calendar = matrix.calendars.get(cid)
        if not isinstance(text, str) or not _DAYS_WRITTEN.search(text) or not isinstance(calendar, WeeklyHours):
            continue
        day, hours = calendar.business_day(), parse_duration(text)
        if not day:
            continue
        count = hours / day
        advice = f"write `{int(count)}bd`, or `{int(hours.total_seconds() // 3600)}h` to keep it" \
            if count == int(count) else f"write it in hours (`{int(hours.total_seconds() // 3600)}h`) or business " \
            "days (`1bd`)"
        yield matrix.doc.problem(path, f"`{text}` on the business-hours calendar `{cid}` counts "
                                 f"{human_duration(hours, business=True, named=False)} of open time, "
                                 f"{count:g} business days of {human_duration(day, business=True, named=False)}: "
                                 + advice, "L423", level="warning")


def _plan_targets(matrix: Matrix) -> Iterator[Problem]:
    """Each plan's targets, its changes applied, keep the order of a ticket's steps and of the levels (L422)."""
    plans = matrix.model.plans
    if plans is None:
        return
    by_level = sorted(matrix.levels.values(), key=lambda s: s.level)
    for pid, tier in plans.tiers.items():
        got = {lvl.id: _measures(matrix.targets(lvl.level, pid)) for lvl in by_level}
        changed = {sid: set(change.model_fields_set) for sid, change in tier.targets.items()}
        def path(sid: str, name: str, pid: str = pid) -> tuple[Any, ...]:
            key = "update_every" if name == "first update" else name
            return ("plans", "tiers", pid, "targets", sid, key)
        def touched(sid: str, name: str, changed: dict[str, set[str]] = changed) -> bool:
            key = "update_every" if name == "first update" else name
            return key in changed.get(sid, set())
        for kind, one, other, x, y in _disorder(by_level, got, touched):
            if kind == "steps":
                yield matrix.doc.problem(path(one.id, y if touched(one.id, y) else x),
                                         f"plan `{pid}`: `{one.id}`'s {y} ({_span(matrix, one.spec, got[one.id][y])}) "
                                         f"comes before its {x} ({_span(matrix, one.spec, got[one.id][x])})", "L422")
            else:
                sid = one.id if touched(one.id, x) else other.id
                yield matrix.doc.problem(path(sid, x), f"plan `{pid}`: `{one.id}` is more severe than `{other.id}` "
                                         f"but its {x} target is slower ({_span(matrix, one.spec, got[one.id][x])} "
                                         f"against {_span(matrix, other.spec, got[other.id][x])})", "L422")


def _exception_path(i: int, changes: Any, sid: str, name: str) -> tuple[Any, ...]:
    if name == "first update" and sid in changes.update_every:
        return ("exceptions", i, "changes", "update_every", sid)
    return ("exceptions", i, "changes", "targets", sid, name)


def _overlap(a: Any, b: Any, home: Any) -> bool:
    """Whether one ticket can fall under both scopes (an unscoped exception applies to nothing)."""
    if all(v is None for v in (a.account, a.segment, a.starts, a.ends)):
        return False
    if all(v is None for v in (b.account, b.segment, b.starts, b.ends)):
        return False
    if a.account is not None and b.account is not None and a.account.casefold() != b.account.casefold():
        return False
    if a.segment is not None and b.segment is not None and a.segment != b.segment:
        return False
    def key(moment: datetime | None, default: datetime) -> datetime:
        return default if moment is None else as_aware(moment, home).astimezone(UTC)
    low, high = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    return max(key(a.starts, low), key(b.starts, low)) < min(key(a.ends, high), key(b.ends, high))


def _exception_conflicts(matrix: Matrix) -> Iterator[Problem]:
    excs, home = matrix.model.exceptions, zone(matrix.model.matrix.timezone)
    for (_, a), (j, b) in itertools.combinations(enumerate(excs), 2):
        if not _overlap(a.scope, b.scope, home):
            continue
        for sid in sorted(set(a.changes.targets) | set(a.changes.update_every)):
            got_a = _measures(matrix.model.severities[sid].targets, a.changes, sid) \
                if sid in matrix.model.severities else {}
            got_b = _measures(matrix.model.severities[sid].targets, b.changes, sid) \
                if sid in matrix.model.severities else {}
            spec = matrix.model.severities.get(sid)
            for name in sorted(_changed(a.changes, sid) & _changed(b.changes, sid)):
                if got_a[name] != got_b[name]:
                    yield matrix.doc.problem(
                        _exception_path(j, b.changes, sid, name),
                        f"exceptions `{a.id}` and `{b.id}` can cover the same ticket and set `{sid}`'s {name} to "
                        f"{_span(matrix, spec, got_a[name])} and {_span(matrix, spec, got_b[name])}: the later one "
                        "wins; narrow a scope or agree on one target", "L421", level="warning")


def _looks_like_person(name: str) -> bool:
    words = name.replace("(", " ").replace(")", " ").split()
    return (2 <= len(words) <= 3 and all(w[:1].isupper() and w[1:].isalpha() for w in words)
            and not any(w.lower() in _ROLE_WORDS for w in words))


def _people(matrix: Matrix) -> Iterator[Problem]:
    doc, model = matrix.doc, matrix.model
    for rid, role in model.roles.items():
        if _looks_like_person(role.name):
            yield doc.problem(("roles", rid, "name"), f"role `{rid}` is named like a person (`{role.name}`): "
                              "route to a role or team that outlives staff changes", "L409", level="warning")
    texts: list[tuple[tuple[Any, ...], str]] = [(("roles", rid, "where"), r.where) for rid, r in model.roles.items()]
    for sid, sev in model.severities.items():
        texts += [(("severities", sid, "routing", "steps", j, "action"), s.action) for j,
                  s in enumerate(sev.routing.steps)]
    texts += [(("routes", i, "reason"), r.reason) for i, r in enumerate(model.routes)]
    for path, text in texts:
        m = _EMAIL.search(text)
        if m:
            yield doc.problem(path, f"`{m.group()}` looks like a person's address: name a role or a shared queue",
                              "L409", level="warning")


def _exceptions(matrix: Matrix, today: date) -> Iterator[Problem]:
    doc, model = matrix.doc, matrix.model
    for i, exc in enumerate(model.exceptions):
        if exc.expires is None:
            yield doc.problem(("exceptions", i),
                              f"exception `{exc.id}` has no `expires` date: exceptions are time-bound", "L410")
        elif exc.expires < today:
            yield doc.problem(("exceptions", i, "expires"), f"exception `{exc.id}` expired on {exc.expires}",
                              "L411", level="warning")
        if exc.approver is None:
            yield doc.problem(("exceptions", i), f"exception `{exc.id}` has no `approver`", "L410")
    info = model.matrix
    due = info.revised + timedelta(days=info.review_every_days)
    if due < today:
        yield doc.problem(
            ("matrix", "revised"),
            f"review overdue: revised {info.revised}, due every {info.review_every_days} days, so due on {due}",
            "L412",
            level="warning",
        )


def _strings(value: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, path + (i,))


def _display_text(matrix: Matrix) -> Iterator[Problem]:
    seen = set()
    for path, text in _strings(matrix.doc.data, ()):
        if has_unsafe(text):
            problem = matrix.doc.problem(path, "control or direction-changing character in displayed text", "L413")
        elif _MARKUP.search(text):
            problem = matrix.doc.problem(path, f"`{_MARKUP.search(text).group()}` looks like terminal markup; "  # type: ignore[union-attr]
                                         "displayed text must be plain", "L413")
        else:
            continue
        if (problem.line, problem.column) not in seen:
            seen.add((problem.line, problem.column))
            yield problem


def _examples(matrix: Matrix) -> Iterator[Problem]:
    doc = matrix.doc
    at = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # any fixed moment: examples check decisions, not clocks
    for i, ex in enumerate(matrix.model.examples):
        try:
            answers, skipped = resolve_answers(matrix, ex.answers, assume_severity=True)
            result = triage(matrix, answers, skipped=skipped, at=at)
        except TriageError as exc:
            yield doc.problem(("examples", i, "answers"), f"example `{ex.name}`: {exc.message}", "L414")
            continue
        exp = ex.expect
        if result.level != exp.severity:
            reasons = ", ".join(result.computed.rules)
            yield doc.problem(("examples", i, "expect", "severity"), f"example `{ex.name}`: expected severity "
                              f"{exp.severity}, the matrix gives {result.level} (by {reasons})", "L414")
        if exp.owner is not None and result.owner != exp.owner:
            yield doc.problem(
                ("examples", i, "expect", "owner"),
                f"example `{ex.name}`: expected owner `{exp.owner}`, the matrix gives `{result.owner}`",
                "L414",
            )
        if exp.routes is not None:
            got = sorted({role for _, role, _ in result.routes})
            if got != sorted(set(exp.routes)):
                yield doc.problem(("examples", i, "expect", "routes"), f"example `{ex.name}`: expected routes to "
                                  f"{', '.join(sorted(set(exp.routes))) or 'nobody'}, the matrix routes to "
                                  f"{', '.join(got) or 'nobody'}", "L414")


def github(problem: Problem) -> str:
    """A GitHub Actions workflow command; data and properties escaped so input cannot add commands."""

    def data(s: str) -> str:
        return visible(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def prop(s: str) -> str:
        return data(s).replace(":", "%3A").replace(",", "%2C")

    where = f"file={prop(problem.source)}"
    if problem.line:
        where += f",line={problem.line},col={problem.column}"
    return f"::{problem.level} {where},title={prop(problem.code)}::{data(problem.message)}"
