"""`--dask`: the work of `classify` and `audit` mapped over a Dask cluster, results taken back in input order.

This process still reads the input and writes the output; the cluster does the classifying or measuring, a run
of records or a batch of tickets per task. Dask is an optional extra (`pip install 'triage[dask]'`), imported
only here and only when `--dask` is given.
"""

from __future__ import annotations

import logging
import warnings
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer

from triage.errors import TriageError, UsageError

DaskOption = Annotated[bool, typer.Option(
    "--dask", help="Map the work over a Dask cluster: the one at --dask-scheduler or DASK_SCHEDULER_ADDRESS, else a "
                   "local one (needs `pip install 'triage[dask]'`).")]
SchedulerOption = Annotated[str | None, typer.Option(
    "--dask-scheduler", metavar="ADDRESS", help="The Dask scheduler to use, such as tcp://10.0.0.5:8786 (implies "
                                                "--dask).")]
CONNECT_SECONDS = 10

T = TypeVar("T")


def chosen(dask: bool, scheduler: str | None) -> str | None:
    """None for one process; else the scheduler's address, or "" for a local cluster."""
    if scheduler is not None:
        if not scheduler.strip():
            raise UsageError("--dask-scheduler: give an address such as tcp://10.0.0.5:8786")
        return scheduler.strip()
    if not dask:
        return None
    _dask()
    import dask as dask_module

    return str(dask_module.config.get("scheduler-address", None) or "")


def _dask() -> None:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise UsageError("--dask needs Dask, which is not installed: pip install 'triage[dask]'") from None


@contextmanager
def connect(address: str) -> Iterator[Any]:
    """A client of the scheduler at `address`, or of a local cluster (one worker process per core) for ""."""
    _dask()
    from dask.distributed import Client, LocalCluster

    if not address:  # its web server on a free port: a busy 8787 would make Dask warn on stderr
        with LocalCluster(processes=True, threads_per_worker=1, dashboard_address=":0",
                          silence_logs=logging.ERROR) as local, Client(local) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(f"--dask-scheduler: cannot reach a Dask scheduler at {address} ({exc})") from None
    with client:
        yield client


def mapped(address: str, function: Callable[..., T], items: Iterable[Any], *shared: Any, **options: Any
           ) -> Generator[T]:
    """`function(*shared, item, **options)` for each item on the cluster, yielded in the items' order. The shared
    arguments go to every worker once, each item with its task (pickled whole: scattered, a list would be sent
    element by element, several times slower); a few tasks per worker are in flight at a time, so that memory
    stays flat however long the input."""
    with connect(address) as client:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        everywhere = [client.scatter(value, broadcast=True) for value in shared]
        pending: deque[Any] = deque()
        try:
            for item in items:
                with warnings.catch_warnings():  # a stretch of an export travels with its task, as it should
                    warnings.filterwarnings("ignore", message="Sending large graph")
                    pending.append(client.submit(function, *everywhere, item, pure=False, **options))
                while len(pending) > 2 * workers + 1:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()


def _result(future: Any) -> Any:
    """A task's result; a cluster that lost the task (a worker gone, the scheduler unreachable) is one error."""
    from dask.distributed import TimeoutError as DaskTimeout
    from distributed import KilledWorker

    try:
        return future.result()
    except (KilledWorker, DaskTimeout, OSError) as exc:  # a closed connection is an OSError
        raise TriageError(f"the Dask cluster failed to run a task ({type(exc).__name__}: {exc})") from None
