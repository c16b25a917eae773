"""The library API (`import triage`) against the commands, and the audit split into parts and merged."""

from __future__ import annotations

import csv
import io
import itertools
import json
import pickle
import random
import socket
import warnings
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import triage
from triage.cli.app import app

from .conftest import MATRIX_PATH
from .test_engine import every_combination

runner = CliRunner()
AT = "2026-11-27T10:00:00Z"
HEADER = ["ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
          "updates", "reassignments", "tags", "account", "override_reason", "exception", "escalated_to", "confirmed",
          "impact", "scope", "security"]


def asked(given: dict[str, object], *more: str) -> dict[str, object]:
    args = [x for k, v in given.items() for x in ("-a", f"{k}={','.join(v) if isinstance(v, list) else v}")]
    result = runner.invoke(app, ["ask", "--matrix", str(MATRIX_PATH), "--no-input", "--no-record", "--format", "json",
                                 "--at", AT, *more, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_public_names_are_exported():
    import triage.audit.measure  # a subpackage once imported must not hide a function of the API

    for name in triage.__all__:
        assert not isinstance(getattr(triage, name), type(triage)), name
    with pytest.raises(AttributeError):
        _ = triage.no_such_name


def test_triage_gives_what_ask_gives_on_a_sample_of_every_combination():
    matrix = triage.load_matrix(MATRIX_PATH)
    combos = list(every_combination(matrix))[::97]
    assert len(combos) > 500
    for given_answers in combos[::8]:  # each through the command: a few dozen runs
        result = triage.triage(matrix, given_answers, at=AT, ticket="T-1")
        assert result.to_json() == asked(given_answers, "--ticket", "T-1"), given_answers
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    for given_answers in combos:  # all of the sample against the engine the command uses
        assert triage.triage(matrix, given_answers, at=at).to_json()["severity"]["level"] in matrix.levels


def test_triage_leaves_out_only_answers_that_cannot_change_the_severity():
    matrix = triage.load_matrix(MATRIX_PATH)
    with pytest.raises(triage.MissingAnswerError, match="no answer for `confirmed`"):
        triage.triage(matrix, {}, at=AT)
    with pytest.raises(TypeError, match="aware"):
        triage.triage(matrix, {}, at=datetime(2026, 11, 27))


def test_load_matrix_names_the_problem(tmp_path: Path):
    broken = tmp_path / "m.yaml"
    broken.write_text(MATRIX_PATH.read_text().replace("\nseverities:", "\nseverity_levels:", 1))
    with pytest.raises(triage.InputError, match=r"m\.yaml:\d+:\d+"):
        triage.load_matrix(broken)


def records(count: int, seed: int = 3) -> list[dict[str, object]]:
    matrix = triage.load_matrix(MATRIX_PATH)
    rng = random.Random(seed)
    out = []
    for i in range(count):
        record: dict[str, object] = {"ticket": f"T-{i}"}
        for q in matrix.model.questions:
            domain = matrix.domain(q.id)
            value = rng.choice(domain)
            record[q.id] = list(value) if isinstance(value, tuple) else value
        out.append(record)
    return out


def test_classify_and_classify_jsonl_give_the_lines_of_the_command():
    matrix = triage.load_matrix(MATRIX_PATH)
    given_records = [*records(300), {"ticket": "X", "colour": "blue"}]
    data = "".join(json.dumps(r) + "\n" for r in given_records).encode()
    command = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, "--full"], input=data)
    assert command.exit_code == 1  # the bad record
    lines = [orjson.loads(line) for line in command.stdout.splitlines()]
    results = list(triage.classify(matrix, given_records, at=AT, full=True, errors="report"))
    assert results[:-1] == lines
    assert results[-1] == {"line": 301, "error": "unknown question `colour` (questions: confirmed, scope, impact, "
                                                 "workaround, security, areas, vendor, deadline, strategic_account)"}
    assert list(triage.classify_jsonl(matrix, data, at=AT, full=True, errors="report")) == results
    with pytest.raises(triage.InputError, match="colour"):
        list(triage.classify(matrix, given_records[-2:], at=AT))


def test_classify_is_lazy():
    matrix = triage.load_matrix(MATRIX_PATH)

    def endless():
        n = 0
        while True:
            n += 1
            yield {**records(1)[0], "ticket": f"T-{n}"}

    results = triage.classify(matrix, endless(), at=AT)
    assert [next(results)["ticket"] for _ in range(3)] == ["T-1", "T-2", "T-3"]


# ---------------------------------------------------------------------------------------------- audit in parts

def export_rows(count: int, seed: int) -> list[list[str]]:
    """Tickets of every kind an audit lists: breaches, impossible times, promises never kept, bounces, tags
    escalated together, disagreeing answers, overrides, unknown severities and unreadable rows."""
    rng = random.Random(seed)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    rows = []
    for i in range(count):
        level = rng.choice(["1", "2", "3", "4", "4", "9", "", "sev3"])
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))

        def later(scale: int, created: datetime = created) -> str:
            if rng.random() < 0.15:
                return ""
            moment = created + timedelta(minutes=rng.randrange(-30, scale))  # before creation now and then
            return moment.isoformat()

        updates = ";".join(later(3000) for _ in range(rng.randrange(0, 3))).strip(";")
        rows.append([f"T-{i}", level, created.isoformat() if rng.random() > 0.03 else "not a time", later(120),
                     later(600), later(900) if rng.random() < 0.4 else "", later(9000), updates,
                     str(rng.choice([0, 0, 1, 2, 3])), rng.choice(["", "login", "sso", "login;sso"]),
                     f"acme-{rng.randrange(5)}", rng.choice(["", "", "", "customer asked"]),
                     rng.choice(["", "", "EXC-1"]), rng.choice(["", "engineering", "nobody"]),
                     rng.choice(["", "yes", "no"]), rng.choice(["", "none", "workflow_blocked", "2 - Medium"]),
                     rng.choice(["one_user", "system_wide"]), rng.choice(["no", "yes"])])
    return rows


def csv_text(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def grouped(partials: list[triage.AuditPartial], rng: random.Random) -> triage.AuditPartial:
    """The partials merged in a random grouping: neighbours merged pairwise until one is left."""
    while len(partials) > 1:
        k = rng.randrange(len(partials) - 1)
        width = rng.randrange(2, min(len(partials) - k, 4) + 1)
        partials[k:k + width] = [triage.merge_partials(*partials[k:k + width])]
    return partials[0]


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 399), max_size=5, unique=True))
def test_partials_merged_in_any_grouping_are_the_audit_of_the_whole(tmp_path_factory, seed, cuts):
    matrix = triage.load_matrix(MATRIX_PATH)
    rows = export_rows(400, seed)
    bounds = [0, *sorted(cuts), len(rows)]
    folder = tmp_path_factory.mktemp("parts")
    paths = []
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        path = folder / f"part-{n}.csv"
        path.write_bytes(csv_text(rows[a:b]))
        paths.append(str(path))
    options = triage.AuditOptions(today=datetime.now(UTC).date())
    command = runner.invoke(app, ["audit", *paths, "--matrix", str(MATRIX_PATH), "--format", "json"])
    assert command.exit_code == 0, command.output
    whole = json.loads(command.stdout)
    partials = [triage.measure_export(matrix, Path(p).read_bytes(), name=p, options=options) for p in paths]
    partials = [pickle.loads(pickle.dumps(p)) for p in partials]  # as they come back from another process
    merged = grouped(partials, random.Random(seed))
    assert json.loads(json.dumps(triage.finish_audit(matrix, merged, options))) == whole
    assert whole["breaches"] and whole["impossible_times"]["count"] and whole["unreadable_rows"]
    assert whole["criteria"]["disagreements"] and whole["routing"]["bounced"]


def test_a_partial_holds_no_matrix_objects_and_pickles_small():
    matrix = triage.load_matrix(MATRIX_PATH)
    data = csv_text(export_rows(2000, 5))
    partial = triage.measure_export(matrix, data)
    raw = pickle.dumps(partial)
    assert b"triage.matrix" not in raw and b"triage.audit.measure\nOptions" not in raw
    assert len(raw) < len(data)


def test_audit_in_one_call_reads_parts_each_with_a_header():
    matrix = triage.load_matrix(MATRIX_PATH)
    rows = export_rows(300, 9)
    whole = triage.audit_parts(matrix, [csv_text(rows)])
    split = triage.audit_parts(matrix, [csv_text(rows[:100]), csv_text(rows[100:])])
    assert split["tickets"] == whole["tickets"] and split["severities"] == whole["severities"]
    assert [e["file"] for e in split["exports"]] == ["<part 1>", "<part 2>"]


# ---------------------------------------------------------------------------------------------- Dask

@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def test_classify_on_a_two_worker_cluster_is_byte_identical(tmp_path: Path, scheduler: str, monkeypatch):
    monkeypatch.setattr("triage.cli.classify.DASK_RUN", 500)  # several tasks from a few thousand records
    data = "".join(json.dumps(r) + "\n" for r in records(3000)) + "{not json\n"
    for fmt in ("jsonl", "csv"):
        args = ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, "--full", "--format", fmt]
        one = runner.invoke(app, args, input=data)
        many = runner.invoke(app, [*args, "--dask-scheduler", scheduler], input=data)
        assert one.exit_code == many.exit_code == 1
        assert many.stdout_bytes == one.stdout_bytes and many.stderr == one.stderr
        assert len(one.stdout.splitlines()) == 3000 + (fmt == "csv")
    bad_early = "".join(json.dumps(r) + "\n" for r in records(1200)) + "{not json\n" + data
    args = ["classify", "--matrix", str(MATRIX_PATH), "--at", AT, "--fail-fast"]
    one = runner.invoke(app, args, input=bad_early)
    many = runner.invoke(app, [*args, "--dask-scheduler", scheduler], input=bad_early)
    assert one.exit_code == many.exit_code == 1
    assert many.stdout_bytes == one.stdout_bytes and many.stderr == one.stderr
    assert len(one.stdout.splitlines()) == 1200


def test_audit_on_a_two_worker_cluster_is_byte_identical(tmp_path: Path, scheduler: str, monkeypatch):
    monkeypatch.setattr("triage.cli.audit.DASK_BATCH", 400)
    export = tmp_path / "export.csv"
    export.write_bytes(csv_text(export_rows(3000, 11)))
    args = ["audit", str(export), "--matrix", str(MATRIX_PATH), "--format", "json"]
    one = runner.invoke(app, args)
    many = runner.invoke(app, [*args, "--dask-scheduler", scheduler])
    assert one.exit_code == many.exit_code == 0
    assert many.stdout_bytes == one.stdout_bytes and many.stderr == one.stderr
    assert json.loads(one.stdout)["tickets"]["audited"] > 2000


def test_an_event_log_audited_on_a_two_worker_cluster_is_byte_identical(tmp_path: Path, scheduler: str,
                                                                         monkeypatch):
    monkeypatch.setattr("triage.cli.audit.DASK_BATCH", 150)
    rng = random.Random(4)
    lines = ["ticket,at,event,severity,tags"]
    start = datetime(2026, 3, 2, tzinfo=UTC)
    for i in range(1000):
        moment = start + timedelta(minutes=rng.randrange(0, 80_000))
        level = rng.choice(["1", "2", "3", "4"])
        for kind in ["created", "acknowledged", "assigned", *(["escalated"] * rng.randrange(2)), "resolved"]:
            lines.append(f"E-{i},{moment.isoformat()},{kind},{level},{rng.choice(['', 'login', 'sso'])}")
            moment += timedelta(minutes=rng.randrange(1, 600))
    export = tmp_path / "events.csv"
    export.write_text("\n".join(lines) + "\n")
    args = ["audit", str(export), "--matrix", str(MATRIX_PATH), "--format", "json", "--mapping", "generic-events"]
    one = runner.invoke(app, args)
    many = runner.invoke(app, [*args, "--dask-scheduler", scheduler])
    assert one.exit_code == many.exit_code == 0, one.output
    assert many.stdout_bytes == one.stdout_bytes and many.stderr == one.stderr
    assert json.loads(one.stdout)["tickets"]["audited"] == 1000


def test_a_bare_dask_starts_a_local_cluster_and_says_nothing_more(monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    data = "".join(json.dumps(r) + "\n" for r in records(200))
    args = ["classify", "--matrix", str(MATRIX_PATH), "--at", AT]
    with socket.socket() as busy:  # Dask's usual web port taken, as by another cluster on this machine
        try:
            busy.bind(("", 8787))
            busy.listen()
        except OSError:
            pass  # taken already
        one = runner.invoke(app, args, input=data)
        with warnings.catch_warnings(record=True) as caught:  # in a terminal, a warning is printed on stderr
            warnings.simplefilter("always")
            many = runner.invoke(app, [*args, "--dask"], input=data)
    assert one.exit_code == many.exit_code == 0
    assert many.stdout_bytes == one.stdout_bytes and many.stderr == one.stderr
    assert [str(w.message) for w in caught] == []


def test_dask_without_the_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if the extra were not installed
    result = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--dask"], input="")
    assert result.exit_code == 2
    assert "pip install 'triage[dask]'" in result.stderr


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr("triage.cli.cluster.CONNECT_SECONDS", 1)
    result = runner.invoke(app, ["classify", "--matrix", str(MATRIX_PATH), "--dask-scheduler", "tcp://127.0.0.1:9"],
                           input="{}\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("triage: error: --dask-scheduler: cannot reach a Dask scheduler at tcp://127.0.0.1:9")


def test_a_task_the_cluster_lost_is_one_error():
    pytest.importorskip("dask.distributed")
    from distributed import KilledWorker

    from triage.cli import cluster

    class Lost:
        def __init__(self, exc: BaseException) -> None:
            self.exc = exc

        def result(self):
            raise self.exc

    worker = SimpleNamespace(address="tcp://10.0.0.7:4000")  # what the scheduler passes: its view of the worker
    for exc in (KilledWorker("task", worker, 3), ConnectionResetError("connection closed")):
        with pytest.raises(triage.TriageError, match=r"^the Dask cluster failed to run a task \("):
            cluster._result(Lost(exc))


def test_the_library_takes_a_support_plan():
    matrix = triage.load_matrix(Path(__file__).parent.parent / "examples" / "plan-tiered-first-response.yaml")
    at = "2026-12-18T17:45:00+01:00"
    premium = triage.triage(matrix, {"impact": "all"}, at=at, plan="premium").to_json()
    assert premium["plan"]["id"] == "premium" and premium["targets"]["acknowledge"]["within"] == "PT15M"
    with pytest.raises(triage.TriageError, match="contradicts"):
        triage.triage(matrix, {"impact": "all", "support_plan": "standard"}, at=at, plan="premium")
