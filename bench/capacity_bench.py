"""Benchmark: `triage capacity` on a year of generated history (500,000 tickets), with a roster sized for it.

Prints: the plain CSV read loop over the same file (the baseline), reading the export into demand with the
audit readers, the replay alone (target: under 10 seconds on this machine), the queueing estimate, and the
whole `triage capacity` command (estimate, replay, goal search and one what-if).

Run: .venv/bin/python bench/capacity_bench.py [--tickets 500000]
     .venv/bin/python bench/capacity_bench.py --sample examples/tickets.csv --tickets 3000   (the README's export)
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from audit_bench import PLAIN  # the same plain read loop as the audit benchmark

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = str(Path(sys.executable).with_name("triage"))
NEW_YORK = ZoneInfo("America/New_York")
ROSTER = """\
roster_version: 1
name: Large support desk (benchmark)
timezone: America/New_York
holidays: business_hours
effort:
  default: {acknowledge: 10m, assign_owner: 15m, update: 10m}
  sev1: {acknowledge: 15m, assign_owner: 10m, update: 20m}
roles:
  frontline:
    - {days: mon-fri, hours: "08:00-18:00", people: 70}
    - {days: daily, hours: "18:00-08:00", people: 14, holidays: none}
    - {days: sat-sun, hours: "08:00-18:00", people: 14, holidays: none}
  specialist:
    - {days: mon-fri, hours: "09:00-17:00", people: 14}
    - {days: daily, hours: "17:00-09:00", people: 5, holidays: none}
    - {days: sat-sun, hours: "09:00-17:00", people: 5, holidays: none}
  support_lead:
    - {days: daily, hours: "08:00-08:00", people: 2, holidays: none}
"""


def weight(moment: datetime) -> float:
    """Tickets arrive mostly on weekday working hours, fewer in the evening, at night and at weekends."""
    weekend = moment.weekday() >= 5
    hour = moment.hour
    if 9 <= hour < 17:
        return 1.0 if weekend else 3.0
    if 7 <= hour < 20:
        return 0.6 if weekend else 1.5
    return 0.4


def generate(path: Path, count: int, *, days: int = 364, seed: int = 11) -> None:
    """A generic ticket export: `count` tickets over `days` from Monday 4 January 2027 (New York). Most are
    resolved, at random, within about their severity's resolution target (one in twenty is still open);
    each has its first response, assignment, customer updates and the hands-on minutes the desk tracked."""
    rng = random.Random(seed)
    start = datetime(2027, 1, 4, tzinfo=NEW_YORK)
    hours = [start + timedelta(hours=h) for h in range(days * 24)]
    weights = [weight(h) for h in hours]
    picks = sorted(rng.choices(range(len(hours)), weights=weights, k=count))
    mean_hours = {1: 3, 2: 12, 3: 30, 4: 60}
    first_response = {1: 8, 2: 15, 3: 90, 4: 180}  # minutes, on average
    cadence = {1: 30, 2: 60, 3: 1440, 4: 4800}  # minutes between customer updates, roughly
    stamp = lambda moment: moment.isoformat(timespec="seconds")  # noqa: E731
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket", "severity", "created_at", "acknowledged_at", "assigned_at", "resolved_at",
                         "updates", "time_spent"])
        for i, pick in enumerate(picks):
            created = hours[pick] + timedelta(seconds=rng.randrange(3600))
            level = rng.choices((1, 2, 3, 4), weights=(0.5, 5, 45, 49.5))[0]
            resolved = (
                created + timedelta(hours=rng.expovariate(1 / mean_hours[level])) if rng.random() > 0.05 else None
            )
            acknowledged = created + timedelta(minutes=rng.expovariate(1 / first_response[level]))
            assigned = acknowledged + timedelta(minutes=rng.expovariate(1 / 20)) if level <= 2 else acknowledged
            updates, moment = [], acknowledged
            end = resolved or created + timedelta(hours=mean_hours[level])
            while True:
                moment += timedelta(minutes=rng.expovariate(1 / (cadence[level] * 0.8)))
                if moment >= end or len(updates) >= 40:
                    break
                updates.append(stamp(moment))
            spent = (11 + (15 if level <= 2 else 0) + 11 * len(updates)) * rng.lognormvariate(0, 0.3)
            writer.writerow([f"T-{i}", level, stamp(created), stamp(acknowledged), stamp(assigned),
                             stamp(resolved) if resolved else "?", ";".join(updates), round(spent)])


def timed(cmd: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=500_000)
    parser.add_argument("--sample", type=Path, help="only write a generated export here and stop")
    args = parser.parse_args()
    if args.sample:
        generate(args.sample, args.tickets, days=91)
        print(f"wrote {args.sample}: {args.tickets:,} tickets over 13 weeks")
        return

    sys.path.insert(0, str(ROOT / "src"))
    from triage.capacity import demand as demand_mod
    from triage.capacity import queueing
    from triage.capacity import replay as replay_mod
    from triage.capacity.roster import read_roster
    from triage.cli.audit import items
    from triage.matrix.loader import read_matrix

    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "year.csv"
        roster_path = Path(tmp) / "roster.yaml"
        roster_path.write_text(ROSTER)
        began = time.perf_counter()
        generate(export, args.tickets)
        print(f"generated {args.tickets:,} tickets over a year ({export.stat().st_size / 1e6:.0f} MB) "
              f"in {time.perf_counter() - began:.1f} s")

        baseline = timed([sys.executable, "-c", PLAIN, str(export)])
        matrix = read_matrix((ROOT / "matrix.yaml").read_bytes(), "matrix.yaml")
        roster = read_roster(roster_path.read_bytes(), str(roster_path), matrix)
        began = time.perf_counter()
        demand = demand_mod.demand_from_tickets(matrix, items([str(export)], matrix, None, None, None))
        reading = time.perf_counter() - began
        plan = demand_mod.plans(matrix, roster)
        began = time.perf_counter()
        result = replay_mod.replay(demand, plan, roster, roster.zone)
        replaying = time.perf_counter() - began
        monday = datetime(2027, 1, 4).date()
        people = {role: roster.week(role, monday) for role in roster.roles}
        began = time.perf_counter()
        work = demand_mod.workload(demand, plan, roster.zone, people)
        queueing.estimate(work, plan, people)
        estimating = time.perf_counter() - began
        whole = timed([TRIAGE, "capacity", str(export), "--matrix", str(ROOT / "matrix.yaml"), "--roster",
                       str(roster_path), "--goal", "90%", "--what-if", "sev2.acknowledge=15m", "--format", "json"])

    shares = ", ".join(f"sev{lvl} {step} {good / total:.0%}"
                       for (lvl, step), (good, total) in sorted(result.met.items()) if total and step == "acknowledge")
    print(f"tickets replayed:          {len(demand.arrivals):,} ({result.tasks:,} tasks: acknowledgements, "
          f"handoffs, updates)")
    print(f"plain CSV read loop:       {baseline:6.2f} s  (baseline)")
    print(f"read export into demand:   {reading:6.2f} s  ({reading / baseline:.1f} x the read loop)")
    print(f"replay:                    {replaying:6.2f} s  ({result.tasks / replaying:,.0f} tasks/s; target < 10 s: "
          f"{'met' if replaying < 10 else 'NOT met'})")
    print(f"queueing estimate:         {estimating:6.2f} s")
    print(f"whole triage capacity:     {whole:6.2f} s  ({whole / baseline:.1f} x the read loop; read, estimate, "
          "replay, goal search, one what-if)")
    print(f"acknowledged on time:      {shares}")
    if not math.isfinite(replaying):
        sys.exit(1)


if __name__ == "__main__":
    main()
