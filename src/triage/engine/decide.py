"""The decision engine: answers -> severity with reasons -> routing -> absolute deadlines -> result."""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

from triage.errors import AnswerError, InputError, MissingAnswerError, TriageError
from triage.matrix.answers import parse_answer, to_json
from triage.matrix.calendars import zone
from triage.matrix.conditions import matches
from triage.matrix.durations import iso_duration, iso_moment
from triage.matrix.loader import Matrix

SCHEMA_VERSION = 1
TARGETS = ("acknowledge", "assign_owner", "escalate", "next_update", "resolution")


# ---------------------------------------------------------------------------------------------- answers

def applies(matrix: Matrix, qid: str, answers: Mapping[str, Any]) -> bool:
    """Whether a question is asked, given the answers to the questions before it."""
    condition = matrix.applies.get(qid)
    return condition is None or matches(condition, answers)


def answer_hint(matrix: Matrix, qid: str) -> str:
    kind, choices = matrix.kinds[qid]
    if kind == "yes_no":
        return f"--answer {qid}=yes|no"
    if kind == "one_of":
        return f"--answer {qid}={'|'.join(choices)}"
    return f"--answer {qid}={','.join(choices[:2])} (any of: {', '.join(choices)}; empty for none)"


def check_known(matrix: Matrix, given: Mapping[str, Any]) -> None:
    for qid in given:
        if qid not in matrix.kinds:
            raise AnswerError(f"unknown question `{qid}` (questions: {', '.join(matrix.kinds)})")


def resolve_answers(matrix: Matrix, given: Mapping[str, Any], *,
                    ask: Callable[[Any, dict[str, Any]], Any] | None = None,
                    assume_severity: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Check every given answer and fill in the rest: skipped questions take their default, the others are
    asked (when `ask` is given) or reported missing; only a question that cannot change the severity takes its
    default unasked (see `assumed`), unless `assume_severity` lets every default stand in (a matrix's own
    examples, recorded answers). Returns (answers, skipped)."""
    check_known(matrix, given)
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    missing: list[str] = []
    defaults = matrix.defaults
    for q, (kind, choices), condition in matrix.questionnaire:
        qid = q.id
        if condition is not None and not matches(condition, answers):
            answers[qid] = defaults[qid]
            skipped.append(qid)
        elif qid in given:
            answers[qid] = parse_answer(qid, kind, choices, given[qid])
        elif ask is not None:
            answers[qid] = ask(q, answers)
        elif qid in defaults and (assume_severity or qid not in matrix.severity_inputs):
            answers[qid] = defaults[qid]
        else:
            missing.append(qid)
            answers[qid] = None  # keeps later `applies_when` checks total; never classified
    if missing:
        first = missing[0]
        others = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise MissingAnswerError(f"no answer for `{first}` ({matrix.question(first).ask}): "
                                 f"pass {answer_hint(matrix, first)}{others}")
    return answers, skipped


def assumed(given: Mapping[str, Any], answers: Mapping[str, Any], skipped: list[str]) -> list[str]:
    """Questions that were asked of this ticket but not answered, and took their default."""
    return [qid for qid in answers if qid not in given and qid not in skipped]


# ---------------------------------------------------------------------------------------------- decision

class Decision(NamedTuple):
    level: int
    rules: tuple[str, ...]  # ids of every rule at the winning level


def decision_table(matrix: Matrix) -> dict[tuple[Any, ...], Decision | None]:
    """Every combination of the answers severity rules read, decided once (the answer space is finite)."""
    if matrix._table is None:
        inputs = matrix.severity_inputs
        table: dict[tuple[Any, ...], Decision | None] = {}
        for combo in itertools.product(*(matrix.domain(q) for q in inputs)):
            table[combo] = evaluate(matrix, dict(zip(inputs, combo)))
        matrix._table = table  # type: ignore[assignment]
    return matrix._table  # type: ignore[return-value]


def evaluate(matrix: Matrix, answers: Mapping[str, Any]) -> Decision | None:
    """Apply every severity rule; the most severe match wins and all rules at that level are reasons."""
    best: int | None = None
    rules: list[str] = []
    for rule, condition in matrix.severity_rules:
        if matches(condition, answers):
            if best is None or rule.at_least < best:
                best, rules = rule.at_least, [rule.id]
            elif rule.at_least == best:
                rules.append(rule.id)
    return None if best is None else Decision(best, tuple(rules))


def decide(matrix: Matrix, answers: Mapping[str, Any]) -> Decision:
    decision = decision_table(matrix)[tuple(answers[q] for q in matrix.severity_inputs)]
    if decision is None:
        raise InputError("no severity rule matches these answers; the matrix is incomplete (run `triage validate`)")
    return decision


# ---------------------------------------------------------------------------------------------- result

@dataclass
class Target:
    within: timedelta | None
    due: datetime | None
    met: datetime | None = None  # when a re-triaged ticket had already kept this promise
    promised: bool = True  # False: the level makes no such promise (no time, no due)


def unpromised() -> Target:
    """A target the level does not promise (a new one each time: a re-triage marks targets met)."""
    return Target(None, None, promised=False)


@dataclass
class Result:
    """One triage, everything the renderers need."""

    matrix: Matrix
    ticket: str | None
    at: datetime
    display: tzinfo
    answers: dict[str, Any]
    skipped: list[str]
    computed: Decision
    level: int
    override_reason: str | None
    owner: str
    steps: list[tuple[str, str, datetime]]
    notify: list[str]
    notices: list[tuple[str, str]]
    routes: list[tuple[str, str, str]]  # (route id, role, reason)
    targets: dict[str, Target]
    packet: dict[str, str | None]
    missing: list[str]
    update: dict[str, str]
    notes: list[str] = field(default_factory=list)
    account: str | None = None
    segment: str | None = None
    exceptions: list[tuple[str, Any, str]] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)  # asked of this ticket, not answered: defaults taken
    plan: str | None = None  # the support plan (None: the matrix has no plans)

    @property
    def severity(self) -> Any:
        return self.matrix.severity(self.level)

    @property
    def terms_spec(self) -> Any:
        """The level's targets on this ticket's plan (model.Targets)."""
        return self.matrix.targets(self.level, self.plan)

    def severity_json(self, level: int) -> dict[str, Any]:
        return severity_json(self.matrix, level)

    def to_json(self, *, parts: bool = True) -> dict[str, Any]:
        """The contract object of DESIGN.md (schema_version 1)."""
        stamp = stamper(self.display)
        out: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "ticket": self.ticket,
            "at": stamp(self.at),
            "matrix": matrix_json(self.matrix),
            "answers": {k: to_json(v) for k, v in self.answers.items()},
            "skipped": list(self.skipped),
            "severity": self.severity_json(self.level),
            "computed_severity": self.severity_json(self.computed.level),
            "override": None if self.override_reason is None else {"level": self.level, "reason": self.override_reason},
            "reasons": reasons_json(self.matrix, self.computed.rules),
            "routing": {
                "owner": self.owner,
                "steps": steps_json(self.steps, stamp),
                "notify": list(self.notify),
                "routes": routes_json(self.routes),
            },
            "targets": targets_json(self.targets, stamp),
        }
        out["calendar"] = self.terms_spec.calendar
        if self.plan is not None:
            out["plan"] = {"id": self.plan, "name": self.matrix.plan_name(self.plan)}
        if self.assumed:
            out["assumed"] = list(self.assumed)
        if self.account is not None:
            out["account"] = self.account
        if self.segment is not None:
            out["segment"] = self.segment
        if self.exceptions:
            out["exceptions"] = [{"id": eid, "until": until.isoformat(), "text": text}
                                 for eid, until, text in self.exceptions]
        if parts:
            out["packet"] = {"fields": dict(self.packet), "missing": list(self.missing)}
            out["update"] = dict(self.update)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


# The parts of the JSON result, also assembled piece by piece by `classify`.

def stamp(moment: datetime, display: tzinfo) -> str:
    return iso_moment(moment.astimezone(display))


def stamper(display: tzinfo) -> Callable[[datetime], str]:
    """`stamp` for one result: several of its due times often fall on one moment, written once."""
    stamps: dict[datetime, str] = {}

    def once(moment: datetime) -> str:
        text = stamps.get(moment)
        if text is None:
            text = stamps[moment] = stamp(moment, display)
        return text

    return once


def matrix_json(matrix: Matrix) -> dict[str, Any]:
    return {"name": matrix.model.matrix.name, "version": matrix.model.matrix.version, "sha256": matrix.sha256}


def severity_json(matrix: Matrix, level: int) -> dict[str, Any]:
    sev = matrix.severity(level)
    return {"level": level, "id": sev.id, "label": sev.spec.label, "name": matrix.level_name(level)}


def routes_json(routes: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    return [{"id": rid, "role": role, "reason": reason} for rid, role, reason in routes]


def reasons_json(matrix: Matrix, rules: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"rule": rid, "text": matrix.rule(rid).because} for rid in rules]


def steps_json(steps: list[tuple[str, str, datetime]], stamp: Any) -> list[dict[str, str]]:
    return [{"role": role, "action": action, "due": stamp(due)} for role, action, due in steps]


def targets_json(targets: dict[str, Target], stamp: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, t in targets.items():
        out[name] = {"within": None if t.within is None else iso_duration(t.within),
                     "due": None if t.due is None else stamp(t.due)}
        if not t.promised:
            out[name]["promised"] = False
        if t.met is not None:
            out[name]["met"] = stamp(t.met)
    return out


def local_time(moment: datetime, display: tzinfo) -> str:
    return moment.astimezone(display).strftime("%a %d %b %Y %H:%M %Z")


class Terms(NamedTuple):
    """The targets and cadence one severity runs on, after any exceptions in force."""

    acknowledge: timedelta
    assign_owner: timedelta | None  # None: not promised
    escalate: timedelta | None
    resolution: timedelta | None
    cadence: tuple[tuple[timedelta, timedelta | None], ...]  # (every, for how long); the last runs on; () none
    notify: tuple[str, ...]
    exceptions: tuple[Any, ...]  # model.MatrixException in force
    expired: tuple[Any, ...]  # covering this ticket, but not in force (expired, or never approved)


def exceptions_for(matrix: Matrix, *, account: str | None, segment: str | None, at: datetime
                   ) -> tuple[list[Any], list[Any]]:
    """Exceptions whose scope covers this ticket at `at`: (in force, ignored)."""
    in_force, ignored = [], []
    home = zone(matrix.model.matrix.timezone)
    for exc in matrix.model.exceptions:
        scope = exc.scope
        if scope.account is None and scope.segment is None and scope.starts is None and scope.ends is None:
            continue  # an exception is always scoped to something
        if scope.account is not None and (account is None or scope.account.casefold() != account.casefold()):
            continue
        if scope.segment is not None and scope.segment != segment:
            continue
        if scope.starts is not None and at < as_aware(scope.starts, home):
            continue
        if scope.ends is not None and at >= as_aware(scope.ends, home):
            continue
        if exc.expires is None or exc.approver is None or exc.expires < at.astimezone(home).date():
            ignored.append(exc)
        else:
            in_force.append(exc)
    return in_force, ignored


def as_aware(moment: datetime, home: tzinfo) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=home)


def terms(matrix: Matrix, level: int, *, account: str | None = None, segment: str | None = None,
          at: datetime, plan: str | None = None) -> Terms:
    """A severity's targets and cadence for one ticket on its plan; exceptions change them, never the severity."""
    sev = matrix.severity(level)
    t = matrix.targets(level, plan)
    values = {"acknowledge": t.acknowledge, "assign_owner": t.assign_owner, "escalate": t.escalate}
    resolution = None if t.resolution is None else t.resolution.within
    cadence: tuple[tuple[timedelta, timedelta | None], ...] = tuple((step.every, step.for_) for step in t.update_every)
    notify: list[str] = []
    in_force, ignored = exceptions_for(matrix, account=account, segment=segment, at=at)
    for exc in in_force:
        for name, within in exc.changes.targets.get(sev.id, {}).items():
            within = matrix.open_time(within, t.calendar)
            if name == "resolution":
                resolution = within
            else:
                values[name] = within
        if sev.id in exc.changes.update_every:
            cadence = ((matrix.open_time(exc.changes.update_every[sev.id], t.calendar), None),)
        notify += [r for r in exc.changes.notify if r not in notify]
    values = {name: on_ticket(matrix, within, t.calendar, at) for name, within in values.items()}
    resolution = on_ticket(matrix, resolution, t.calendar, at)
    return Terms(values["acknowledge"], values["assign_owner"], values["escalate"], resolution,  # type: ignore[arg-type]
                 cadence, tuple(notify), tuple(in_force), tuple(ignored))


def on_ticket(matrix: Matrix, within: Any, calendar_id: str, at: datetime) -> Any:
    """A target for a ticket whose clock starts `at`: the close of a business day (`end of next business day`)
    as the open time it leaves this ticket; any other target as it is."""
    from triage.matrix.durations import EndOfDay

    if not isinstance(within, EndOfDay):
        return within
    calendar = matrix.calendars[calendar_id]
    return within.for_ticket(calendar.elapsed(at, calendar.end_of_day(at, within.after)))


def choose_plan(matrix: Matrix, answers: Mapping[str, Any], given: str | None) -> str | None:
    """The ticket's plan: the plan question's answer, else `given`, else the default. A `given` plan that is not
    a plan of the matrix, or that contradicts the answer, is refused rather than silently dropped."""
    plans = matrix.model.plans
    if plans is None:
        if given is not None:
            raise AnswerError(f"--plan {given}: this matrix has no plans")
        return None
    if given is not None and given not in plans.tiers:
        raise AnswerError(f"--plan: unknown plan `{given}` (plans: {', '.join(plans.tiers)})")
    answered = answers.get(plans.chosen_by) if plans.chosen_by else None
    if given is not None and answered is not None and answered != given:
        raise AnswerError(f"--plan {given} contradicts the answer {plans.chosen_by}={answered}; give one of them")
    return matrix.plan_of(answers, given)


def plan_as_answer(matrix: Matrix, answers: dict[str, Any], plan: str | None, *, named: str = "--plan",
                   answer_named: str = "the answer", error: type[TriageError] = AnswerError) -> str | None:
    """A plan given apart from the answers (`named`: how the caller calls it) written into `answers` as the
    answer to the matrix's plan question, so that the plan is given once; returns the plan still to pass to
    `triage()` (for a matrix that chooses plans by flag only). A plan that contradicts the answer is refused
    with `error`."""
    plans = matrix.model.plans
    if plan is None or plans is None or plans.chosen_by is None:
        return plan
    answered = answers.setdefault(plans.chosen_by, plan)
    if str(answered) != plan:
        raise error(f"{named} {plan} contradicts {answer_named} {plans.chosen_by}={answered}; give one of them")
    return None


def describe_exception(matrix: Matrix, exc: Any, level: int) -> str:
    """In words, e.g. `exception launch_week applies until 2027-03-31: updates every 1 h (Launch week)`; the
    roles it notifies are listed with the others to tell, naming the exception, and not repeated here."""
    from triage.matrix.durations import human_duration

    sev = matrix.severity(level)
    sev_id, business = sev.id, matrix.business_time(sev.spec.targets.calendar)  # a plan's calendar aside
    parts = [f"{name.replace('_', ' ')} within {human_duration(d, business=business)}"
             for name, d in exc.changes.targets.get(sev_id, {}).items()]
    if sev_id in exc.changes.update_every:
        parts.append(f"updates every {human_duration(exc.changes.update_every[sev_id], business=business)}")
    return (f"exception {exc.id} applies until {exc.expires.isoformat()}: "
            + ("; ".join(parts) or f"no change of targets for {matrix.level_name(level)}") + f" ({exc.reason})")


def schedule(routing: Any, deal: Terms, calendar: Any, at: datetime, *, expects_resolution: bool = True
             ) -> tuple[dict[str, Target], list[tuple[str, str, datetime]]]:
    """The targets and routing steps of one severity, with their due times from `at` on its calendar; a target
    the level does not promise is `unpromised()` (`expects_resolution`: the level states a resolution expectation,
    with or without a time)."""
    cadence = deal.cadence[0][0] if deal.cadence else None  # at triage the first step of the cadence is in force
    spans = (deal.acknowledge, deal.assign_owner, deal.escalate, cadence, deal.resolution)  # in TARGETS order
    due = iter(calendar.add_many(at, [*(span for span in spans if span is not None),
                                      *(step.after for step in routing.steps)]))
    targets = {name: Target(span, next(due)) if span is not None else unpromised()
               for name, span in zip(TARGETS, spans)}
    steps = [(step.role, step.action, next(due)) for step in routing.steps]
    if deal.resolution is None and expects_resolution:
        targets["resolution"] = Target(None, None)  # an expectation without a time
    return targets, steps


def route(matrix: Matrix, routing: Any, answers: Mapping[str, Any]
          ) -> tuple[list[tuple[str, str, str]], list[str], list[tuple[str, str]]]:
    """The cross-functional routes these answers call for, as (route id, role, reason), and who is told at
    triage: the severity's own list, then the roles of routes that notify, each role once, with why."""
    called = [r for r, cond in matrix.routes if matches(cond, answers)]
    routes = [(r.id, r.role, r.reason) for r in called]
    notify: list[str] = []
    notices: list[tuple[str, str]] = []
    for notice in routing.notify:
        if notice.role not in notify:
            notify.append(notice.role)
            notices.append((notice.role, notice.when))
    for r in called:
        if r.notify and r.role not in notify:
            notify.append(r.role)
            notices.append((r.role, f"At triage: {r.reason}"))
    return routes, notify, notices


def triage(matrix: Matrix, answers: dict[str, Any], *, at: datetime, skipped: list[str] | None = None,
           ticket: str | None = None, override: tuple[int, str] | None = None,
           packet: Mapping[str, str | None] | None = None, display: tzinfo | None = None,
           texts: bool = True, account: str | None = None, segment: str | None = None,
           assumed: list[str] | None = None, start: datetime | None = None, plan: str | None = None) -> Result:
    """Decide, route and schedule one ticket from complete answers (`texts=False` skips the update texts);
    `assumed` names the answers that were defaults taken for questions not answered. The targets run from
    `start` (default: `at`); a re-triage measures them from the ticket's creation. `plan` is the support plan
    given apart from the answers (--plan); the plan question's answer, where the matrix has one, decides."""
    if at.tzinfo is None:
        raise InputError("the triage time needs a UTC offset or Z")
    plan = choose_plan(matrix, answers, plan)
    display = display or zone(matrix.model.matrix.timezone)
    computed = decide(matrix, answers)
    level, reason = computed.level, None
    if override is not None:
        level, reason = override
        reason = reason.strip()
        if level not in matrix.levels:
            raise AnswerError(f"severity {level} does not exist (levels: {', '.join(map(str, sorted(matrix.levels)))})")
        if not reason:
            raise AnswerError("an override needs a reason (--override-reason TEXT)")
        if level == computed.level:
            raise AnswerError(f"the matrix already gives {matrix.level_name(level)}; an override must change it")
    spec = matrix.severity(level).spec
    targets_spec = matrix.targets(level, plan)
    calendar = matrix.calendars[targets_spec.calendar]
    routing = spec.routing

    routes, notify, notices = route(matrix, routing, answers)
    start = start or at
    deal = terms(matrix, level, account=account, segment=segment, at=start, plan=plan)
    for role in deal.notify:
        if role not in notify:
            notify.append(role)
            notices.append((role, f"Under exception: {', '.join(e.id for e in deal.exceptions)}"))
    targets, steps = schedule(routing, deal, calendar, start, expects_resolution=targets_spec.resolution is not None)

    severity_text = matrix.level_title(level)
    given = dict(packet or {})
    fields: dict[str, str | None] = {}
    for f in matrix.model.handoff_packet:
        if f.stage != "triage" and f.id not in given:
            continue
        if f.filled_from == "severity":
            fields[f.id] = severity_text
        elif f.filled_from == "ticket":
            fields[f.id] = ticket
        else:
            value = given.get(f.id)
            fields[f.id] = value.strip() if isinstance(value, str) and value.strip() else None
    unknown = set(given) - set(fields)
    if unknown:
        raise AnswerError(f"unknown packet field `{sorted(unknown)[0]}` (fields: {', '.join(fields)})")
    missing = [k for k, v in fields.items() if v is None]

    result = Result(matrix, ticket, at, display, answers, list(skipped or []), computed, level, reason,
                    routing.owner, steps, notify, notices, routes, targets, fields, missing, {})
    result.account, result.segment, result.plan = account, segment, plan
    result.assumed = list(assumed or [])
    result.notes += [f"not answered, so taken as {answer_words(matrix, qid, answers[qid])}: "
                     f"{matrix.question(qid).ask}" for qid in result.assumed]
    result.exceptions = [(exc.id, exc.expires, describe_exception(matrix, exc, level)) for exc in deal.exceptions]
    result.notes += [text for _, _, text in result.exceptions]
    if account is not None and not any(e.scope.account is not None and e.scope.account.casefold() == account.casefold()
                                       for e in matrix.model.exceptions):
        result.notes.append(f"no exception of the matrix names the account {account}")
    result.notes += [f"exception {exc.id} is ignored: " + ("it has no approver" if exc.approver is None else
                     "it has no expiry date" if exc.expires is None else f"it expired on {exc.expires.isoformat()}")
                     for exc in deal.expired]
    if texts:
        result.update = fill_update(result)
    return result


def answer_words(matrix: Matrix, qid: str, value: Any) -> str:
    """An answer as the questionnaire words it: yes or no, a choice's label, or the labels chosen (or none)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return ", ".join(_label(matrix, qid, v) for v in value) or "none"
    return _label(matrix, qid, value)


def _label(matrix: Matrix, qid: str, value: Any) -> str:
    q = matrix.question(qid)
    return q.choices.get(value, str(value)) if isinstance(value, str) else str(value)


def describe_impact(result: Result) -> str:
    m, a = result.matrix, result.answers
    parts = []
    for qid in ("scope", "impact"):
        if qid in a and m.kinds[qid][0] == "one_of":
            parts.append(_label(m, qid, a[qid]))
    if "workaround" in a and "workaround" not in result.skipped and m.kinds["workaround"][0] == "one_of":
        parts.append(f"workaround: {_label(m, 'workaround', a['workaround']).lower()}")
    return "; ".join(parts) if parts else result.severity.spec.definition


NO_PROMISE = "when there is news"  # a placeholder for a promise the level does not make (validate warns of it)


def _when_due(target: Target, when: Callable[[datetime], str]) -> str:
    return NO_PROMISE if target.due is None else when(target.due)


def placeholder_values(result: Result, *, customer: bool = False) -> dict[str, str]:
    """The values of the template placeholders. For the customer (`customer=True`), `actions` and `next_step`
    name no role, queue, internal action or override reason: the next step is the routing step's `customer`
    wording (else the resolution expectation), and `owner` and `channel` are left out (only the internal
    update may use them, which `validate` checks)."""
    m = result.matrix
    def when(moment: datetime) -> str:
        return local_time(moment, result.display)
    severity_text = m.level_title(result.level)
    a = result.answers
    derived = (f"{_label(m, 'impact', a['impact'])} ({_label(m, 'scope', a['scope']).lower()})"
               if {"impact", "scope"} <= set(a) else result.severity.spec.label)
    summary = result.packet.get("impact_summary") or derived
    resolution = result.terms_spec.resolution
    res_due = result.targets["resolution"].due
    res_text = ((resolution.expect if resolution is not None else "A resolution")
                + (f" by {when(res_due)}" if res_due else "")) if resolution is not None or res_due else NO_PROMISE
    index = next((i for i, step in enumerate(result.steps) if step[2] > result.at), len(result.steps) - 1)
    role, action, due = result.steps[index]
    values = {
        "ticket": result.ticket or "(no reference yet)",
        "severity": severity_text,
        "summary": summary,
        "impact": describe_impact(result),
        "next_update_at": _when_due(result.targets["next_update"], when),
        "acknowledge_by": when(result.targets["acknowledge"].due),  # type: ignore[arg-type]
        "resolution": res_text,
    }
    if customer:
        wording = result.severity.spec.routing.steps[index].customer
        values["actions"] = f"We assessed this as {severity_text} at {when(result.at)}."
        values["next_step"] = f"{wording} (by {when(due)})" if wording else res_text
        return values
    actions = f"Triaged as {severity_text} at {when(result.at)}"
    if result.override_reason:
        actions += f" (changed from {m.level_name(result.computed.level)}: {result.override_reason})"
    if result.routes:
        actions += "; brought in " + ", ".join(dict.fromkeys(m.role_name(r) for _, r, _ in result.routes))
    values.update({"actions": actions + ".", "next_step": f"{m.role_name(role)}: {action} (by {when(due)})",
                   "owner": m.role_name(result.owner), "channel": m.model.communication.internal_updates.where})
    return values


def fill(template: str, values: Mapping[str, str]) -> str:
    """Plain `$name` substitution; nothing in a template is ever evaluated."""
    return string.Template(template).safe_substitute(values)


def fill_update(result: Result) -> dict[str, str]:
    templates = result.matrix.model.communication.templates
    return {"customer": fill(templates["update"], placeholder_values(result, customer=True)),
            "internal": fill(templates["internal_update"], placeholder_values(result))}


def parse_at(text: str, default_zone: tzinfo) -> datetime:
    """An ISO 8601 moment; one without an offset is read in the matrix's time zone. A local time that the zone
    skips (the hour clocks go forward) or shows twice (the hour they go back) is refused, naming what to write."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--at: `{text}` is not an ISO 8601 time (like 2026-11-27T10:00:00Z)") from None
    if moment.tzinfo is not None:
        return moment
    local = moment.replace(tzinfo=default_zone)
    if local.astimezone(UTC).astimezone(default_zone).replace(tzinfo=None) != moment:
        raise InputError(f"--at: {moment.isoformat()} does not exist in {default_zone} (the clocks skip it); "
                         "give a time with its UTC offset")
    first, second = local.replace(fold=0), local.replace(fold=1)
    if first.utcoffset() != second.utcoffset():
        raise InputError(f"--at: {moment.isoformat()} happens twice in {default_zone}: write "
                         f"{first.isoformat()} or {second.isoformat()}")
    return local
