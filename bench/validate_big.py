"""Benchmark: `triage validate` on a matrix whose questionnaire has 100,000 answer combinations.

Run: .venv/bin/python bench/validate_big.py
Target: under 3 seconds for the whole command on this machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bigmatrix import big_matrix

TRIAGE = Path(sys.executable).with_name("triage")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(big_matrix(10, 5))
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            done = subprocess.run([str(TRIAGE), "validate", str(path)], capture_output=True, text=True)
            runs.append(time.perf_counter() - start)
            assert done.returncode == 0, done.stdout + done.stderr
        print("validate, 5 questions x 10 choices = 100,000 answer combinations")
        print(f"  triage validate: median {statistics.median(runs):.2f} s, best {min(runs):.2f} s "
              f"over {len(runs)} runs (target: under 3 s)")


if __name__ == "__main__":
    main()
