"""After the first triage: a ticket's state from its recorded events, and the next update, handoff,
re-triage and closure computed from it. Pure: takes events and an explicit `at`, returns event data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from triage.engine.decide import (NO_PROMISE, Result, Target, fill, fill_update, local_time,
                                  placeholder_values, resolve_answers, terms, triage,
                                  unpromised)
from triage.engine.history import Event
from triage.errors import AnswerError, InputError, MissingAnswerError
from triage.matrix.durations import human_duration, iso_duration
from triage.matrix.loader import Matrix
from triage.matrix.wording import stored_title


@dataclass
class TicketState:
    ticket: str
    data: dict[str, Any]  # the latest triage or re-triage result
    start: datetime  # when that (re)triage happened
    created: datetime
    packet: dict[str, str | None]
    next_due: datetime | None  # None: the level promises no updates
    updates: list[Event] = field(default_factory=list)
    handoffs: list[Event] = field(default_factory=list)
    retriages: list[Event] = field(default_factory=list)
    closed: Event | None = None
    first: dict[str, Any] = field(default_factory=dict)  # the first triage result
    reopened: list[Event] = field(default_factory=list)
    closes: list[Event] = field(default_factory=list)  # every closure, the reopened ones included
    renamed_from: list[str] = field(default_factory=list)
    paused: Event | None = None  # the pause in force: the ticket waits on the customer
    pauses: list[Event] = field(default_factory=list)  # every resume, with the pause it ended
    moved: dict[str, datetime] = field(default_factory=dict)  # due times that pauses pushed back

    @property
    def level(self) -> int:
        return int(self.data["severity"]["level"])

    @property
    def plan(self) -> str | None:
        return stored_plan(self.data)


def state(ticket: str, events: list[Event]) -> TicketState:
    """Fold a ticket's events, oldest first, into its current state."""
    try:
        return _fold(ticket, events)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(f"the history of ticket `{ticket}` is damaged (an event lacks what it should hold)") from None


def _fold(ticket: str, events: list[Event]) -> TicketState:
    if not events or events[0].kind != "triage":
        raise InputError(f"no triage recorded for ticket `{ticket}` (run `triage ask --ticket {ticket}` first)")
    first = events[0]
    current = TicketState(ticket, first.data, first.at, first.at, dict(first.data.get("packet", {}).get("fields", {})),
                          _moment(first.data["targets"]["next_update"]["due"]), first=first.data)
    for event in events[1:]:
        if event.kind == "retriage":
            current.data, current.start = event.data, event.at
            current.moved = {}
            current.next_due = _moment(event.data["targets"]["next_update"]["due"])
            current.retriages.append(event)
        elif event.kind == "reopen":
            current.closed = None
            current.next_due = _moment(event.data["next_due"])
            current.reopened.append(event)
        elif event.kind == "rename":
            current.renamed_from.append(event.data["from"])
        elif event.kind == "update":
            current.next_due = _moment(event.data["next_due"])
            current.updates.append(event)
        elif event.kind == "handoff":
            current.handoffs.append(event)
            current.packet.update({k: v for k, v in event.data.get("given", {}).items() if v})
        elif event.kind == "pause":
            current.paused = event
        elif event.kind == "resume":
            current.paused = None
            current.pauses.append(event)
            moved = {name: datetime.fromisoformat(due) for name, due in event.data["moved"].items()}
            if "next_update" in moved:
                current.next_due = moved.pop("next_update")
            current.moved.update(moved)
        elif event.kind == "close":
            current.closed = event
            current.closes.append(event)
            current.packet.update({k: v for k, v in event.data.get("packet", {}).items() if v})
    current.data = {**current.data, "ticket": ticket}  # a renamed ticket's texts carry its new reference
    return current


def stored_plan(data: dict[str, Any]) -> str | None:
    """The support plan a recorded triage result names (None: the matrix had no plans)."""
    return (data.get("plan") or {}).get("id")


def given_plan(matrix: Matrix, data: dict[str, Any]) -> str | None:
    """The plan to pass again when a recorded triage is recomputed: the one it named, where the matrix chooses
    plans by flag only (where a question chooses, the recorded answers carry it, and a re-triage may change it)."""
    plans, plan = matrix.model.plans, stored_plan(data)
    return plan if plans is not None and plans.chosen_by is None and plan in plans.tiers else None


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def open_state(ticket: str, events: list[Event]) -> TicketState:
    current = state(ticket, events)
    if current.closed is not None:
        raise InputError(f"ticket `{ticket}` was closed at {current.closed.at.isoformat()}; if the customer came "
                         f"back, reopen it with `triage reopen {ticket} --reason TEXT`")
    return current


def replay(matrix: Matrix, data: dict[str, Any], *, packet: dict[str, str | None] | None = None,
           at: datetime | None = None) -> Result:
    """The triage result a recorded event describes, recomputed with the matrix (a plan to fill texts from)."""
    answers, skipped = resolve_answers(matrix, data["answers"], assume_severity=True)
    override = data.get("override")
    moment = datetime.fromisoformat(data["at"])
    fields = {k: v for k, v in (packet if packet is not None else data.get("packet", {}).get("fields", {})).items()
              if v is not None and k in {f.id for f in matrix.model.handoff_packet if not f.filled_from}}
    result = triage(matrix, answers, skipped=skipped, at=moment, ticket=data.get("ticket"),
                    override=(override["level"], override["reason"]) if override else None, packet=fields,
                    account=data.get("account"), segment=data.get("segment"), plan=given_plan(matrix, data))
    if data.get("matrix", {}).get("sha256") not in (None, matrix.sha256):
        result.notes.append(f"the matrix changed since this ticket was triaged (then version "
                            f"{data['matrix'].get('version')}, now {matrix.model.matrix.version})")
    return result


@dataclass
class UpdatePlan:
    data: dict[str, Any]
    late: timedelta | None
    result: Result


def cadence_at(matrix: Matrix, current: TicketState, at: datetime, *, level: int | None = None,
               terms_at: datetime | None = None) -> timedelta | None:
    """The update interval in force at `at`: cadences can change with the ticket's age (measured from its
    creation), and an exception's cadence holds only while the exception does (`terms_at`, default `at`).
    None when the level promises no updates."""
    level = current.level if level is None else level
    calendar = matrix.calendars[matrix.targets(level, current.plan).calendar]
    deal = terms(matrix, level, account=current.data.get("account"), segment=current.data.get("segment"),
                 at=terms_at or at, plan=current.plan)
    if not deal.cadence:
        return None
    age = calendar.elapsed(current.created, at)
    elapsed = timedelta(0)
    for every, span in deal.cadence:
        if span is None or age < elapsed + span:
            return every
        elapsed += span
    return deal.cadence[-1][0]


def next_update(matrix: Matrix, current: TicketState, after: datetime, *, level: int | None = None
                ) -> tuple[timedelta, datetime] | tuple[None, None]:
    """The interval and due time of the update after one given at `after`. An update that would fall due after
    an exception ends runs on the cadence in force then: the matrix's own. (None, None) when the level
    promises no updates (an exception's cadence ending leaves none)."""
    level = current.level if level is None else level
    calendar = matrix.calendars[matrix.targets(level, current.plan).calendar]
    every = cadence_at(matrix, current, after, level=level)
    if every is None:
        return None, None
    due = calendar.add(after, every)
    then = cadence_at(matrix, current, after, level=level, terms_at=due)
    if then is None:
        return None, None
    if then != every:
        every, due = then, calendar.add(after, then)
    return every, due


def plan_update(matrix: Matrix, current: TicketState, *, at: datetime, impact: str, actions: str,
                next_step: str, summary: str | None = None) -> UpdatePlan:
    """The next status update: template filled, lateness of this update, and when the next one is due."""
    for name, value in (("--impact", impact), ("--actions", actions), ("--next-step", next_step)):
        if not value.strip():
            raise MissingAnswerError(f"an update needs {name} TEXT")
    if at < current.start:
        raise AnswerError(f"the update time {at.isoformat()} is before the triage at {current.start.isoformat()}")
    result = replay(matrix, current.data, packet=current.packet)
    calendar = matrix.calendars[result.terms_spec.calendar]
    due = current.next_due
    late = calendar.elapsed(due, at) if due is not None and at > due else None
    every, next_due = next_update(matrix, current, at)
    waiting = current.paused is not None and "next_update" in current.paused.data["targets"]
    if waiting:
        every, next_due = None, None  # the update clock stays stopped: the next one falls due from the resume
    typed = {"impact": impact.strip(), "actions": actions.strip(), "next_step": next_step.strip(),
             "next_update_at": NO_PROMISE if next_due is None else local_time(next_due, result.display)}
    if summary:
        typed["summary"] = summary.strip()
    templates = matrix.model.communication.templates
    business = matrix.business_time(result.terms_spec.calendar)
    data = {"impact": impact.strip(), "actions": actions.strip(), "next_step": next_step.strip(),
            "due": None if due is None else due.astimezone(result.display).isoformat(timespec="seconds"),
            "late_minutes": None if late is None else int(late.total_seconds() // 60),
            "late": None if late is None else human_duration(late, business=business),
            "every": None if every is None else iso_duration(every),
            "next_due": None if next_due is None else next_due.astimezone(result.display).isoformat(timespec="seconds"),
            "customer": fill(templates["update"], {**placeholder_values(result, customer=True), **typed}),
            "internal": fill(templates["internal_update"], {**placeholder_values(result), **typed})}
    if waiting:
        data["waiting_on_customer"] = True
    return UpdatePlan(data, late, result)


def lateness(plan: UpdatePlan) -> str:
    if plan.data["due"] is None:
        return "This update was not owed: the severity promises no update cadence"
    due = local_time(datetime.fromisoformat(plan.data["due"]), plan.result.display)
    if plan.late is None:
        return f"The update due {due} goes out on time"
    return f"The update due {due} is late by {plan.data['late']}"


def choose_point(matrix: Matrix, current: TicketState, role: str, point: str | None) -> Any:
    points = {p.id: p for p in matrix.model.handoff_points}
    if not points:
        raise InputError("the matrix defines no handoff points")
    if role not in matrix.model.roles:
        raise AnswerError(f"unknown role `{role}` (roles: {', '.join(matrix.model.roles)})")
    if point is not None:
        if point not in points:
            raise AnswerError(f"unknown handoff point `{point}` (points: {', '.join(points)})")
        if role not in points[point].to:
            raise AnswerError(f"`{role}` does not receive tickets at {points[point].label} "
                              f"(receivers: {', '.join(points[point].to)})")
        return points[point]
    # The points follow a ticket's life in the matrix's order: the next one is the first, from the latest point
    # the ticket has passed on, at which this role receives tickets. A point that needs what only the
    # resolution brings (a resolution-stage packet field) is never chosen for a ticket still being worked on.
    later = {f.id for f in matrix.model.handoff_packet if f.stage == "resolution"}
    order = [p.id for p in matrix.model.handoff_points]
    passed = [order.index(e.data["point"]) for e in current.handoffs if e.data.get("point") in order]
    receives = [p for p in matrix.model.handoff_points if role in p.to]
    if not receives:
        raise AnswerError(f"`{role}` receives tickets at no handoff point")
    open_now = [p for p in receives if not later & set(p.requires)]
    ahead = [p for p in open_now if order.index(p.id) >= max(passed, default=0)]
    if not (ahead or open_now):
        raise AnswerError(f"`{role}` receives tickets only after the resolution ({receives[0].label}): pass "
                          f"--point {receives[0].id} when the ticket is resolved")
    return ahead[0] if ahead else open_now[-1]  # back to a role met earlier: the latest point it receives at


def plan_handoff(matrix: Matrix, current: TicketState, *, role: str, point: str | None,
                 given: dict[str, str]) -> dict[str, Any]:
    chosen = choose_point(matrix, current, role, point)
    known = {f.id: f for f in matrix.model.handoff_packet}
    for fid in given:
        if fid not in known:
            raise AnswerError(f"unknown packet field `{fid}` (fields: {', '.join(known)})")
    packet = {**current.packet, **{k: v.strip() for k, v in given.items() if v.strip()}}
    packet["severity"] = stored_title(current.data["severity"])
    fields = {fid: packet.get(fid) for fid in chosen.requires}
    missing = [fid for fid, value in fields.items() if not value]
    return {"point": chosen.id, "label": chosen.label, "to": role, "where": matrix.model.roles[role].where,
            "fields": fields, "missing": missing, "given": {k: v for k, v in given.items() if v.strip()}}


def kept(current: TicketState) -> dict[str, datetime]:
    """The promises a ticket has kept, with when: the first update acknowledged the customer, the handoff to
    an owner assigned it, the handoff to a specialist escalated it."""

    def first(point: str) -> datetime | None:
        return next((e.at for e in current.handoffs if e.data.get("point") == point), None)

    moments = {"acknowledge": current.updates[0].at if current.updates else None,
               "assign_owner": first("triage_to_owner"), "escalate": first("owner_to_specialist")}
    return {name: moment for name, moment in moments.items() if moment is not None}


def plan_retriage(matrix: Matrix, current: TicketState, *, at: datetime, given: dict[str, Any], reason: str,
                  override: tuple[int, str] | None = None) -> tuple[Result, dict[str, Any]]:
    """Recompute the severity from changed answers. The targets always run from the ticket's creation, on the
    severity now in force (the convention of help desks that re-apply a policy when a ticket's priority
    changes): an unchanged severity moves no due time, a changed one re-measures them from the creation. A
    promise already kept is marked met, never issued again; the next update runs from the last one."""
    if not reason.strip():
        raise MissingAnswerError("a re-triage needs --reason TEXT: why the impact changed")
    if current.paused is not None:
        raise AnswerError(f"ticket `{current.ticket}` waits on the customer; resume it (`triage resume "
                          f"{current.ticket}`) before re-triaging")
    if at < current.start:
        raise AnswerError(f"the re-triage time {at.isoformat()} is before the last triage at "
                          f"{current.start.isoformat()}")
    answers = {**current.data["answers"], **given}
    resolved, skipped = resolve_answers(matrix, answers)
    packet = {k: v for k, v in current.packet.items()
              if v is not None and k in {f.id for f in matrix.model.handoff_packet if not f.filled_from}}
    result = triage(matrix, resolved, skipped=skipped, at=at, ticket=current.ticket, override=override, packet=packet,
                    account=current.data.get("account"), segment=current.data.get("segment"), start=current.created,
                    plan=given_plan(matrix, current.data))
    if result.level != current.level and matrix.model.matrix.severity_fixed:
        raise AnswerError(f"this matrix keeps a ticket's severity from its opening (`severity_fixed`): the "
                          f"re-triage would move {current.ticket} from {stored_title(current.data['severity'])} to "
                          f"{matrix.level_title(result.level)}; "
                          "open a new ticket if the problem has changed")
    if result.level == current.level:
        every_now = cadence_at(matrix, current, at)
        result.targets["next_update"] = unpromised() if every_now is None or current.next_due is None \
            else Target(every_now, current.next_due)
        result.notes.append("the severity is unchanged, so no due time moves")
    else:
        last = max([e.at for e in current.updates + current.reopened] or [current.created])
        every, due = next_update(matrix, current, last, level=result.level)
        result.targets["next_update"] = unpromised() if every is None else Target(every, due)
        result.notes.append(f"the targets of {matrix.level_name(result.level)} run from the ticket's creation "
                            f"({local_time(current.created, result.display)}); promises already kept stay kept")
    for name, moment in kept(current).items():
        if result.targets[name].promised:
            result.targets[name].met = moment
    result.update = fill_update(result)
    data = result.to_json()
    data["reason"] = reason.strip()
    data["previous"] = {"severity": current.data["severity"], "computed_severity": current.data["computed_severity"],
                        "at": current.data["at"]}
    return result, data


def closure_items(matrix: Matrix) -> list[Any]:
    return list(matrix.model.closure_checklist)


def message_items(matrix: Matrix) -> list[str]:
    """The closure items the final message quotes (what was resolved, in the agent's words)."""
    template = matrix.model.communication.templates["resolved"]
    return [c.id for c in matrix.model.closure_checklist
            if c.answer == "text" and (f"${c.id}" in template or "${" + c.id + "}" in template)]


def final_message(matrix: Matrix, current: TicketState, items: dict[str, Any]) -> str:
    """The final message to the customer: the `resolved` template with the customer's values and the closure
    items it quotes (a closing full stop of the agent's own is dropped, the template has one)."""
    result = replay(matrix, current.data, packet=current.packet)
    quoted = {cid: str(items.get(cid) or "").strip().rstrip(".") for cid in message_items(matrix)}
    return fill(matrix.model.communication.templates["resolved"],
                {**placeholder_values(result, customer=True), **quoted})


def confirmed(cid: str, raw: Any) -> bool:
    """A closure confirmation: yes or no (not given counts as no); anything else is refused, not taken as no."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    word = str(raw).strip().lower()
    if word not in ("yes", "no"):
        raise AnswerError(f"--item {cid} takes yes or no, not `{raw}`")
    return word == "yes"


def plan_close(matrix: Matrix, current: TicketState, *, at: datetime, items: dict[str, Any]) -> dict[str, Any]:
    checklist = {c.id: c for c in matrix.model.closure_checklist}
    for cid in items:
        if cid not in checklist:
            raise AnswerError(f"unknown closure item `{cid}` (items: {', '.join(checklist)})")
    values: dict[str, Any] = {}
    for cid, item in checklist.items():
        raw = items.get(cid)
        if item.answer == "confirm":
            value: Any = confirmed(cid, raw)
        elif item.answer == "list":
            value = [x.strip() for x in (raw if isinstance(raw, list) else str(raw or "").split(",")) if x.strip()]
        else:
            value = str(raw or "").strip()
        values[cid] = value
    missing = [cid for cid, item in checklist.items() if not item.optional and not values[cid]]
    if missing:
        first = checklist[missing[0]]
        raise MissingAnswerError(f"the closure checklist is not done: {first.item} (pass --item {first.id}="
                                 + ("yes" if first.answer == "confirm" else "...") + ")"
                                 + (f"; also open: {', '.join(missing[1:])}" if missing[1:] else ""))
    packet_ids = {f.id for f in matrix.model.handoff_packet}
    message = final_message(matrix, current, values)
    return {"checklist": values, "message": message,
            "packet": {cid: v for cid, v in values.items() if cid in packet_ids and isinstance(v, str) and v},
            "open_for": int((at - current.created).total_seconds() // 60)}


@dataclass
class ReopenPlan:
    data: dict[str, Any]
    every: str | None  # the update interval in words (business time on a business calendar); None: no updates
    display: tzinfo


def plan_reopen(matrix: Matrix, current: TicketState, *, at: datetime, reason: str) -> ReopenPlan:
    """A closed ticket opened again (the customer replied to the final message): updates start again from now
    on the cadence in force; the resolution target stays where the triage set it, so time spent closed is
    not forgiven."""
    if current.closed is None:
        raise AnswerError(f"ticket `{current.ticket}` is open; only a closed ticket can be reopened")
    if not reason.strip():
        raise MissingAnswerError("a reopen needs --reason TEXT: what the customer came back with")
    result = replay(matrix, current.data, packet=current.packet)
    every, due = next_update(matrix, current, at)
    resolution = current.data["targets"]["resolution"]["due"]
    data = {"reason": reason.strip(), "closed_at": current.closed.at.astimezone(result.display).isoformat(),
            "severity": current.data["severity"], "owner": current.data["routing"]["owner"],
            "every": None if every is None else iso_duration(every),
            "next_due": None if due is None else due.astimezone(result.display).isoformat(timespec="seconds"),
            "resolution_due": resolution}
    business = matrix.business_time(result.terms_spec.calendar)
    return ReopenPlan(data, None if every is None else human_duration(every, business=business), result.display)


PROMISES = {"acknowledge": "acknowledge", "assign_owner": "assign an owner", "escalate": "escalate",
            "next_update": "next update", "resolution": "resolution"}


def promises(current: TicketState) -> list[tuple[str, datetime]]:
    """The promises an open ticket has not kept yet, with their due times, soonest first (none once closed)."""
    if current.closed is not None:
        return []
    met = kept(current)
    out = [(name, due) for name, due in due_times(current).items() if name != "next_update" and name not in met]
    if current.next_due is not None:
        out.append(("next_update", current.next_due))
    if current.paused is not None:  # waiting on the customer: the paused clocks do not run
        stopped = set(current.paused.data["targets"])
        out = [(name, due) for name, due in out if name not in stopped]
    return sorted(out, key=lambda promise: promise[1])


def due_times(current: TicketState) -> dict[str, datetime]:
    """The due times of the ticket's targets (next update aside), with any pause's push applied."""
    out = {name: datetime.fromisoformat(target["due"]) for name, target in current.data["targets"].items()
           if name in PROMISES and name != "next_update" and target.get("due")}
    out.update({name: due for name, due in current.moved.items() if name in out})
    return out


def plan_pause(matrix: Matrix, current: TicketState, *, at: datetime, reason: str) -> dict[str, Any]:
    """The ticket waits on the customer from `at`: the targets the matrix names in `pauses` stop."""
    stopped = list(matrix.model.matrix.pauses)
    if not stopped:
        raise AnswerError("this matrix pauses no targets while a ticket waits on the customer (add `pauses:` "
                          "under `matrix:` to say which)")
    if current.paused is not None:
        raise AnswerError(f"ticket `{current.ticket}` is already paused since "
                          f"{current.paused.at.isoformat(timespec='minutes')}: {current.paused.data['reason']}")
    if not reason.strip():
        raise MissingAnswerError("a pause needs --reason TEXT: what the ticket waits for from the customer")
    if at < max([current.start] + [e.at for e in current.pauses]):
        raise AnswerError(f"the pause time {at.isoformat()} is before the ticket's last step")
    return {"reason": reason.strip(), "targets": stopped}


def plan_resume(matrix: Matrix, current: TicketState, *, at: datetime) -> dict[str, Any]:
    """The customer answered: each paused target keeps the open time it had left when the pause began, now
    counted from `at` (a target already overdue at the pause stays where it was)."""
    pause = current.paused
    if pause is None:
        raise AnswerError(f"ticket `{current.ticket}` is not paused")
    if at < pause.at:
        raise AnswerError(f"the resume time {at.isoformat()} is before the pause at {pause.at.isoformat()}")
    calendar_id = matrix.targets(current.level, current.plan).calendar
    calendar = matrix.calendars[calendar_id]
    dues = {**due_times(current), **({"next_update": current.next_due} if current.next_due else {})}
    met = kept(current)
    moved = {}
    for name in pause.data["targets"]:
        due = dues.get(name)
        if name == "next_update" and due is None:  # an update went out during the pause: a full interval from now
            _, due_next = next_update(matrix, current, at)
            if due_next is not None:
                moved[name] = due_next.isoformat(timespec="seconds")
            continue
        if due is None or name in met or due <= pause.at:
            continue
        moved[name] = calendar.add(at, calendar.elapsed(pause.at, due)).isoformat(timespec="seconds")
    paused_for = calendar.elapsed(pause.at, at)
    return {"paused_at": pause.at.isoformat(timespec="seconds"), "reason": pause.data["reason"], "moved": moved,
            "paused_minutes": int(paused_for.total_seconds() // 60), "business_time": matrix.business_time(calendar_id)}


def queue_entry(current: TicketState, events: list[Event], now: datetime, zone: tzinfo) -> dict[str, Any] | None:
    """An open ticket as a line of the work queue: its next promise, how long until it is due (negative when
    overdue, in minutes of elapsed time), its severity, owner and last step; None for a closed ticket."""
    pending = promises(current)
    if not pending and current.paused is None:
        return None
    last = max(events, key=lambda e: (e.at, e.id))
    if pending:
        name, due = pending[0]
        label, left = PROMISES[name], int((due - now).total_seconds() // 60)
    else:  # nothing runs while it waits on the customer: listed after everything that has a due time
        name, due, label = "waiting_on_customer", current.paused.at, "waiting on the customer"  # type: ignore[union-attr]
        left = None
    return {"ticket": current.ticket, "promise": name, "promise_label": label,
            "due": due.astimezone(zone).isoformat(timespec="seconds"),
            "minutes_left": left, "overdue": bool(pending) and due < now,
            "paused": None if current.paused is None else {
                "since": current.paused.at.astimezone(zone).isoformat(timespec="seconds"),
                "reason": current.paused.data["reason"]},
            "severity": current.data["severity"], "owner": current.data["routing"]["owner"],
            "account": current.data.get("account"),
            "last_step": {"kind": last.kind, "at": last.at.astimezone(zone).isoformat(timespec="seconds")}}


# ---------------------------------------------------------------------------------------------- export

EXPORT_COLUMNS = ["ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
                  "updates", "reassignments", "tags", "account", "override_reason"]


def export_row(matrix: Matrix | None, current: TicketState) -> dict[str, Any]:
    """One ticket in the generic export shape that `triage audit` reads."""

    def stamp(moment: datetime | None) -> str:
        return "" if moment is None else moment.isoformat(timespec="seconds")

    met = kept(current)
    first_triage = current.first
    row: dict[str, Any] = {
        "ticket": current.ticket,
        "severity": current.level,
        "created_at": stamp(current.created),
        "acknowledged_at": stamp(met.get("acknowledge")),
        "assigned_at": stamp(met.get("assign_owner")),
        "escalated_at": stamp(met.get("escalate")),
        "resolved_at": stamp(current.closed.at if current.closed else None),
        "updates": ";".join(stamp(e.at) for e in current.updates),
        "reassignments": max(len(current.handoffs) - 1, 0),
        "tags": ";".join(current.closed.data["checklist"].get("trend_tags", [])) if current.closed else "",
        "account": first_triage.get("account") or "",
        "override_reason": (current.data.get("override") or {}).get("reason", ""),
    }
    for qid, value in current.data.get("answers", {}).items():  # the latest answers, which decided the severity
        row[qid] = ",".join(value) if isinstance(value, list) else "yes" if value is True else "no" \
            if value is False else value
    for fid, value in current.packet.items():  # what the handoffs carried, as the audit's packet check reads it
        row[f"packet_{fid}"] = "yes" if value else ""
    return row


def timeline(current: TicketState, events: list[Event]) -> dict[str, Any]:
    """Every step of a ticket with its time, for `triage history TICKET --format json`."""

    def summary(event: Event) -> str:
        d = event.data
        if event.kind in ("triage", "retriage"):
            text = f"{stored_title(d['severity'])}, owner {d['routing']['owner']}"
            return text + (f"; reason: {d['reason']}" if event.kind == "retriage" else "")
        if event.kind == "update":
            minutes = d.get("late_minutes")
            late = d.get("late") or (None if minutes is None else human_duration(timedelta(minutes=minutes)))
            return f"update {'late by ' + late if late else 'on time'}" + (
                f"; next due {d['next_due']}" if d.get("next_due") else "; no further update owed")
        if event.kind == "handoff":
            return f"{d['label']} to {d['to']}" + (f"; missing: {', '.join(d['missing'])}" if d["missing"] else "")
        if event.kind == "reopen":
            return f"reopened: {d['reason']}" + (f"; next update due {d['next_due']}" if d.get("next_due") else "")
        if event.kind == "rename":
            return f"renamed from {d['from']}"
        if event.kind == "pause":
            return f"paused, waiting on the customer: {d['reason']}; stopped: {', '.join(d['targets'])}"
        if event.kind == "resume":
            moved = "; ".join(f"{PROMISES.get(n, n)} now due {due}" for n, due in d["moved"].items())
            waited = human_duration(timedelta(minutes=d["paused_minutes"]), business=d.get("business_time", False))
            return f"resumed after {waited}" + (
                f"; {moved}" if moved else "")
        return "closed"

    return {"schema_version": 1, "ticket": current.ticket, "severity": current.data["severity"],
            "closed": current.closed is not None,
            "events": [{"at": e.at.isoformat(timespec="seconds"), "kind": e.kind, "summary": summary(e),
                        "data": e.data} for e in sorted(events, key=lambda e: (e.at, e.id))]}

