"""Loading a matrix: parse, check structure and references, and index it for the engine."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import itertools
import re
import string
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel

from triage.errors import AnswerError, MatrixError, Problem
from triage.matrix import calendars as cal
from triage.matrix.answers import parse_answer
from triage.matrix.durations import BusinessDays, EndOfDay
from triage.matrix.conditions import normalise
from triage.matrix.model import Calendar, MatrixModel, Question, Route, Severity, SeverityRule, Targets
from triage.matrix.yamlsafe import Document

TEMPLATE_STAGES = ("under_review", "escalated", "update", "internal_update", "resolved")
PLACEHOLDERS = {
    "ticket": "ticket reference",
    "severity": "severity with its label, e.g. Severity 2 (High)",
    "summary": "one-line summary of the problem",
    "impact": "current impact: scope, business impact, workaround",
    "actions": "actions taken so far (override reasons and roles only in the internal update)",
    "next_step": "the next step: who takes it (internal), or the step's `customer` wording (customer texts)",
    "next_update_at": "when the next update is due",
    "owner": "role that owns the next step",
    "channel": "where internal updates are posted",
    "acknowledge_by": "acknowledgement deadline",
    "resolution": "the resolution expectation",
}
# Templates whose text goes to the customer as written, and the placeholders that name internal roles and
# places, which only the internal update may use.
CUSTOMER_TEMPLATES = ("under_review", "escalated", "update", "resolved")
INTERNAL_ONLY = ("owner", "channel")
TARGET_NAMES = ("acknowledge", "assign_owner", "escalate")


@dataclass
class SeverityLevel:
    id: str
    level: int
    spec: Severity


@dataclass
class Matrix:
    """A loaded, checked matrix with the indexes the engine needs."""

    model: MatrixModel
    source: str
    sha256: str
    doc: Document
    kinds: dict[str, tuple[str, tuple[str, ...]]]
    defaults: dict[str, Any]
    applies: dict[str, dict[str, Any]]
    levels: dict[int, SeverityLevel]
    calendars: dict[str, cal.AlwaysOpen | cal.WeeklyHours]
    severity_rules: list[tuple[SeverityRule, dict[str, Any]]]
    routes: list[tuple[Route, dict[str, Any]]]
    _table: dict[tuple[Any, ...], tuple[int, tuple[str, ...]]] | None = field(default=None, repr=False)
    _targets: dict[tuple[int, str | None], Targets] = field(default_factory=dict, repr=False)

    @property
    def questions(self) -> list[Question]:
        return list(self.model.questions)

    def question(self, qid: str) -> Question:
        return self._questions[qid]

    @functools.cached_property
    def _questions(self) -> dict[str, Question]:
        return {q.id: q for q in self.model.questions}

    def rule(self, rid: str) -> SeverityRule:
        return self._rules[rid]

    @functools.cached_property
    def _rules(self) -> dict[str, SeverityRule]:
        return {r.id: r for r, _ in self.severity_rules}

    def severity(self, level: int) -> SeverityLevel:
        return self.levels[level]

    def role_name(self, role: str) -> str:
        spec = self.model.roles.get(role)
        return spec.name if spec else role

    def level_name(self, level: int) -> str:
        """`P1`, `Urgent`, or `Severity 2` for a level without a name of its own."""
        return self._level_names[level]

    @functools.cached_property
    def _level_names(self) -> dict[int, str]:
        from triage.matrix.wording import level_name

        return {level: level_name(level, sev.spec.name) for level, sev in self.levels.items()}

    def level_title(self, level: int) -> str:
        """`P1 (Critical)`, or `Severity 2 (High)`."""
        from triage.matrix.wording import level_title

        spec = self.levels[level].spec
        return level_title(level, spec.label, spec.name)

    def targets(self, level: int, plan: str | None = None) -> Targets:
        """A level's targets on a plan (None: the default plan), the plan's changes applied."""
        key = (level, plan)
        found = self._targets.get(key)
        if found is None:
            found = self.levels[level].spec.targets
            plans = self.model.plans
            if plans is not None:
                tier = plans.tiers.get(plan or plans.default) or plans.tiers[plans.default]
                change = tier.targets.get(self.levels[level].id)
                if change is not None:
                    found = found.model_copy(update={k: getattr(change, k) for k in change.model_fields_set})
            found = self._open_time(found)
            self._targets[key] = found
        return found

    def open_time(self, delta: Any, calendar_id: str) -> Any:
        """A duration as open time on a calendar: business days (`1bd`) become that many of its business days,
        and the close of a business day counts at most as many business days as it can leave."""
        if isinstance(delta, BusinessDays | EndOfDay):
            calendar = self.calendars.get(calendar_id)
            day = calendar.business_day() if calendar is not None else timedelta(days=1)
            return delta.with_day(day)
        return delta

    def _open_time(self, t: Targets) -> Targets:
        """Targets with their business days given the length of their calendar's business day."""
        def days(d: Any) -> Any:
            return self.open_time(d, t.calendar)
        changes: dict[str, Any] = {}
        for name in ("acknowledge", "assign_owner", "escalate"):
            if isinstance(getattr(t, name), BusinessDays | EndOfDay):
                changes[name] = days(getattr(t, name))
        if any(isinstance(s.every, BusinessDays) or isinstance(s.for_, BusinessDays) for s in t.update_every):
            changes["update_every"] = [s.model_copy(update={"every": days(s.every), "for_": days(s.for_)})
                                       for s in t.update_every]
        if t.resolution is not None and isinstance(t.resolution.within, BusinessDays | EndOfDay):
            changes["resolution"] = t.resolution.model_copy(update={"within": days(t.resolution.within)})
        return t.model_copy(update=changes) if changes else t

    def plan_of(self, answers: Mapping[str, Any], given: str | None = None) -> str | None:
        """The plan of a ticket: the answer to the plan question, else `given` (--plan), else the default; None
        for a matrix without plans."""
        plans = self.model.plans
        if plans is None:
            return None
        chosen = answers.get(plans.chosen_by) if plans.chosen_by else None
        return str(chosen or given or plans.default)

    def plan_name(self, plan: str | None) -> str:
        plans = self.model.plans
        return plans.tiers[plan].name if plans is not None and plan in plans.tiers else (plan or "")

    def calendar_name(self, calendar_id: str) -> str:
        return self.model.calendars[calendar_id].name or calendar_id

    def business_time(self, calendar_id: str) -> bool:
        """Whether targets on this calendar count open hours only (a weekly calendar), so that a duration on it
        is business time, not elapsed time."""
        return self.model.calendars[calendar_id].kind == "weekly"

    @functools.cached_property
    def questionnaire(self) -> tuple[tuple[Question, tuple[str, tuple[str, ...]], dict[str, Any] | None], ...]:
        """Each question in order, with its kind and choices and the condition of when it is asked (None: always)."""
        return tuple((q, self.kinds[q.id], self.applies.get(q.id)) for q in self.model.questions)

    @functools.cached_property
    def severity_inputs(self) -> tuple[str, ...]:
        """Question ids that severity rules read, in questionnaire order."""
        read = {qid for _, cond in self.severity_rules for qid in cond}
        return tuple(q.id for q in self.model.questions if q.id in read)

    def domain(self, qid: str) -> list[Any]:
        """Every canonical value a question can take."""
        kind, choices = self.kinds[qid]
        if kind == "yes_no":
            return [False, True]
        if kind == "one_of":
            return list(choices)
        return [tuple(c for c, keep in zip(choices, mask) if keep)
                for mask in itertools.product((False, True), repeat=len(choices))]


# ---------------------------------------------------------------------------------------------- loading

def read_matrix(data: bytes, source: str) -> Matrix:
    """Load a matrix from bytes or raise MatrixError with every problem found."""
    matrix, problems = check(data, source)
    if matrix is None or any(p.level == "error" for p in problems):
        raise MatrixError([p for p in problems if p.level == "error"] or problems)
    return matrix


ModelType = TypeVar("ModelType", bound=BaseModel)


def parse_model(data: bytes, source: str, root: type[ModelType], what: str
                ) -> tuple[Document | None, ModelType | None, list[Problem]]:
    """One YAML file of ours (a matrix, a roster, an export mapping): decoded, parsed safely and its structure
    checked against the model `root`, stopping at the first stage that fails. Returns the document, the
    model (None on errors) and the problems found."""
    from pydantic import ValidationError

    from triage.matrix.yamlsafe import decode, load

    doc, problems = load(decode(data, source), source)
    if doc is None or _errors(problems):
        return doc, None, problems
    if not isinstance(doc.data, dict):
        return doc, None, [doc.problem((), f"the {what} must be a mapping of keys to values", "M202")]
    try:
        return doc, root.model_validate(doc.data), problems
    except ValidationError as exc:
        return doc, None, _structure_problems(doc, exc, root)


def check(data: bytes, source: str) -> tuple[Matrix | None, list[Problem]]:
    """Parse and check structure and references, stopping at the first stage that fails."""

    doc, model, problems = parse_model(data, source, MatrixModel, "matrix")
    if model is None or doc is None:
        return None, problems
    matrix, problems = _index(model, doc, hashlib.sha256(data).hexdigest())
    return (None if _errors(problems) else matrix), problems


def _errors(problems: list[Problem]) -> bool:
    return any(p.level == "error" for p in problems)


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types inside Optional/Annotated/Union."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(annotation) for t in _unwrap(a)]
    return [annotation]


def _allowed_keys(loc: tuple[Any, ...], root: Any = None) -> list[str]:
    """Keys a model accepts at `loc`, for "did you mean" hints."""
    from pydantic import BaseModel


    current: list[Any] = [root or MatrixModel]
    for step in loc:
        following: list[Any] = []
        for t in current:
            if isinstance(t, type) and issubclass(t, BaseModel):
                for name, info in t.model_fields.items():
                    if step in (name, info.alias):
                        following.extend(_unwrap(info.annotation))
            elif typing.get_origin(t) in (list, dict):
                following.extend(_unwrap(typing.get_args(t)[-1]))
        current = following
    keys: list[str] = []
    for t in current:
        if isinstance(t, type) and issubclass(t, BaseModel):
            keys.extend(info.alias or name for name, info in t.model_fields.items())
    return keys


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f"; did you mean `{close[0]}`?" if close else ""


def _stray_key_hint(doc: Document, problem: Problem, key: str, allowed: list[str]) -> str:
    """Why a key that is really part of a value ended up as a key, when the text shows it."""
    first, _, rest = key.strip().partition(" ")
    if rest and first in allowed:
        return f" (a colon is missing: `{first}: {rest.strip()}`)"
    if re.search(r"\w:\S", key):
        fixed = re.sub(r"(\w):(?=\S)", r"\1: ", key, count=1)
        return f" (a colon needs a space after it: `{fixed}`)"
    lines = doc.text.splitlines()
    before = lines[problem.line - 1][:problem.column - 1] if 0 < problem.line <= len(lines) else ""
    if " " in key.strip() or before.count("{") > before.count("}"):
        return " (a comma inside a {...} value starts a new key: put the text in quotes)"
    return ""


def _structure_problems(doc: Document, exc: Any, root: Any = None) -> list[Problem]:
    """Pydantic's errors as located problems; `root` is the model validated (default: the matrix's)."""
    problems = []
    errors = exc.errors()
    # An unknown key that is a misspelling of a missing one is one mistake: report the misspelling only.
    misspelt = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            loc = tuple(err["loc"])
            for hint in difflib.get_close_matches(str(loc[-1]), _allowed_keys(loc[:-1], root), n=1):
                misspelt.add(loc[:-1] + (hint,))
    for err in errors:
        loc = tuple(err["loc"])
        kind = err["type"]
        where = ".".join(str(x) for x in loc) or "(top level)"
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(loc[:-1], root)
            close = difflib.get_close_matches(key, allowed, n=1)
            message = f"unknown key `{key}`" + (f"; did you mean `{close[0]}`?" if close and " " not in key else "")
            problem = doc.problem(loc, message, "M201", key=True)
            problems.append(dataclasses.replace(problem, message=message + _stray_key_hint(doc, problem, key, allowed)))
        elif kind == "missing":
            if loc in misspelt:
                continue
            where_missing = ".".join(map(str, loc[:-1])) or "the top level"
            problems.append(doc.problem(loc[:-1], f"missing required key `{loc[-1]}` in {where_missing}", "M203",
                                        key=True))
        elif kind == "string_pattern_mismatch":
            problems.append(doc.problem(loc, f"{where}: `{err['input']}` is not a valid id "
                                             "(lowercase letters, digits and _, starting with a letter)", "M204"))
        else:
            shown = err.get("input")
            got = f" (got {type(shown).__name__} `{shown}`)" if isinstance(shown, str | int | float | bool) else ""
            problems.append(doc.problem(loc, f"{where}: {err['msg'][0].lower()}{err['msg'][1:]}{got}", "M202"))
    return sorted(problems, key=lambda p: (p.line, p.column))


def _index(model: MatrixModel, doc: Document, sha256: str) -> tuple[Matrix, list[Problem]]:
    """Check the references between sections and build the indexes the engine needs, section by section."""
    index = _Indexer(model, doc)
    index.roles()
    calendars = {
        cid: found for cid, spec in model.calendars.items() if (found := index.calendar(cid, spec)) is not None
    }
    kinds, defaults, applies = index.questions()
    levels = index.severities()
    rules = index.conditions("severity_rules", model.severity_rules, kinds)
    for i, rule in enumerate(model.severity_rules):
        if rule.at_least not in levels:
            index.problem(("severity_rules", i, "at_least"), f"no severity has level {rule.at_least} "
                          f"(levels: {', '.join(map(str, sorted(levels)))})", "R307")
    routes = index.conditions("routes", model.routes, kinds)
    for i, route in enumerate(model.routes):
        index.role_ref(("routes", i, "role"), route.role)
    index.communication()
    index.handoffs()
    index.exceptions()
    index.plans(kinds)
    index.examples()
    matrix = Matrix(model, doc.source, sha256, doc, kinds, defaults, applies, levels, calendars, rules, routes)
    return matrix, index.problems


class _Indexer:
    """The checks of one matrix's sections, collecting every problem found."""

    def __init__(self, model: MatrixModel, doc: Document) -> None:
        self.model, self.doc = model, doc
        self.problems: list[Problem] = []
        self.role_ids = set(model.roles)

    def problem(self, path: tuple[Any, ...], message: str, code: str, **kw: Any) -> None:
        self.problems.append(self.doc.problem(path, message, code, **kw))

    def role_ref(self, path: tuple[Any, ...], rid: str | None) -> None:
        if rid is not None and rid not in self.role_ids:
            self.problem(path, f"unknown role `{rid}`{_did_you_mean(rid, sorted(self.role_ids))}", "R301")

    def roles(self) -> None:
        for rid in self.model.roles:
            if not rid.isidentifier() or not rid.islower() or rid[0] == "_":
                self.problem(("roles", rid), f"`{rid}` is not a valid role id", "M204", key=True)
        try:
            cal.zone(self.model.matrix.timezone)
        except ValueError as exc:
            self.problem(("matrix", "timezone"), str(exc), "R306")
        self.role_ref(("matrix", "owner"), self.model.matrix.owner)

    def calendar(self, cid: str, spec: Calendar) -> cal.AlwaysOpen | cal.WeeklyHours | None:
        """One calendar, built; None when it cannot be (its problems are recorded)."""
        base = ("calendars", cid)
        tz = None
        if spec.timezone is not None:
            try:
                tz = cal.zone(spec.timezone)
            except ValueError as exc:
                self.problem(base + ("timezone",), str(exc), "R306")
        if spec.kind == "always":
            if spec.hours or spec.holidays or spec.public_holidays:
                self.problem(base + ("kind",), "an `always` calendar has no hours or holidays", "M204")
            return cal.AlwaysOpen(cid, tz)
        if spec.timezone is None:
            self.problem(base, f"weekly calendar `{cid}` needs a `timezone`", "M203")
        known = len(self.problems)
        week, elsewhere = self.week(base, spec.hours, tz)
        if not any(week.values()) and not elsewhere and len(self.problems) == known:  # unreadable hours: said already
            self.problem(base + ("hours",), f"calendar `{cid}` is never open", "L415")
        holidays, names = self.holidays(base, spec.holidays)
        public = None
        if spec.public_holidays is not None:
            try:
                public = cal.public_holidays(spec.public_holidays.country, spec.public_holidays.subdivision)
            except ValueError as exc:
                self.problem(base + ("public_holidays",), str(exc), "R306")
        return None if tz is None else cal.WeeklyHours(cid, tz, week, holidays, names, public, tuple(elsewhere))

    def week(self, base: tuple[Any, ...], hours: dict[str, Any], home: Any
             ) -> tuple[dict[int, list[cal.Interval]], list[Any]]:
        """The hours in the calendar's zone by weekday, and those written in a zone of their own."""
        week: dict[int, list[cal.Interval]] = {}
        elsewhere: list[Any] = []
        for days, text in hours.items():
            try:
                numbers = cal.parse_days(days)
            except ValueError as exc:
                self.problem(base + ("hours", days), str(exc), "M204", key=True)
                continue
            written, zone_name = cal.split_zone(text)
            try:
                intervals = cal.parse_hours(written)
                where = None if zone_name is None else cal.zone(zone_name)
            except ValueError as exc:
                self.problem(base + ("hours", days), str(exc), "M204" if "time zone" not in str(exc) else "R306")
                continue
            if where is not None and where != home:
                elsewhere.append((frozenset(numbers), tuple(intervals), where))
                continue
            for d in numbers:
                if d in week:
                    self.problem(base + ("hours", days), f"{cal.DAYS[d]} is given more than once", "M205", key=True)
                week[d] = intervals
        return week, elsewhere

    def holidays(
        self, base: tuple[Any, ...], listed: list[Any]
    ) -> tuple[dict[Any, list[cal.Interval]], dict[Any, Any]]:
        holidays: dict[Any, list[cal.Interval]] = {}
        names = {}
        for i, h in enumerate(listed):
            if h.date in holidays:
                self.problem(base + ("holidays", i, "date"), f"holiday {h.date} is listed twice", "M205")
            try:
                holidays[h.date] = cal.parse_hours(h.hours) if h.hours else []
            except ValueError as exc:
                self.problem(base + ("holidays", i, "hours"), str(exc), "M204")
            names[h.date] = h.name
        return holidays, names

    def questions(self) -> tuple[dict[str, tuple[str, tuple[str, ...]]], dict[str, Any], dict[str, dict[str, Any]]]:
        kinds: dict[str, tuple[str, tuple[str, ...]]] = {}
        defaults: dict[str, Any] = {}
        applies: dict[str, dict[str, Any]] = {}
        for i, q in enumerate(self.model.questions):
            base = ("questions", i)
            if q.id in kinds:
                first = next(j for j, other in enumerate(self.model.questions) if other.id == q.id)
                self.problem(
                    base + ("id",),
                    f"question id `{q.id}` is used twice (first at line "
                    f"{self.doc.locate(('questions', first, 'id'))[0]})",
                    "M205",
                )
                continue
            self.choices(base, q)
            if q.applies_when is not None:
                cond, found = normalise(q.applies_when, kinds)  # only earlier questions are known here
                for sub, message, code in found:
                    if code == "R303":
                        message += " (a question may only depend on questions asked before it)"
                    self.problem(base + ("applies_when",) + sub, message, code)
                applies[q.id] = cond
                if q.default is None:
                    self.problem(base, f"question `{q.id}` applies only sometimes, so it needs a `default`", "M203")
            kinds[q.id] = (q.kind, tuple(q.choices))
            if q.default is not None:
                try:
                    defaults[q.id] = parse_answer(q.id, q.kind, tuple(q.choices), q.default)
                except AnswerError as exc:
                    self.problem(base + ("default",), f"default: {exc.message}", "R304")
        return kinds, defaults, applies

    def choices(self, base: tuple[Any, ...], q: Any) -> None:
        if q.kind == "yes_no" and q.choices:
            self.problem(base + ("choices",), "a yes/no question has no choices", "M204")
        if q.kind != "yes_no" and not q.choices:
            self.problem(base, f"question `{q.id}` needs `choices`", "M203")
        for cid in q.choices:
            if not cid[:1].isalpha() or not cid.replace("_", "a").isalnum() or cid.lower() != cid:
                self.problem(base + ("choices", cid), f"`{cid}` is not a valid choice id", "M204", key=True)

    def severities(self) -> dict[int, SeverityLevel]:
        levels: dict[int, SeverityLevel] = {}
        for sid, sev in self.model.severities.items():
            base = ("severities", sid)
            if sev.level in levels:
                self.problem(base + ("level",), f"level {sev.level} is used by `{levels[sev.level].id}` too", "M205")
            levels[sev.level] = SeverityLevel(sid, sev.level, sev)
            if sev.targets.calendar not in self.model.calendars:
                self.problem(base + ("targets", "calendar"), f"unknown calendar `{sev.targets.calendar}`", "R302")
            r = sev.routing
            for key in ("receives", "approves", "owner"):
                self.role_ref(base + ("routing", key), getattr(r, key))
            for j, step in enumerate(r.steps):
                self.role_ref(base + ("routing", "steps", j, "role"), step.role)
            for j, notice in enumerate(r.notify):
                self.role_ref(base + ("routing", "notify", j, "role"), notice.role)
        if levels and sorted(levels) != list(range(1, len(levels) + 1)):
            self.problem(
                ("severities",),
                f"severity levels must run 1..{len(levels)} without gaps (found {', '.join(map(str, sorted(levels)))})",
                "M204",
            )
        return levels

    def conditions(self, section: str, items: list[Any], kinds: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
        """Rules or routes with their conditions in canonical form."""
        out = []
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                first = self.doc.locate((section, seen[item.id], "id"))[0]
                self.problem(
                    (section, i, "id"), f"{section} id `{item.id}` is used twice (first at line {first})", "M205"
                )
            seen.setdefault(item.id, i)
            cond, found = normalise(item.when, kinds)
            for sub, message, code in found:
                self.problem((section, i, "when") + sub, message, code)
            out.append((item, cond))
        return out

    def communication(self) -> None:
        comm = self.model.communication
        self.role_ref(("communication", "internal_updates", "posted_by"), comm.internal_updates.posted_by)
        for stage in TEMPLATE_STAGES:
            if stage not in comm.templates:
                self.problem(("communication", "templates"), f"missing template `{stage}`", "M203")
        for stage, text in comm.templates.items():
            if stage not in TEMPLATE_STAGES:
                self.problem(
                    ("communication", "templates", stage),
                    f"unknown template `{stage}` (templates: {', '.join(TEMPLATE_STAGES)})",
                    "M201",
                    key=True,
                )
            known = dict(PLACEHOLDERS)
            if stage == "resolved":  # the final message may quote what the closure checklist recorded
                known.update({c.id: c.item for c in self.model.closure_checklist if c.answer == "text"})
            for name in _placeholders(text):
                if name not in known:
                    hint = difflib.get_close_matches(name, list(known), n=1)
                    self.problem(
                        ("communication", "templates", stage),
                        f"unknown placeholder `${name}`"
                        + (f"; did you mean `${hint[0]}`?" if hint else f" (known: {', '.join(known)})"),
                        "R305",
                        needle=f"${name}",
                    )
                elif stage in CUSTOMER_TEMPLATES and name in INTERNAL_ONLY:
                    self.problem(("communication", "templates", stage),
                                 f"template `{stage}` goes to the customer, but `${name}` names an internal role or "
                                 "place; use it in `internal_update` only", "L416", needle=f"${name}")
            self.line_breaks(stage, text)
        if "next_step" in "".join(comm.templates.get(stage, "") for stage in CUSTOMER_TEMPLATES):
            for sid, sev in self.model.severities.items():
                for j, step in enumerate(sev.routing.steps):
                    if not step.customer:
                        self.problem(("severities", sid, "routing", "steps", j),
                                     "this step has no `customer` wording; customer texts give the resolution "
                                     "expectation instead of saying what happens next", "L417", level="warning")

    def line_breaks(self, stage: str, text: str) -> None:
        """A template is paragraphs that the place showing it wraps; a line break inside a sentence would land
        mid-line in a customer's mail."""
        lines = text.split("\n")
        for first, second in itertools.pairwise(lines):
            if first.strip() and second[:1].islower() and not first.rstrip().endswith((".", "!", "?", ":")):
                self.problem(("communication", "templates", stage),
                             f"template `{stage}` breaks a line inside a sentence (before `{second.split()[0]}`); "
                             "write each paragraph on one line, or fold it with `>-`, so that it wraps where it is "
                             "shown", "L418", level="warning", needle=second.strip()[:40])

    def unique(self, section: str, items: list[Any], what: str) -> set[str]:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.id in seen:
                self.problem((section, i, "id"), f"{what} `{item.id}` is listed twice", "M205")
            seen.add(item.id)
        return seen

    def handoffs(self) -> None:
        packet_ids = self.unique("handoff_packet", self.model.handoff_packet, "packet field")
        self.unique("handoff_points", self.model.handoff_points, "handoff point")
        self.unique("closure_checklist", self.model.closure_checklist, "closure item")
        for i, point in enumerate(self.model.handoff_points):
            for j, rid in enumerate(point.to):
                self.role_ref(("handoff_points", i, "to", j), rid)
            for j, fid in enumerate(point.requires):
                if fid not in packet_ids:
                    self.problem(
                        ("handoff_points", i, "requires", j),
                        f"unknown packet field `{fid}` (fields: {', '.join(sorted(packet_ids))})",
                        "R309",
                    )

    def exceptions(self) -> None:
        for i, exc in enumerate(self.model.exceptions):
            self.role_ref(("exceptions", i, "approver"), exc.approver)
            for j, rid in enumerate(exc.changes.notify):
                self.role_ref(("exceptions", i, "changes", "notify", j), rid)
            sections = [("targets", sid, changed) for sid, changed in exc.changes.targets.items()]
            sections += [("update_every", sid, {}) for sid in exc.changes.update_every]
            for section, sid, changed in sections:
                path = ("exceptions", i, "changes", section, sid)
                if sid not in self.model.severities:
                    self.problem(path, f"unknown severity `{sid}`{_did_you_mean(sid, self.model.severities)}"
                                 f" (severities: {', '.join(self.model.severities)})", "R307", key=True)
                for name in changed:
                    if name not in TARGET_NAMES + ("resolution",):
                        self.problem(path + (name,), f"unknown target `{name}`"
                                     f"{_did_you_mean(name, TARGET_NAMES + ('resolution',))} (targets: "
                                     f"{', '.join(TARGET_NAMES)}, resolution)", "M201", key=True)

    def plans(self, kinds: dict[str, tuple[str, tuple[str, ...]]]) -> None:
        plans = self.model.plans
        if plans is None:
            return
        tiers = list(plans.tiers)
        if plans.default not in plans.tiers:
            self.problem(("plans", "default"), f"unknown plan `{plans.default}`{_did_you_mean(plans.default, tiers)}"
                         f" (plans: {', '.join(tiers)})", "R310")
        if plans.chosen_by is not None:
            kind = kinds.get(plans.chosen_by)
            if kind is None:
                self.problem(("plans", "chosen_by"), f"unknown question `{plans.chosen_by}`"
                             f"{_did_you_mean(plans.chosen_by, kinds)}", "R303")
            elif kind[0] != "one_of" or set(kind[1]) != set(tiers):
                self.problem(("plans", "chosen_by"), f"`{plans.chosen_by}` must be a one-of question whose choices "
                             f"are the plans ({', '.join(tiers)})", "R310")
        for pid, tier in plans.tiers.items():
            for sid, change in tier.targets.items():
                path = ("plans", "tiers", pid, "targets", sid)
                if sid not in self.model.severities:
                    self.problem(path, f"unknown severity `{sid}`{_did_you_mean(sid, self.model.severities)}"
                                 f" (severities: {', '.join(self.model.severities)})", "R307", key=True)
                if change.calendar is not None and change.calendar not in self.model.calendars:
                    self.problem(path + ("calendar",), f"unknown calendar `{change.calendar}`"
                                 f"{_did_you_mean(change.calendar, self.model.calendars)}", "R302")
                if "acknowledge" in change.model_fields_set and change.acknowledge is None:
                    self.problem(path + ("acknowledge",), "every plan promises a first response: give a duration",
                                 "M202")
                if "calendar" in change.model_fields_set and change.calendar is None:
                    self.problem(path + ("calendar",), "a plan's calendar cannot be null", "M202")

    def examples(self) -> None:
        for i, ex in enumerate(self.model.examples):
            for rid in ex.expect.routes or []:
                self.role_ref(("examples", i, "expect", "routes"), rid)
            self.role_ref(("examples", i, "expect", "owner"), ex.expect.owner)


def _placeholders(text: str) -> list[str]:
    names = []
    for m in string.Template.pattern.finditer(text):
        name = m.group("named") or m.group("braced")
        if name:
            names.append(name)
        elif m.group("invalid") is not None:
            names.append(text[m.start():m.start() + 12].split()[0])
    return names
