"""Runs a corpus of triage commands and writes what each printed, for comparing two trees.

    python bench/output_corpus.py OUT.json            # with the triage installed in this environment
    python bench/output_corpus.py OLD.json NEW.json --compare

Every command runs in a fresh working directory with its own history file and fixed times (`--at`), so two
runs of the same tree print the same bytes. A change of behaviour shows up as a differing entry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BPIC = ROOT.parent / "shared" / "data" / "bpic2013_closed_problems.csv"
AT = "2027-01-05T10:00"

ASK = ["ask", "--no-input", "--at", AT, "-a", "confirmed=yes", "-a", "scope=many_accounts",
       "-a", "impact=workflow_blocked", "-a", "workaround=none", "-a", "security=no", "-a", "areas=billing",
       "-a", "vendor=no", "-a", "deadline=yes", "-a", "strategic_account=yes"]
SMALL = ["ask", "--no-input", "--at", AT, "-a", "confirmed=yes", "-a", "scope=one_user", "-a", "impact=none",
         "-a", "workaround=available", "-a", "security=no", "-a", "areas=", "-a", "vendor=no", "-a", "deadline=no",
         "-a", "strategic_account=no"]

CLASSIFY_INPUT = (
    "\n".join(
        json.dumps(r)
        for r in [
            {
                "ticket": "A1",
                "confirmed": True,
                "scope": "system_wide",
                "impact": "service_unavailable",
                "workaround": "none",
                "security": False,
                "areas": [],
                "vendor": False,
                "deadline": False,
                "strategic_account": False,
            },
            {
                "confirmed": "yes",
                "scope": "one_user",
                "impact": "inconvenient",
                "workaround": "available",
                "security": "no",
                "areas": "billing,payroll",
                "vendor": "yes",
                "deadline": "no",
                "strategic_account": "no",
            },
            {"confirmed": "maybe"},
            {
                "ticket": "A4\u202e",
                "confirmed": False,
                "scope": "one_account",
                "impact": "revenue_risk",
                "workaround": "limited",
                "security": True,
                "areas": ["compliance"],
                "vendor": False,
                "deadline": True,
                "strategic_account": True,
                "at": "2027-03-14T01:30:00-05:00",
            },
            "not a record",
        ]
    )
    + "\n{broken\n"
)

COMMANDS: list[tuple[str, list[str]]] = [
    ("version", ["--version"]),
    ("help", ["--help"]),
    ("validate", ["validate", "matrix.yaml"]),
    ("validate-json", ["validate", "matrix.yaml", "tests/matrices/priority_grid.yaml", "-f", "json"]),
    ("validate-github", ["validate", "tests/matrices/vendor_policy.yaml", "-f", "github", "--strict"]),
    ("validate-roster", ["validate", "roster.yaml"]),
    ("validate-missing", ["validate", "nope.yaml"]),
    ("schema", ["schema"]),
    ("schema-roster", ["schema", "--roster"]),
    ("show-md", ["show", "-f", "markdown"]),
    ("show-html", ["show", "-f", "html"]),
    ("show-text", ["show"]),
    ("show-grid", ["show", "-m", "tests/matrices/priority_grid.yaml", "-f", "markdown"]),
    ("diff-md", ["diff", "matrix.yaml", "tests/matrices/vendor_policy.yaml"]),
    ("diff-json", ["diff", "matrix.yaml", "tests/matrices/priority_grid.yaml", "-f", "json"]),
    ("ask-text", ASK + ["--ticket", "INC-1", "--no-record"]),
    ("ask-md", ASK + ["--ticket", "INC-1", "--no-record", "-f", "markdown"]),
    ("ask-json", ASK + ["--ticket", "INC-1", "--no-record", "-f", "json"]),
    ("ask-small-json", SMALL + ["--no-record", "-f", "json", "--timezone", "Europe/Paris"]),
    ("ask-override", SMALL + ["--no-record", "--severity", "2", "--reason", "CFO \x1b[31mescalated", "-f", "json"]),
    ("ask-missing", ["ask", "--no-input", "--at", AT, "-a", "confirmed=yes"]),
    ("ask-bad", ["ask", "--no-input", "--at", AT, "-a", "scope=lots"]),
    ("ask-grid", ["ask", "--no-input", "--at", AT, "-m", "tests/matrices/priority_grid.yaml", "--no-record",
                  "-f", "json"]),
    ("classify", ["classify", "in.jsonl", "--at", AT]),
    ("classify-csv", ["classify", "in.jsonl", "--at", AT, "-f", "csv"]),
    ("classify-full", ["classify", "in.jsonl", "--at", AT, "--full"]),
    ("classify-csvin", ["classify", "in.csv", "--at", AT]),
    ("record", ASK + ["--ticket", "INC-2", "--history", "h.sqlite"]),
    ("update", ["update", "INC-2", "--at", "2027-01-05T11:00", "--impact", "Exports fail\u202e", "--actions",
                "Restarted", "--next-step", "Patch", "--history", "h.sqlite"]),
    ("update-json", ["update", "INC-2", "--at", "2027-01-05T11:30", "--impact", "Exports fail\u0085", "--actions",
                     "Restarted", "--next-step", "Patch", "--history", "h.sqlite", "-f", "json"]),
    ("update-md", ["update", "INC-2", "--at", "2027-01-05T13:30", "--impact", "Still", "--actions",
                   "More", "--next-step", "Wait", "--history", "h.sqlite", "-f", "markdown"]),
    ("handoff", ["handoff", "INC-2", "--to", "engineering_oncall", "--at", "2027-01-05T14:00", "--packet",
                 "reproduction_steps=Open the export", "--history", "h.sqlite"]),
    ("handoff-json", ["handoff", "INC-2", "--to", "engineering_oncall", "--at", "2027-01-05T14:10", "--packet",
                      "reproduction_steps=Open\u202e", "--history", "h.sqlite", "-f", "json"]),
    ("retriage", ["retriage", "INC-2", "--at", "2027-01-05T15:00", "--reason", "wider", "-a", "scope=system_wide",
                  "--history", "h.sqlite", "-f", "json"]),
    ("close-json", ["close", "INC-2", "--at", "2027-01-06T15:00", "--history", "h.sqlite", "-f", "json",
                    "--item", "impact_ended=yes", "--item", "final_message=yes", "--item", "knowledge_article=KB-1",
                    "--item", "trend_tags=exports"]),
    ("history", ["history", "--history", "h.sqlite"]),
    ("history-one-json", ["history", "INC-2", "--history", "h.sqlite", "-f", "json"]),
    ("history-csv", ["history", "--history", "h.sqlite", "-f", "csv"]),
    ("audit-text", ["audit", "examples/tickets.csv"]),
    ("audit-json", ["audit", "examples/tickets.csv", "-f", "json"]),
    ("audit-md", ["audit", "examples/tickets.csv", "-f", "markdown"]),
    ("audit-html", ["audit", "examples/tickets.csv", "-f", "html"]),
    ("audit-bpic", ["audit", str(BPIC), "--mapping", "bpic2013", "-f", "json"]),
    ("review", ["review", "examples/tickets.csv", "--at", AT]),
    ("capacity-json", ["capacity", "examples/tickets.csv", "--roster", "roster.yaml", "-f", "json"]),
    ("capacity-text", ["capacity", "examples/tickets.csv", "--roster", "roster.yaml"]),
    ("capacity-md", ["capacity", "examples/tickets.csv", "--roster", "roster.yaml", "-f", "markdown",
                     "--what-if", "sev2.acknowledge=30m"]),
    ("bogus", ["--bogus"]),
]

CSV_INPUT = ("ticket,confirmed,scope,impact,workaround,security,areas,vendor,deadline,strategic_account\n"
             "C1,yes,many_accounts,revenue_risk,none,no,billing,no,no,no\n"
             "C2,no,one_user,none,available,no,,no,no,yes\n")


def run(out: Path) -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("matrix.yaml", "roster.yaml"):
            shutil.copy(ROOT / name, work / name)
        shutil.copytree(ROOT / "tests" / "matrices", work / "tests" / "matrices")
        shutil.copytree(ROOT / "examples", work / "examples")
        (work / "in.jsonl").write_text(CLASSIFY_INPUT, encoding="utf-8")
        (work / "in.csv").write_text(CSV_INPUT, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
        env.update(COLUMNS="100", NO_COLOR="1", TERM="dumb", HOME=str(work), XDG_DATA_HOME=str(work / "data"),
                   XDG_CACHE_HOME=str(work / "cache"), TRIAGE_HISTORY=str(work / "default.sqlite"))
        for name, args in COMMANDS:
            done = subprocess.run([sys.executable, "-m", "triage", *args], cwd=work, env=env, capture_output=True,
                                  stdin=subprocess.DEVNULL)
            results[name] = {"args": args, "code": done.returncode,
                             "stdout": done.stdout.decode("utf-8", "backslashreplace").replace(tmp, "<tmp>"),
                             "stderr": done.stderr.decode("utf-8", "backslashreplace").replace(tmp, "<tmp>")}
    out.write_text(json.dumps(results, indent=1, ensure_ascii=True) + "\n")
    print(f"{len(results)} commands written to {out}")


def compare(old: Path, new: Path) -> int:
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    differing = [n for n in a if a[n] != b.get(n)]
    for name in differing:
        for part in ("code", "stdout", "stderr"):
            if a[name][part] != b.get(name, {}).get(part):
                print(f"{name}: {part} differs")
    print(f"{len(a) - len(differing)} of {len(a)} commands print the same bytes")
    return 1 if differing else 0


if __name__ == "__main__":
    if "--compare" in sys.argv:
        sys.exit(compare(Path(sys.argv[1]), Path(sys.argv[2])))
    run(Path(sys.argv[1]))
