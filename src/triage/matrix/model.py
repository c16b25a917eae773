"""The matrix format as typed, immutable models; `triage schema` is generated from these.

Annotations are evaluated as the classes are made (no `from __future__ import annotations`): pydantic reads
them as objects instead of evaluating their text, which makes importing the models quicker."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from triage.matrix.durations import EndOfDay, parse_duration

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
DURATION_PATTERN = (r"^\s*(?:(?:\d+\s*[wdhms]\s*)+|\d+\s*bd\s*|end of (?:next )?business day\s*"
                    r"|eod(?:\s*\+\s*\d+)?\s*)$")


def _minutes(value: timedelta) -> str:
    if isinstance(value, EndOfDay):
        return value.words()
    return f"{int(value.total_seconds() // 60)}m"


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("write a duration as text, like 15m, 2h or 1d 4h")


Id = Annotated[str, Field(pattern=ID_PATTERN)]
Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(_minutes, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["15m", "2h", "1d 4h", "1bd",
                                                                           "end of next business day"]}),
]
# Conditions are checked against the questionnaire after structure (they need the question kinds).
Condition = Annotated[
    dict[str, Any],
    WithJsonSchema({
        "type": "object",
        "description": "question id -> expected answer: true/false for yes/no, a choice id or list of "
                       "choice ids for one-of, {any_of|all_of|none_of: [...]} (or a list, meaning any_of) or "
                       "{at_least: N, of: [...]} for any-of",
        "propertyNames": {"pattern": ID_PATTERN},
    }),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, defer_build=True)


class MatrixInfo(Model):
    name: str
    version: str
    owner: Id = Field(description="role id accountable for upkeep")
    revised: date
    review_every_days: int = Field(gt=0)
    timezone: str = Field(description="IANA time zone in which due times are shown")
    review_triggers: list[str] = Field(default_factory=list)
    maintenance_checklist: list[str] = Field(default_factory=list)
    pauses: list[Literal["acknowledge", "assign_owner", "escalate", "next_update", "resolution"]] = Field(
        default_factory=list, description=(
            "the targets whose clock stops while a ticket waits on the customer (`triage pause` / `resume`)"))
    severity_fixed: bool = Field(default=False, description=(
        "a ticket keeps the severity it was opened with: a re-triage may change answers but not the severity"))


class Holiday(Model):
    date: date
    name: str = ""
    hours: str | None = Field(default=None,
                              description='open hours on a partial day, e.g. "09:00-13:00"; none = closed')


class HolidaySource(Model):
    country: str = Field(description="ISO 3166 country code for the public holidays of the `holidays` package")
    subdivision: str | None = None


class Calendar(Model):
    kind: Literal["always", "weekly"]
    name: str | None = Field(default=None, description="how the calendar is named where it is shown (default: its id)")
    timezone: str | None = None
    hours: dict[str, str] = Field(default_factory=dict,
                                  description='day or day range -> "HH:MM-HH:MM" (several comma-separated)')
    holidays: list[Holiday] = Field(default_factory=list)
    public_holidays: HolidaySource | None = None


class Role(Model):
    name: str
    where: str = Field(description="queue, channel or rotation where the role is reached")


class Question(Model):
    id: Id
    ask: str
    help: str
    kind: Literal["yes_no", "one_of", "any_of"]
    choices: dict[str, str] = Field(default_factory=dict, description="choice id -> label, in display order")
    default: Any = Field(default=None, description="used when the question does not apply or is not answered")
    applies_when: Condition | None = None
    affects: Literal["severity", "routing", "record"] = Field(default="severity", description=(
        "what the answer decides: the severity, the routing only, or nothing (`record`: kept with the ticket, such "
        "as the priority the customer chose)"))
    ordered: bool = Field(
        default=False,
        description="choices run from least to most serious; validate checks that a worse answer never lowers severity",
    )


class SeverityRule(Model):
    id: Id
    when: Condition
    at_least: int = Field(ge=1)
    because: str
    intended_dip: str | None = Field(default=None, description=(
        "why a worse answer to an ordered question may give a less severe level than this rule does: a "
        "deliberate dip in a published grid, which validate then does not warn about"))


def _interval(value: timedelta | None) -> timedelta | None:
    if isinstance(value, EndOfDay):
        raise ValueError(f"`{value.words()}` is a due time, not an interval: write the cadence as a duration, "
                         "like 4h or 1bd")
    return value


Interval = Annotated[Duration, AfterValidator(_interval)]


class CadenceStep(Model):
    every: Interval
    for_: Interval | None = Field(default=None, alias="for")


class Resolution(Model):
    expect: str
    within: Duration | None = None


class Targets(Model):
    """What a level promises. Only the first response is required: many published policies promise nothing
    else, and a level that leaves a target out promises nothing for it."""

    calendar: Id
    acknowledge: Duration
    assign_owner: Duration | None = None
    escalate: Duration | None = None
    update_every: list[CadenceStep] = Field(default_factory=list)
    resolution: Resolution | None = None


class PlanTargets(Model):
    """A plan's changes to one level's targets: only the keys given change (null or [] takes a promise away)."""

    calendar: Id | None = None
    acknowledge: Duration | None = None
    assign_owner: Duration | None = None
    escalate: Duration | None = None
    update_every: list[CadenceStep] | None = None
    resolution: Resolution | None = None


class Plan(Model):
    name: str
    targets: dict[str, PlanTargets] = Field(default_factory=dict, description="severity id -> the targets it changes")


class Plans(Model):
    chosen_by: Id | None = Field(default=None, description=(
        "a one-of question whose answer is the plan id; without it the plan is given with --plan"))
    default: Id = Field(description="the plan of a ticket for which none is chosen")
    tiers: dict[str, Plan] = Field(min_length=1, description="plan id -> its name and the targets it changes")


class Step(Model):
    role: Id
    action: str
    after: Duration
    customer: str | None = Field(default=None, description="what the customer is told about this step, in words "
                                 "that name no role, queue or internal action")


class Notice(Model):
    role: Id
    when: str


class Routing(Model):
    receives: Id = Field(description="role that receives the ticket first")
    approves: Id = Field(description="role that declares or approves the severity")
    owner: Id = Field(description="role directly responsible after the handoff")
    steps: list[Step]
    notify: list[Notice] = Field(default_factory=list)


class Severity(Model):
    level: int = Field(ge=1)
    name: str | None = Field(default=None, description=(
        "how the level is called wherever it is shown, e.g. P1 or Urgent (default: Severity and its number)"))
    label: str
    definition: str
    examples: list[str] = Field(default_factory=list)
    targets: Targets
    routing: Routing


class Route(Model):
    id: Id
    when: Condition
    role: Id
    reason: str
    notify: bool = False


class InternalUpdates(Model):
    posted_by: Id
    where: str


class Communication(Model):
    internal_updates: InternalUpdates
    templates: dict[str, str]


class PacketField(Model):
    id: Id
    label: str
    help: str = ""
    filled_from: Literal["severity", "ticket"] | None = None
    stage: Literal["triage", "resolution"] = Field(default="triage",
                                                   description="asked at triage, or filled at closure")


class HandoffPoint(Model):
    id: Id
    label: str
    to: list[Id] = Field(min_length=1, description="roles that receive the ticket at this point")
    requires: list[Id] = Field(description="packet fields that must be filled before this handoff")


class ClosureItem(Model):
    id: Id
    item: str
    answer: Literal["confirm", "text", "list"]
    optional: bool = False


class ExceptionScope(Model):
    account: str | None = None
    segment: str | None = None
    starts: datetime | None = None
    ends: datetime | None = None


class ExceptionChanges(Model):
    targets: dict[str, dict[str, Duration]] = Field(default_factory=dict)
    update_every: dict[str, Interval] = Field(default_factory=dict)
    notify: list[Id] = Field(default_factory=list)


class MatrixException(Model):
    id: Id
    scope: ExceptionScope
    changes: ExceptionChanges
    reason: str
    approver: Id | None = None
    expires: date | None = None


class ExampleExpectation(Model):
    severity: int
    routes: list[Id] | None = None
    owner: Id | None = None


class Example(Model):
    name: str
    answers: dict[str, Any]
    expect: ExampleExpectation


class MatrixModel(Model):
    schema_version: Literal[1]
    matrix: MatrixInfo
    triggers: list[str] = Field(min_length=1)
    calendars: dict[str, Calendar]
    roles: dict[str, Role]
    questions: list[Question] = Field(min_length=1)
    severity_rules: list[SeverityRule] = Field(min_length=1)
    severities: dict[str, Severity]
    routes: list[Route] = Field(default_factory=list)
    communication: Communication
    handoff_packet: list[PacketField]
    handoff_points: list[HandoffPoint] = Field(default_factory=list)
    closure_checklist: list[ClosureItem]
    plans: Plans | None = None
    exceptions: list[MatrixException] = Field(default_factory=list)
    examples: list[Example] = Field(default_factory=list)
