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
    ("audit-generated", ["audit", "generated.csv", "-f", "json", "--window", "3", "--repeat", "4"]),
    ("audit-generated-ny", ["audit", "generated.csv", "-f", "json", "-m", "tests/matrices/vendor_policy.yaml"]),
    ("audit-zendesk", ["audit", "zendesk.csv", "-f", "json", "--timezone", "UTC"]),
    ("audit-freshdesk", ["audit", "freshdesk.csv", "-f", "json"]),
    ("audit-jira", ["audit", "jira.csv", "-f", "json", "--timezone", "UTC"]),
    ("audit-events", ["audit", "events.jsonl", "-f", "json"]),
    ("audit-tickets-jsonl", ["audit", "tickets.jsonl", "-f", "json"]),
    ("audit-service-desk", ["audit", "incidents.csv", "--mapping", "service-desk.yaml", "-f", "json"]),
    ("capacity-json", ["capacity", "examples/tickets.csv", "--roster", "roster.yaml", "-f", "json"]),
    ("capacity-text", ["capacity", "examples/tickets.csv", "--roster", "roster.yaml"]),
    ("capacity-md", ["capacity", "examples/tickets.csv", "--roster", "roster.yaml", "-f", "markdown",
                     "--what-if", "sev2.acknowledge=30m"]),
    ("bogus", ["--bogus"]),
]

CSV_INPUT = ("ticket,confirmed,scope,impact,workaround,security,areas,vendor,deadline,strategic_account\n"
             "C1,yes,many_accounts,revenue_risk,none,no,billing,no,no,no\n"
             "C2,no,one_user,none,available,no,,no,no,yes\n")


EXPORTS = {
    "zendesk.csv": "Id,Priority,Created at,Assigned at,Solved at,Tags,Organization,Group stations,"
                   "First reply time in minutes\n"
                   "101,Urgent,2026-12-05 03:00:00 +0000,2026-12-05 03:20:00 +0000,,login outage,Acme,3,12\n"
                   "102,Normal,2026-12-07 14:00:00 +0000,,2026-12-09 16:00:00 +0000,,Beta,1,600\n",
    "freshdesk.csv": "Ticket ID,Priority,Created time,Initial response time,Resolved time,Tags,Company Name\n"
                     "7,Medium,2026-12-07 15:00:00,2026-12-07 16:30:00,,billing,Acme\n"
                     "8,Urgent,2026-12-08 01:00:00,2026-12-08 02:30:00,2026-12-08 09:00:00,\"sso,login\",Beta\n",
    "jira.csv": "Issue key,Priority,Created,Resolved,Labels,Organizations\n"
                "HELP-3,Highest,05/Dec/26 3:00 AM,05/Dec/26 6:30 AM,,Acme\n"
                "HELP-4,Low,07/Dec/26 9:00 AM,14/Dec/26 4:30 PM,export,Beta\n",
    "events.jsonl": "\n".join(json.dumps(e) for e in [
        {"ticket": "E1", "at": "2026-12-07T09:00:00-05:00", "event": "created", "severity": 2, "account": "Acme"},
        {"ticket": "E1", "at": "2026-12-07T09:40:00-05:00", "event": "acknowledged"},
        {"ticket": "E2", "at": "2026-12-07T10:00:00-05:00", "event": "created", "severity": "sev1", "tags": "sso"},
        {"ticket": "E1", "at": "2026-12-07T11:00:00-05:00", "event": "customer_update"},
        {"ticket": "E2", "at": "2026-12-07T10:20:00-05:00", "event": "acknowledged"},
        {"ticket": "E2", "at": "2026-12-07T10:30:00-05:00", "event": "escalated"},
        {"ticket": "E2", "at": "2026-12-07T11:30:00-05:00", "event": "reassigned"},
        {"ticket": "E2", "at": "2026-12-07T12:30:00-05:00", "event": "reassigned"},
        {"ticket": "E2", "at": "2026-12-07T16:00:00-05:00", "event": "resolved"},
        {"ticket": "E1", "at": "2026-12-09T11:00:00-05:00", "event": "resolved"},
    ]) + "\n",
    "tickets.jsonl": "\n".join(json.dumps(t) for t in [
        {"ticket": "J1", "severity": 3, "created_at": "2026-12-04T15:00:00-05:00",
         "acknowledged_at": "2026-12-07T10:00:00-05:00", "updates": ["2026-12-07T10:00:00-05:00"],
         "tags": ["export", "csv"], "reassignments": 2},
        {"ticket": "J2", "severity": "1", "created_at": "2026-12-05T03:00:00Z", "acknowledged_at": None,
         "resolved_at": "2026-12-05T09:00:00Z", "escalated_at": "2026-12-05T04:00:00Z", "tags": "sso"},
    ]) + "\n",
    "service-desk.yaml": "name: service-desk\nshape: events\n"
                         "columns: {ticket: number, at: sys_updated_at, activity: incident_state, severity: priority,"
                         " actor: assignment_group}\nday_first: true\ntimezone: Europe/Lisbon\n"
                         "activities: {acknowledged: [Active], assigned: [Active], escalated: [Awaiting Problem],"
                         " resolved: [Resolved]}\nreassignment: actor_change\noptional: [escalated]\n"
                         "severity: {'1 - Critical': 1, '2 - High': 2, '3 - Moderate': 3, '4 - Low': 4}\n",
    "incidents.csv": "number,incident_state,sys_updated_at,priority,assignment_group\n"
                     "INC1,New,29/2/2016 01:16,3 - Moderate,Group 56\n"
                     "INC1,Active,29/2/2016 01:40,3 - Moderate,Group 56\n"
                     "INC1,Active,1/3/2016 09:00,3 - Moderate,Group 70\nINC1,Resolved,5/3/2016 12:00,3 - Moderate,?\n"
                     "INC2,New,13/3/2016 10:00,1 - Critical,?\nINC2,Active,13/3/2016 10:05,1 - Critical,Group 1\n",
}


def write_exports(work: Path) -> None:
    """Exports of every shape the audit reads, and a generated one of a few thousand tickets."""
    from audit_bench import generate

    for name, text in EXPORTS.items():
        (work / name).write_text(text, encoding="utf-8")
    generate(work / "generated.csv", 3000, seed=7)


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
        write_exports(work)
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
