"""Benchmark: `triage audit` on a generated export of one million tickets, and on a generated event log of
five million events, each against a plain loop that only reads the same file with Python's CSV reader;
prints the time and peak memory of each, and the ratio of the audit's time to the loop's in the same run.

Run: .venv/bin/python bench/audit_bench.py [--tickets 1000000] [--events 5000000] [--runs 3]
Targets: tickets in no more than 1.0 x the plain loop's time and under 500 MB; the event log under 1 GB.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = str(Path(sys.executable).with_name("triage"))
PLAIN = """
import csv, sys
rows = 0
with open(sys.argv[1], newline="") as handle:
    for row in csv.reader(handle):
        rows += 1
print(rows)
"""


def generate(path: Path, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "escalated_at",
                         "resolved_at", "updates", "reassignments", "tags", "account"])
        for i in range(count):
            level = rng.choices([1, 2, 3, 4], weights=[2, 8, 50, 40])[0]
            created = start + timedelta(seconds=rng.randrange(0, 365 * 86400))
            scale = {1: 10, 2: 30, 3: 200, 4: 400}[level]
            ack = created + timedelta(minutes=rng.expovariate(1 / scale))
            assigned = ack + timedelta(minutes=rng.expovariate(1 / scale))
            escalated = assigned + timedelta(minutes=rng.expovariate(1 / scale)) if rng.random() < 0.3 else None
            resolved = assigned + timedelta(minutes=rng.expovariate(1 / (scale * 10)))
            updates, moment = [], ack
            for _ in range(rng.randrange(0, 4)):
                moment += timedelta(minutes=rng.expovariate(1 / scale))
                updates.append(moment.isoformat(timespec="seconds"))
            writer.writerow([f"T-{i}", level, created.isoformat(timespec="seconds"), ack.isoformat(timespec="seconds"),
                             assigned.isoformat(timespec="seconds"),
                             escalated.isoformat(timespec="seconds") if escalated else "",
                             resolved.isoformat(timespec="seconds"), ";".join(updates), rng.choice([0, 0, 0, 1, 2, 3]),
                             rng.choice(["", "login", "export", "billing", "sso"]), f"account-{rng.randrange(5000)}"])


def generate_events(path: Path, count: int, seed: int = 2) -> None:
    """An event log in the generic-events shape: created, acknowledged, assigned, some escalated and
    customer updates, resolved; about five events per ticket, `count` events in all."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    written, ticket = 0, 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "at", "event", "severity", "account", "tags"])
        while written < count:
            level = rng.choices([1, 2, 3, 4], weights=[2, 8, 50, 40])[0]
            scale = {1: 10, 2: 30, 3: 200, 4: 400}[level]
            moment = start + timedelta(seconds=rng.randrange(0, 365 * 86400))
            ref, account = f"T-{ticket}", f"account-{rng.randrange(5000)}"
            kinds = ["created", "acknowledged", "assigned"]
            kinds += ["escalated"] if rng.random() < 0.3 else []
            kinds += ["customer_update"] * rng.randrange(0, 3) + ["resolved"]
            for kind in kinds[:count - written]:
                writer.writerow([ref, moment.isoformat(timespec="seconds"), kind, level, account,
                                 rng.choice(["", "login", "export", "billing", "sso"])])
                moment += timedelta(minutes=rng.expovariate(1 / scale))
                written += 1
            ticket += 1


def _tree_memory(pid: int) -> int:
    """kB that a process and all its descendants hold now: their proportional set sizes (pages shared after a
    fork counted once between them), or resident sizes where the kernel does not give that."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
        except (OSError, StopIteration):
            try:
                with open(f"/proc/{current}/status") as handle:
                    total += next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
            except OSError:
                pass
        try:
            with open(f"/proc/{current}/task/{current}/children") as handle:
                pending += [int(child) for child in handle.read().split()]
        except OSError:
            pass
    return total


def measure(cmd: list[str]) -> tuple[float, float]:
    """Seconds from start to exit, and the peak memory (MB) of the command with every process it starts,
    sampled every 50 ms (and never under the largest single process's own peak, which the kernel keeps)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_memory(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if process.returncode:
        raise SystemExit(f"{cmd[0]} failed with exit code {process.returncode}")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB: the largest process waited for so far
    return seconds, max(peak, largest if largest > before else 0) / 1024


def compare(label: str, export: Path, plain: Path, runs: int) -> tuple[float, float, float, float]:
    """The plain loop and the audit over one file, in turns; the median times and the highest peaks."""
    audit = [TRIAGE, "audit", str(export), "--format", "json", "--matrix", str(ROOT / "matrix.yaml")]
    results: dict[str, list[tuple[float, float]]] = {"plain": [], "audit": []}
    for _ in range(runs):  # in turns, so that a change in the machine's load weighs on each alike
        results["plain"].append(measure([sys.executable, str(plain), str(export)]))
        results["audit"].append(measure(audit))
    (t_plain, m_plain), (t_audit, m_audit) = (
        (statistics.median(t for t, _ in results[k]), max(m for _, m in results[k])) for k in ("plain", "audit"))
    print(f"{label}: median of {runs} runs taken in turns; memory: the highest peak")
    print(f"  plain CSV read loop        {t_plain:5.1f} s  {m_plain:6.0f} MB")
    print(f"  triage audit --format json {t_audit:5.1f} s  {m_audit:6.0f} MB  = {t_audit / t_plain:.2f} x the "
          "plain loop")
    return t_plain, m_plain, t_audit, m_audit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export, events, plain = Path(tmp) / "export.csv", Path(tmp) / "events.csv", Path(tmp) / "plain.py"
        plain.write_text(PLAIN)
        started = time.perf_counter()
        generate(export, args.tickets)
        print(f"generated {args.tickets:,} tickets ({export.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - started:.0f} s")
        t_plain, _, t_audit, m_audit = compare("one row per ticket", export, plain, args.runs)
        print(f"  targets: <= 1.0 x the plain loop ({'met' if t_audit <= t_plain else 'NOT met'}), "
              f"< 500 MB ({'met' if m_audit < 500 else 'NOT met'})")
        export.unlink()
        if args.events:
            started = time.perf_counter()
            generate_events(events, args.events)
            print(f"generated {args.events:,} events ({events.stat().st_size / 1e6:.0f} MB) in "
                  f"{time.perf_counter() - started:.0f} s")
            _, _, _, m_events = compare("event log", events, plain, args.runs)
            print(f"  target: < 1 GB ({'met' if m_events < 1000 else 'NOT met'})")


if __name__ == "__main__":
    main()
