"""A 1 GB JSON Lines input in which one line in a thousand is broken: `triage classify` must read it to
the end, report every broken line and classify every good one, in flat memory.

Run: .venv/bin/python bench/gigabyte.py [--gigabytes 1.0]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classify_bench import AREAS, CHOICES, ROOT, SKEWED, TRIAGE

BROKEN = [b'{"ticket": "cut off", "scope": "one_u\n', b"not json at all\n", b'{"confirmed": "perhaps"}\n',
          b'{"ticket": "X", "colour": "red"}\n', b'\xff\xfe binary junk\n']


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigabytes", type=float, default=1.0)
    args = parser.parse_args()
    target = int(args.gigabytes * 1e9)
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as tmp:
        source, errors = Path(tmp) / "big.jsonl", Path(tmp) / "errors.jsonl"
        lines = broken = 0
        started = time.perf_counter()
        with source.open("wb") as out:
            size = 0
            while size < target:
                chunk = []
                for _ in range(1000):
                    lines += 1
                    if lines % 1000 == 0:
                        line = rng.choice(BROKEN)
                        broken += 1
                    else:
                        record = {"ticket": f"T-{lines}"}
                        for q in CHOICES:
                            weights = SKEWED[q]
                            record[q] = rng.choices(list(weights), weights=list(weights.values()))[0]
                        record["areas"] = [a for a in AREAS if rng.random() < 0.03]
                        line = json.dumps(record).encode() + b"\n"
                    chunk.append(line)
                data = b"".join(chunk)
                out.write(data)
                size += len(data)
        print(
            f"generated {size / 1e9:.2f} GB: {lines:,} lines, {broken:,} broken, "
            f"in {time.perf_counter() - started:.0f} s"
        )
        started = time.perf_counter()
        stderr_path = Path(tmp) / "stderr.txt"
        good = 0
        with open(source, "rb") as stdin, stderr_path.open("wb") as stderr:
            child = subprocess.Popen([TRIAGE, "classify", "-", "--at", "2026-11-27T10:00:00Z", "--errors", str(errors),
                                      "--matrix", str(ROOT / "matrix.yaml")], stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=stderr)
            assert child.stdout is not None
            while chunk := child.stdout.read(1 << 20):  # count results without keeping them
                good += chunk.count(b"\n")
            child.wait()
        elapsed = time.perf_counter() - started
        done = subprocess.CompletedProcess(child.args, child.returncode, b"", stderr_path.read_bytes())
        reported = done.stderr.count(b"\n") - 1  # the last line is the summary
        logged = sum(1 for _ in errors.open("rb"))
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"classified in {elapsed:.0f} s ({lines / elapsed:,.0f} lines/s), exit code {done.returncode}, "
              f"peak memory {rss:.0f} MB")
        print(f"  good lines classified: {good:,} of {lines - broken:,}")
        print(f"  broken lines reported on stderr: {reported:,}, in --errors: {logged:,}, of {broken:,}")
        print("  last stderr line:", done.stderr.decode().splitlines()[-1])
        ok = good == lines - broken and reported == broken == logged and done.returncode == 1
        print("OK" if ok else "MISMATCH")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
