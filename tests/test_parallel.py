"""A large CSV export read in parts by forked workers gives what one pass gives, whatever the cuts go through."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from triage.audit import measure as audit_mod
from triage.exports import parallel as parallel
from triage.cli.app import app
from triage.errors import TriageError
from triage.exports.readers import CsvRows, Reader, load_mapping
from triage.files import count_lines, line_blocks, part_starts

from .conftest import MATRIX_PATH, NEW_YORK

runner = CliRunner()
HEADER = ["ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at", "resolved_at",
          "updates", "reassignments", "tags", "account"]


def noisy_rows(count: int, seed: int, *, multiline: float = 0.0) -> list[list[str]]:
    """Rows of every kind an export holds: good ones, unreadable times, unknown severities, missing values,
    and (with `multiline`) account cells that are quoted and span lines."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        day, hour = rng.randrange(1, 28), rng.randrange(0, 23)
        created = f"2026-11-{day:02d}T{hour:02d}:00:00Z"
        ack = f"2026-11-{day:02d}T{hour:02d}:{rng.randrange(0, 59):02d}:00-05:00" if rng.random() < 0.9 else "?"
        resolved = f"2026-12-{day:02d}T{hour:02d}:00:00Z" if rng.random() < 0.7 else ""
        escalated = f"2026-11-{day:02d}T{hour + 1:02d}:00:00Z" if rng.random() < 0.3 else ""
        updates = ";".join(f"2026-11-{day:02d}T{hour + 1:02d}:{m:02d}:00Z" for m in range(rng.randrange(0, 3)))
        level = rng.choice(["1", "2", "3", "4", "sev2", "P3", "9"])
        account = f"account {i}\nsecond line, \"quoted\"" if rng.random() < multiline else f"account-{i % 7}"
        row = [f"T-{i}", level, created, ack, "", escalated, resolved, updates, rng.choice(["0", "1", "2", "3", "x"]),
               rng.choice(["", "login", "sso;export"]), account]
        if rng.random() < 0.02:
            row[2] = "31/13/2026"  # unreadable
        if rng.random() < 0.01:
            row = row[:4]  # too few cells
        rows.append(row)
    return rows


def write_export(path: Path, rows: list[list[str]], extra: bytes = b"") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    data = buffer.getvalue().encode()
    if extra:  # raw lines (not UTF-8, blank) put into the middle
        middle = data.index(b"\nT-", len(data) // 2) + 1
        data = data[:middle] + extra + data[middle:]
    path.write_bytes(data)
    return path


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--matrix", str(MATRIX_PATH)])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setattr(parallel, "PART_BYTES", 512)


@pytest.mark.parametrize("multiline", [0.0, 0.05, 0.5])
@pytest.mark.parametrize("jobs", ["2", "3", "8"])
def test_audit_in_parts_is_the_audit_in_one_pass(tmp_path, small_parts, monkeypatch, multiline, jobs):
    path = str(write_export(tmp_path / "e.csv", noisy_rows(400, seed=7, multiline=multiline),
                            extra=b"\xff\xfe,3,2026-11-02T10:00:00Z,,,,,,0,,x\n\n"))
    one = cli("audit", path, "--format", "json", "--jobs", "1")
    resumed = []  # the rest of the file read in one pass after a cut through a quoted cell
    monkeypatch.setattr(parallel, "CsvRows", lambda *a, **k: resumed.append(k.get("first_line")) or CsvRows(*a, **k))
    parts = cli("audit", path, "--format", "json", "--jobs", jobs)
    if multiline in (0.0, 0.5):  # no row spans lines, or half of them do (some cut goes through one)
        assert any(resumed) == bool(multiline)
    assert one[0] == parts[0] == 0
    assert json.loads(parts[1]) == json.loads(one[1]) and parts[1] == one[1]
    assert parts[2] == one[2]  # the same unreadable rows named on stderr, in the same order
    report = json.loads(one[1])
    assert report["tickets"]["unreadable"] > 10 and "more unreadable rows" in one[2]
    assert any("not UTF-8 text" in row["reason"] for row in report["unreadable_rows"])


def test_review_in_parts_is_the_review_in_one_pass(tmp_path, small_parts):
    path = str(write_export(tmp_path / "e.csv", noisy_rows(300, seed=3, multiline=0.1)))
    at = ["--at", "2027-01-15T12:00:00Z"]
    assert cli("review", path, "--jobs", "4", *at) == cli("review", path, "--jobs", "1", *at)


def test_every_text_format_is_the_same_in_parts(tmp_path, small_parts):
    path = str(write_export(tmp_path / "e.csv", noisy_rows(200, seed=5)))
    for fmt in ("text", "markdown", "html"):
        assert cli("audit", path, "--format", fmt, "--jobs", "3") == cli("audit", path, "--format", fmt, "--jobs", "1")


def test_small_files_stdin_and_one_job_are_read_in_one_pass(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(parallel, "Workers", lambda *a: calls.append(a))
    path = str(write_export(tmp_path / "e.csv", noisy_rows(50, seed=1)))
    assert cli("audit", path, "--jobs", "4")[0] == 0  # far under PART_BYTES
    monkeypatch.setattr(parallel, "PART_BYTES", 64)
    assert cli("audit", path, "--jobs", "1")[0] == 0
    assert runner.invoke(app, ["audit", "-", "--jobs", "4", "--matrix", str(MATRIX_PATH)],
                         input=Path(path).read_text()).exit_code == 0
    assert calls == []
    assert cli("audit", path, "--jobs", "0")[0] == 2


TEST_PROCESS = os.getpid()
_real_part = parallel._part


def _in_a_worker(failure):
    """A part that fails in a worker process; in this process, the real part, slowly, so workers take parts."""

    def part(*args):
        if os.getpid() == TEST_PROCESS:
            time.sleep(0.05)
            return _real_part(*args)
        failure()

    return part


def _crash_raising():
    raise TriageError("e.csv: the disk went away")


def _crash_bug():
    raise ZeroDivisionError("division by zero")


def _crash_exit():
    os._exit(3)


@pytest.mark.parametrize(("worker", "message"), [
    (_crash_raising, "error: e.csv: the disk went away"),
    (_crash_bug, "a worker process failed: ZeroDivisionError: division by zero"),
    (_crash_exit, "a worker process stopped without finishing its part (exit code 3)"),
])
def test_a_failing_worker_is_one_line_and_exit_1(tmp_path, small_parts, monkeypatch, worker, message):
    monkeypatch.setattr(parallel, "_part", _in_a_worker(worker))
    path = str(write_export(tmp_path / "e.csv", noisy_rows(200, seed=2)))
    code, out, err = cli("audit", path, "--jobs", "2", "--output", str(tmp_path / "report.md"))
    assert code == 1
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err  # after the first part's bad rows
    assert not (tmp_path / "report.md").exists()


def test_part_starts_are_line_starts(tmp_path):
    data = b"header\n" + b"".join(b"x" * (i % 37) + b"\n" for i in range(500))
    path = tmp_path / "f"
    path.write_bytes(data)
    with path.open("rb") as handle:
        for parts in (1, 2, 3, 7, 50):
            starts = part_starts(handle, parts, skip=7)
            assert starts[0] == 7 and starts == sorted(set(starts)) and len(starts) <= parts
            assert all(data[s - 1:s] == b"\n" for s in starts)
        assert part_starts(handle, 4, skip=len(data)) == [len(data)]
        assert count_lines(handle, 0, len(data)) == (501, len(data))
        assert count_lines(handle, 7, len(data), stop=3)[1] == 7 + sum(len(b"x" * (i % 37) + b"\n") for i in range(3))


def _one_pass_and_parts(matrix, path: Path, jobs: int) -> tuple[dict, dict]:
    reader = Reader(load_mapping("generic", lambda p: b""), levels=set(matrix.levels), questions=matrix.kinds,
                    packet_fields=[f.id for f in matrix.model.handoff_packet], zone=NEW_YORK)
    options = audit_mod.Options()
    with path.open("rb") as handle:
        whole = audit_mod.to_json(audit_mod.run(matrix, reader.batches(CsvRows(blocks=line_blocks(handle))), options))
    with path.open("rb") as handle:
        items = parallel.read_parts(str(path), handle, reader.batches, audit_mod.part_runner(matrix, options),
                                    jobs=jobs, shown=20)
        if items is None:  # too small to split even at this part size: read in one pass, as the command does
            return whole, whole
        merged = (item.result if isinstance(item, parallel.Portion) else item for item in items)
        split = audit_mod.to_json(audit_mod.run(matrix, merged, options))
    return whole, split


quoted_cells = st.one_of(st.sampled_from(["", "?", "3", "sev1", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00-05:00",
                                          "a;b", "x\ny", '"', "\r", "\n\n", "T-1"]), st.text(max_size=8))


@given(st.lists(st.lists(quoted_cells, min_size=1, max_size=12), max_size=40), st.integers(2, 6),
       st.integers(8, 200))
def test_any_export_in_any_parts_is_one_pass(matrix, tmp_path_factory, rows, jobs, part_bytes):
    """Cuts anywhere: inside quoted cells that span lines, next to blank lines, rows with any cell count."""
    path = tmp_path_factory.mktemp("parts") / "e.csv"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8", "surrogatepass"))
    old = parallel.PART_BYTES
    parallel.PART_BYTES = part_bytes
    try:
        whole, split = _one_pass_and_parts(matrix, path, jobs)
    finally:
        parallel.PART_BYTES = old
    assert split == whole


@pytest.mark.parametrize("header", [b'ticket,"severity\n', b"ticket,s\xe9verity\n"])
def test_a_header_that_cannot_be_cut_after_is_read_in_one_pass_from_the_start(tmp_path, small_parts, header):
    """A header over two lines or not UTF-8 is no place to cut: the file is read in one pass, header included."""
    rows = "".join(f"T-{i},3,2026-11-02T10:00:00Z,2026-11-02T10:30:00Z\n" for i in range(200)).encode()
    path = tmp_path / "e.csv"
    path.write_bytes(header + b'",created_at,acknowledged_at\n' + rows if header.endswith(b'"severity\n')
                     else header.rstrip(b"\n") + b",created_at,acknowledged_at\n" + rows)
    one = cli("audit", str(path), "--format", "json", "--jobs", "1")
    assert cli("audit", str(path), "--format", "json", "--jobs", "3") == one
