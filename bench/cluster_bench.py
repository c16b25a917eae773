"""Benchmark: `triage classify` and `triage audit` in one process against the same commands on a local Dask
cluster of two single-threaded worker processes (`--dask-scheduler`), at growing sizes, ratios in one run; and
where the cluster starts to pay (the cross-over), if it does on this machine.

Run: .venv/bin/python bench/cluster_bench.py [--sizes 10000,100000,1000000,10000000] [--runs 1]

The cluster is started once, before the timings, as a team's existing cluster would be; the time a bare `--dask`
takes to start a local cluster of its own is printed apart. Each size is classified from a generated JSON Lines
file and audited from a generated one-row-per-ticket export; the outputs of the two ways are compared byte for
byte. Times are wall-clock from start to exit, peaks of the command's own process tree (the cluster's workers
are not in it: their memory is printed from the scheduler's view after each run).
"""

from __future__ import annotations

import argparse
import filecmp
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from audit_bench import generate as generate_export
from audit_bench import measure
from classify_bench import AT, generate as generate_records

ROOT = Path(__file__).resolve().parent.parent
TRIAGE = str(Path(sys.executable).with_name("triage"))
MATRIX = str(ROOT / "matrix.yaml")


def timed(cmd: list[str], out: Path, runs: int) -> tuple[float, float]:
    """Median seconds and highest peak MB of `runs` runs writing to `out`."""
    results = [measure([*cmd, "--output", str(out)]) for _ in range(runs)]
    return statistics.median(t for t, _ in results), max(m for _, m in results)


def workers_memory(client: object) -> float:
    info = client.scheduler_info()  # type: ignore[attr-defined]
    return sum(w.get("metrics", {}).get("memory", 0) for w in info["workers"].values()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000,10000000")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--jobs", default="classify,audit")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    jobs = args.jobs.split(",")
    from dask.distributed import Client, LocalCluster

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = folder / "one.jsonl"
        generate_records(source, 1000, with_times=True)
        cold, _ = measure([TRIAGE, "classify", str(source), "--matrix", MATRIX, "--at", AT, "--dask",
                           "--output", str(folder / "cold.jsonl")])
        print(f"a bare --dask (starting its own local cluster) on 1,000 records: {cold:.1f} s")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            print(f"local cluster of 2 workers started in {time.perf_counter() - started - cold:.1f} s")
            address = cluster.scheduler_address
            faster: dict[str, list[int]] = {job: [] for job in jobs}
            for size in sizes:
                for job in jobs:
                    data = folder / (f"records-{size}.jsonl" if job == "classify" else f"export-{size}.csv")
                    made = time.perf_counter()
                    if job == "classify":
                        generate_records(data, size, with_times=True)
                        cmd = [TRIAGE, "classify", str(data), "--matrix", MATRIX, "--at", AT]
                    else:
                        generate_export(data, size)
                        cmd = [TRIAGE, "audit", str(data), "--matrix", MATRIX, "--format", "json"]
                    print(f"{job} {size:,}: generated in {time.perf_counter() - made:.0f} s")
                    one_out, many_out = folder / "one.out", folder / "many.out"
                    t_one, m_one = timed(cmd, one_out, args.runs)
                    t_many, m_many = timed([*cmd, "--dask-scheduler", address], many_out, args.runs)
                    same = filecmp.cmp(one_out, many_out, shallow=False)
                    print(f"  one process      {t_one:7.1f} s  {m_one:6.0f} MB")
                    print(f"  2-worker cluster {t_many:7.1f} s  {m_many:6.0f} MB "
                          f"(+ workers {workers_memory(client):.0f}"
                          f" MB after)  = {t_one / t_many:.2f} x the speed of one process; outputs "
                          f"{'identical' if same else 'DIFFER'}")
                    if t_many < t_one:
                        faster[job].append(size)
                    data.unlink()
                    client.run(lambda: __import__("gc").collect())
            for job, won in faster.items():
                print(f"cross-over, {job}: " + ("the cluster was faster at " + ", ".join(f"{n:,}" for n in won)
                                                 + f" of {len(sizes)} sizes" if won else
                                                 f"the cluster was faster at no size up to {sizes[-1]:,}"))


if __name__ == "__main__":
    main()
