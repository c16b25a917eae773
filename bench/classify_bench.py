"""Benchmark: `triage classify` throughput and memory, and start-up times, each against a baseline
measured in the same run.

Run: .venv/bin/python bench/classify_bench.py [--records 200000] [--memory-records 2000000]

Figures printed:
- throughput of `triage classify` on N generated records, against a bare loop that only parses and
  re-serialises each record with orjson (the floor) and against jq applying the same severity decision,
  the three taken in turns (median of --runs rounds, 5 by default);
- peak memory (max RSS) for N and for 10 x N records;
- start-up of `triage --version` and `triage validate matrix.yaml` against a minimal Typer program, and
  time to the first question against a minimal Typer + questionary program showing one select.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
TRIAGE = str(Path(PY).with_name("triage"))
AT = "2026-11-27T10:00:00Z"

CHOICES = {
    "confirmed": ["yes", "no"], "scope": ["one_user", "one_account", "many_accounts", "system_wide"],
    "impact": ["none", "inconvenient", "workflow_blocked", "revenue_risk", "service_unavailable"],
    "workaround": ["available", "limited", "none"], "security": ["no", "no", "no", "yes"],
    "vendor": ["no", "yes"], "deadline": ["no", "no", "yes"], "strategic_account": ["no", "yes"],
}
AREAS = ["billing", "payroll", "invoicing", "permissions", "compliance"]

FLOOR = """
import sys, orjson
out = sys.stdout.buffer
for line in open(sys.argv[1], "rb"):
    if line.strip():
        out.write(orjson.dumps(orjson.loads(line)) + b"\\n")
"""

MINI_TYPER = """
import typer
app = typer.Typer()
@app.command()
def main(version: bool = typer.Option(False, "--version")):
    print("mini 1.0")
app()
"""

MINI_TYPER_SAME_SETTINGS = MINI_TYPER.replace("typer.Typer()", "typer.Typer(add_completion=False, "
                                              "pretty_exceptions_enable=False, rich_markup_mode=None)")

MINI_QUESTIONARY = """
import typer, questionary
app = typer.Typer()
@app.command()
def main():
    questionary.select("Is the problem confirmed?", choices=["Yes", "No"]).unsafe_ask()
app()
"""


# A queue as support teams see it: mostly single users and questions, rarely outages or security.
SKEWED = {
    "confirmed": {"yes": 70, "no": 30},
    "scope": {"one_user": 55, "one_account": 35, "many_accounts": 8, "system_wide": 2},
    "impact": {"none": 40, "inconvenient": 35, "workflow_blocked": 18, "revenue_risk": 5, "service_unavailable": 2},
    "workaround": {"available": 60, "limited": 25, "none": 15},
    "security": {"no": 99, "yes": 1}, "vendor": {"no": 95, "yes": 5}, "deadline": {"no": 95, "yes": 5},
    "strategic_account": {"no": 90, "yes": 10},
}


def generate(path: Path, count: int, *, with_times: bool = False, seed: int = 7, skewed: bool = False) -> None:
    """`count` records: each answer drawn at random from its choices (the whole answer space of 61,440
    combinations is reachable; 200,000 records hold about 29,000 distinct ones), or skewed like a real queue."""
    rng = random.Random(seed)
    with path.open("w") as out:
        for i in range(count):
            record = {"ticket": f"T-{i}"}
            for q, values in CHOICES.items():
                if skewed:
                    weights = SKEWED[q]
                    record[q] = rng.choices(list(weights), weights=list(weights.values()))[0]
                else:
                    record[q] = rng.choice(values)
            record["areas"] = [a for a in AREAS if rng.random() < (0.03 if skewed else 0.15)]
            if with_times:
                record["at"] = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:" \
                               f"{rng.randint(0, 59):02d}:00Z"
            out.write(json.dumps(record) + "\n")


def timed(cmd: list[str], *, runs: int, stdin: Path | None = None) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with open(stdin or os.devnull, "rb") as source:
            done = subprocess.run(cmd, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0,):
            raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return statistics.median(times)


def peak_rss_mb(cmd: list[str]) -> float:
    probe = ("import resource, subprocess, sys\n"
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([PY, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    return int(done.stdout.strip()) / 1024


def first_question(cmd: list[str], prompt: str) -> float:
    import pexpect

    env = {**os.environ, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    start = time.perf_counter()
    child = pexpect.spawn(cmd[0], cmd[1:], env=env, timeout=30, dimensions=(40, 100), cwd=str(ROOT))
    child.expect_exact(prompt)
    took = time.perf_counter() - start
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    return took


def interleaved(measures: dict[str, Any], *, runs: int) -> dict[str, float]:
    """Median of `runs` of each measure, taken in turns (a, b, c, a, b, c, ...), so that a change in the
    machine's load during the run weighs on every measure alike."""
    times: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            times[name].append(measure())
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--memory-records", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    n = args.records
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        timed_data, big = tmpdir / "records-at.jsonl", tmpdir / "big.jsonl"
        floor = tmpdir / "floor.py"
        floor.write_text(FLOOR)
        matrix = ["--matrix", str(ROOT / "matrix.yaml")]
        rate = lambda t: n / t  # noqa: E731
        jq = shutil.which("jq")
        for label, skewed, floor_target, jq_target in (
                ("answers skewed like a real queue", True, 0.25, 1.5),
                ("answers drawn at random over all 61,440 combinations", False, None, 0.5)):
            data = tmpdir / f"records-{skewed}.jsonl"
            generate(data, n, skewed=skewed)
            print(f"classify: {n:,} records ({data.stat().st_size / 1e6:.0f} MB), {label}; median of {args.runs} "
                  "runs taken in turns")
            measures = {"floor": lambda data=data: timed([PY, str(floor), str(data)], runs=1),
                        "triage": lambda data=data: timed([TRIAGE, "classify", str(data), "--at", AT, *matrix], runs=1)}
            if jq:
                measures["jq"] = lambda data=data: timed([jq, "-c", "-f", str(HERE / "decide.jq"), str(data)], runs=1)
            took = interleaved(measures, runs=args.runs)
            t_floor, t_triage = took["floor"], took["triage"]
            print(f"  floor (orjson parse + serialise)  {t_floor:7.2f} s  {rate(t_floor):>10,.0f} records/s")
            print(f"  triage classify                   {t_triage:7.2f} s  {rate(t_triage):>10,.0f} records/s"
                  f"  = {t_floor / t_triage:.2f} x the floor's throughput"
                  + (f" (target >= {floor_target})" if floor_target else ""))
            if jq:
                t_jq = took["jq"]
                print(f"  jq, the same severity decision    {t_jq:7.2f} s  {rate(t_jq):>10,.0f} records/s"
                      f"  -> triage runs at {t_jq / t_triage:.2f} x jq's throughput (target >= {jq_target})")
            else:
                print("  jq not installed: skipped")
        generate(timed_data, n, with_times=True, skewed=True)
        t_triage_at = timed([TRIAGE, "classify", str(timed_data), *matrix], runs=args.runs)
        print(f"  skewed answers, each record with its own triage time: {t_triage_at:.2f} s, "
              f"{rate(t_triage_at):,.0f} records/s")

        generate(big, args.memory_records, with_times=True, seed=11, skewed=True)
        small_rss = peak_rss_mb([TRIAGE, "classify", str(timed_data), "--matrix", str(ROOT / "matrix.yaml")])
        big_rss = peak_rss_mb([TRIAGE, "classify", str(big), "--matrix", str(ROOT / "matrix.yaml")])
        print("peak memory (max RSS), records with a time each")
        print(f"  {n:>10,} records  {small_rss:6.1f} MB")
        print(f"  {args.memory_records:>10,} records  {big_rss:6.1f} MB  = {big_rss / small_rss:.2f} x (target <= 1.2)")

        mini, mini_same, mini_q = tmpdir / "mini.py", tmpdir / "mini_same.py", tmpdir / "mini_q.py"
        mini.write_text(MINI_TYPER)
        mini_same.write_text(MINI_TYPER_SAME_SETTINGS)
        mini_q.write_text(MINI_QUESTIONARY)
        # Measure triage as installed: pip byte-compiles an installed package, an editable checkout may not
        # have been (and PYTHONDONTWRITEBYTECODE stops Python from caching it), so compile it first.
        import compileall

        compileall.compile_dir(str(ROOT / "src"), quiet=1)
        runs = 21
        started = interleaved({
            "mini": lambda: timed([PY, str(mini), "--version"], runs=1),
            "mini_same": lambda: timed([PY, str(mini_same), "--version"], runs=1),
            "version": lambda: timed([TRIAGE, "--version"], runs=1),
            "validate": lambda: timed([TRIAGE, "validate", str(ROOT / "matrix.yaml")], runs=1)}, runs=runs)
        t_mini, t_mini_same, t_version, t_validate = (started[k] for k in ("mini", "mini_same", "version", "validate"))
        print(f"start-up, median of {runs} runs taken in turns")
        print(f"  minimal Typer program --version   {t_mini * 1000:6.0f} ms  (with our Typer settings: "
              f"{t_mini_same * 1000:.0f} ms)")
        print(f"  triage --version                  {t_version * 1000:6.0f} ms  = {t_version / t_mini:.2f} x")
        print(f"  triage validate matrix.yaml       {t_validate * 1000:6.0f} ms  = {t_validate / t_mini:.2f} x")
        asked = interleaved({
            "mini": lambda: first_question([PY, str(mini_q)], "Is the problem confirmed?"),
            "triage": lambda: first_question([TRIAGE, "ask", "--ticket", "B-1", "--matrix", str(ROOT / "matrix.yaml")],
                                             "Is the problem confirmed?")}, runs=11)
        t_q_mini, t_q = asked["mini"], asked["triage"]
        print(f"  first question, Typer+questionary {t_q_mini * 1000:6.0f} ms")
        print(f"  first question, triage ask        {t_q * 1000:6.0f} ms  = {t_q / t_q_mini:.2f} x (target <= 1.6)")


if __name__ == "__main__":
    main()
