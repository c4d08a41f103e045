"""A run whose process died (SIGKILL, an out-of-memory kill, a power cut) never wedges the next.

One run writes the warehouse at a time: Dagster's run queue admits one run with a step in the
`duckdb_warehouse` pool (`concurrency.pools.granularity: run` in both dagster.yaml files), so
no step claims a slot a dead run could keep. What Dagster cannot do stays here:

- A run executed in process (`make run`, `boligsocial run`) is watched by no code server, and
  the default run launcher tells run monitoring nothing of a dead worker: such a run would stay
  STARTED, in the queue's count, for ever. So every run records its process in a run tag
  (`boligsocial/process`: host, pid, and the process's start time, so a reused pid is not taken
  for it) and in the environment its subprocesses inherit (`BOLIGSOCIAL_RUN_PROCESS`); before
  its first step (and the daemon every minute: boligsocial/defs/automation/dead_runs.py) every
  run of this host whose process is gone is marked failed and the processes that carry its
  mark are killed (a dbt subprocess would keep the DuckDB file locked).
- A run outside the queue (`make run` again) must not write beside a queued one: each run holds
  the warehouse's writer lock (`<warehouse>.writer`, an flock: the kernel releases it when its
  holder dies, however it dies), waiting in sleeps, at most `[limits] warehouse_wait_seconds`,
  then failing with the name of the run that holds it.

Runs of other hosts (a PostgreSQL instance) are left to Dagster: their code server marks a dead
run worker failed, and run monitoring ends a run past `max_runtime_seconds`. Linux's /proc
tells a process's start time and environment; elsewhere a pid alone is compared and leftover
subprocesses are not looked for.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

PROCESS_TAG = "boligsocial/process"
PROCESS_VARIABLE = "BOLIGSOCIAL_RUN_PROCESS"
WAREHOUSE_POOL = "duckdb_warehouse"  # limit 1, per run: dagster.yaml
POLL_SECONDS = 1.0
_ACTIVE = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


class WarehouseBusy(RuntimeError):
    """The warehouse stayed locked by another run for longer than the configured wait."""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" where /proc has no stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2 :].split()[19]


def this_process() -> str:
    """`<host> <pid> <start time>`: this process, and no later one with the same pid."""
    pid = os.getpid()
    return f"{socket.gethostname()} {pid} {_start_time(pid)}".strip()


def mark_process() -> str:
    """Mark this process as a run's: its subprocesses inherit the mark."""
    identity = this_process()
    os.environ[PROCESS_VARIABLE] = identity
    return identity


def is_gone(identity: str) -> bool:
    """Whether the process `identity` names is known to be gone (False for another host's)."""
    host, pid, *start = identity.split(" ")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's: a pid reused since
    return bool(start) and _start_time(int(pid)) != start[0]


def kill_leftovers(identity: str) -> list[int]:
    """SIGKILL every process that carries the mark of the dead process `identity`."""
    wanted = f"{PROCESS_VARIABLE}={identity}".encode()
    killed = []
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit():
            continue
        try:
            environ = Path(entry.path, "environ").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile, or another user's
        if wanted in environ:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append(int(entry.name))
    return killed


def recover_dead_runs(instance: DagsterInstance, say: Callable[[str], None] = print) -> list[str]:
    """Mark failed every run of this host whose process is gone and kill what it left running.
    Returns the ids of the runs marked failed."""
    recovered = []
    for run in instance.get_runs(RunsFilter(statuses=_ACTIVE)):
        identity = run.tags.get(PROCESS_TAG)
        if not identity or not is_gone(identity):
            continue
        leftovers = kill_leftovers(identity)
        message = (
            f"Run {run.run_id} was marked failed: its process ({identity.split(' ')[1]}) is gone"
            + (f"; killed its leftover process(es) {leftovers}" if leftovers else "")
            + "."
        )
        instance.report_run_failed(run, message)
        say(message)
        recovered.append(run.run_id)
    return recovered


@dataclass
class WriterLock:
    """The warehouse's writer lock, held by this process until `release` or its death."""

    path: Path
    handle: object

    def describe(self, run_id: str) -> None:
        """Say which run holds it, for those who wait."""
        os.ftruncate(self.handle.fileno(), 0)
        os.pwrite(self.handle.fileno(), f"run {run_id} ({this_process()})\n".encode(), 0)

    def release(self) -> None:
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        _held.pop(self.path, None)


# This process's locks by lock file: a run takes its warehouse's once (refresh.py or setup).
_held: dict[Path, WriterLock] = {}


def lock_path(warehouse: Path) -> Path:
    warehouse = warehouse.resolve()
    return warehouse.with_name(warehouse.name + ".writer")


def holding(warehouse: Path) -> bool:
    """Whether this process holds `warehouse`'s writer lock (`make run` takes it before the run
    starts)."""
    return lock_path(warehouse) in _held


def acquire_writer_lock(
    warehouse: Path,
    timeout_seconds: float,
    *,
    instance: DagsterInstance | None = None,
    say: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    cancelled: Callable[[], bool] = lambda: False,
) -> WriterLock:
    """This process's writer lock on `warehouse` (taken once per process and file), waiting in
    sleeps while another holds it, recovering dead runs meanwhile; WarehouseBusy after the
    timeout."""
    path = lock_path(warehouse)
    if path in _held:
        return _held[path]
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 (held beyond this function, closed in release)
    deadline = clock() + timeout_seconds
    said = False
    while True:
        if instance is not None:
            recover_dead_runs(instance, say)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = Path(path).read_text().strip() or "another process"
        if not said:
            say(f"Waiting for the warehouse {warehouse}: held by {holder}.")
            said = True
        if clock() >= deadline or cancelled():
            handle.close()
            raise WarehouseBusy(
                f"the warehouse {warehouse} is held by {holder}; gave up after "
                f"{timeout_seconds:g} s ([limits] warehouse_wait_seconds)"
            ) from None
        sleep(POLL_SECONDS)
    lock = _held[path] = WriterLock(path, handle)
    lock.describe("starting")
    return lock
