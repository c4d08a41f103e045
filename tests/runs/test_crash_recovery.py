"""A run killed outright (SIGKILL, as an out-of-memory kill does) in any step never wedges the
next `make run`: it holds no pool slot (the pool is limited per run), the dead run is marked
failed, whatever it left running killed, and the next run succeeds without a hand step."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    EventRecordsFilter,
    build_sensor_context,
)

from boligsocial.configuration import settings
from boligsocial.defs.automation.dead_runs import dead_runs
from boligsocial.runs import recovery

# Killing a step needs a real run; a wedged next run would otherwise hang the suite.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
HANG_GUARD_SECONDS = 900


@pytest.fixture
def pipeline_env(example_sources, tmp_path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BOLIGSOCIAL_SOURCES_DIR": str(example_sources),
        "BOLIGSOCIAL_WAREHOUSE": str(tmp_path / "warehouse" / "boligsocial.duckdb"),
        "BOLIGSOCIAL_PUBLISH_DIR": str(tmp_path / "publish"),
    }


def _make_run(env: dict[str, str], stdout=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "boligsocial.runs.refresh"],
        cwd=settings.PROJECT_ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _started_steps(instance: DagsterInstance) -> set[str]:
    records = instance.get_event_records(EventRecordsFilter(DagsterEventType.STEP_START))
    return {record.event_log_entry.step_key for record in records}


def _kill_in_step(env: dict[str, str], step: str) -> str:
    """Start `make run`'s process, SIGKILL it once `step` has started; the run's id."""
    log = Path(env["DAGSTER_HOME"]) / "killed_run.log"
    with log.open("w") as output:  # a file: a pipe nobody reads would block the run when full
        process = _make_run(env, stdout=output)
    instance = DagsterInstance.from_config(env["DAGSTER_HOME"])
    try:
        while step not in _started_steps(instance):
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)  # a real process: polled
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        [run] = instance.get_runs()
        return run.run_id
    finally:
        process.kill()
        instance.dispose()


@pytest.mark.parametrize("step", ["raw__areas", "dbt_models", "publish__marts"])
def test_a_run_killed_in_any_step_does_not_wedge_the_next(pipeline_env, step):
    killed = _kill_in_step(pipeline_env, step)
    instance = DagsterInstance.from_config(pipeline_env["DAGSTER_HOME"])
    try:
        assert instance.get_run_by_id(killed).status == DagsterRunStatus.STARTED
        info = instance.event_log_storage.get_concurrency_info(recovery.WAREHOUSE_POOL)
        assert info.claimed_slots == []  # nothing a dead run could keep

        nxt = _make_run(pipeline_env)
        try:
            output, _ = nxt.communicate(timeout=HANG_GUARD_SECONDS)
        finally:
            nxt.kill()
        assert nxt.returncode == 0, output
        recovered = [line for line in output.splitlines() if killed in line]
        assert len(recovered) == 1 and "marked failed" in recovered[0], output
        assert instance.get_run_by_id(killed).status == DagsterRunStatus.FAILURE
    finally:
        instance.dispose()


def test_the_daemon_marks_a_killed_in_process_run_failed(pipeline_env):
    """A killed `make run` would hold the run queue (one warehouse run at a time) until its
    maximum runtime: the daemon's `dead_runs` sensor marks it failed at its next tick."""
    killed = _kill_in_step(pipeline_env, "raw__areas")
    instance = DagsterInstance.from_config(pipeline_env["DAGSTER_HOME"])
    try:
        assert instance.get_run_by_id(killed).status == DagsterRunStatus.STARTED
        skipped = dead_runs(build_sensor_context(instance=instance))
        assert killed in skipped.skip_message and "marked failed" in skipped.skip_message
        assert instance.get_run_by_id(killed).status == DagsterRunStatus.FAILURE
        assert dead_runs(build_sensor_context(instance=instance)).skip_message == "No dead run."
    finally:
        instance.dispose()


# A run whose step started a subprocess that opens the warehouse (as a dbt CLI does), and then
# waits; its process is killed by the test.
RUN_WITH_A_SUBPROCESS = """
import subprocess, sys, time
from dagster import DagsterInstance, job, op
from boligsocial.defs.resources import WarehouseResource

HOLDER = (
    "import duckdb, os, sys, time; con = duckdb.connect(sys.argv[1]); "
    "open(sys.argv[2], 'w').write(str(os.getpid())); time.sleep(3600)"
)

@op(required_resource_keys={"warehouse"})
def open_the_warehouse_in_a_subprocess(context):
    subprocess.Popen([sys.executable, "-c", HOLDER, sys.argv[1], sys.argv[2]])
    time.sleep(3600)

@job(resource_defs={"warehouse": WarehouseResource(path=sys.argv[1])})
def killed_run():
    open_the_warehouse_in_a_subprocess()

killed_run.execute_in_process(instance=DagsterInstance.get())
"""


def test_a_killed_runs_subprocess_holding_the_warehouse_is_ended(pipeline_env, tmp_path):
    import duckdb

    warehouse = tmp_path / "held.duckdb"
    ready = tmp_path / "holder.pid"
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_WITH_A_SUBPROCESS, str(warehouse), str(ready)],
        cwd=settings.PROJECT_ROOT,
        env=pipeline_env,
    )
    try:
        while not ready.exists() or not ready.read_text():
            assert process.poll() is None
            time.sleep(0.2)  # a real process: polled
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    holder = int(ready.read_text())
    with pytest.raises(duckdb.IOException, match="lock"):
        duckdb.connect(str(warehouse))

    instance = DagsterInstance.from_config(pipeline_env["DAGSTER_HOME"])
    try:
        said = []
        [run_id] = recovery.recover_dead_runs(instance, said.append)
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE
        # The holder, and whatever else the run left (Dagster's compute-log `tail`s).
        [line] = said
        assert line.startswith(
            f"Run {run_id} was marked failed: its process ({process.pid}) is gone; killed its "
            "leftover process(es) ["
        )
        assert str(holder) in line.split("[")[1].split("]")[0].split(", ")
        assert line.endswith("]."), line
        assert recovery.recover_dead_runs(instance, said.append) == []  # once
    finally:
        instance.dispose()
    while _state(holder) != "Z":
        time.sleep(0.05)  # SIGKILL is delivered asynchronously
    duckdb.connect(str(warehouse)).close()


def _state(pid: int) -> str:
    """The process's state letter; Z (zombie) also for one gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "Z"
    return stat[stat.rindex(")") + 2]


def test_waiting_for_the_warehouse_is_bounded_names_the_holder_and_sleeps(tmp_path):
    """Another process holds the writer lock: the wait sleeps (a fake clock here) and gives up
    after the configured time, naming the run that holds it."""
    warehouse = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from boligsocial.runs import recovery; "
            "lock = recovery.acquire_writer_lock(Path(sys.argv[1]), 0); lock.describe('r-123'); "
            "print('held', flush=True); sys.stdin.read()",
            str(warehouse),
        ],
        cwd=settings.PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        now = [0.0]
        sleeps = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            now[0] += seconds

        said = []
        with pytest.raises(recovery.WarehouseBusy) as busy:
            recovery.acquire_writer_lock(
                warehouse, 30, say=said.append, clock=lambda: now[0], sleep=sleep
            )
        assert "held by run r-123 (" in str(busy.value)
        assert "gave up after 30 s ([limits] warehouse_wait_seconds)" in str(busy.value)
        assert said[0].startswith(f"Waiting for the warehouse {warehouse}: held by run r-123")
        assert sleeps == [recovery.POLL_SECONDS] * 30  # it sleeps between tries: no spin
    finally:
        holder.stdin.close()
        holder.wait()
    # Its holder gone, the lock is free at once, for good.
    lock = recovery.acquire_writer_lock(warehouse, 0)
    lock.release()


def test_a_run_waiting_for_the_warehouse_ends_on_sigterm(pipeline_env):
    """`make run` while another run writes the warehouse: it says whom it waits for, and a
    SIGTERM ends it (it waits before Dagster defers interrupts)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from boligsocial.runs import recovery; "
            "lock = recovery.acquire_writer_lock(Path(sys.argv[1]), 0); lock.describe('r-456'); "
            "print('held', flush=True); sys.stdin.read()",
            pipeline_env["BOLIGSOCIAL_WAREHOUSE"],
        ],
        cwd=settings.PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        waiting = _make_run(pipeline_env)
        try:
            for line in waiting.stdout:  # warnings of imports may come first
                if line.startswith("Waiting for the warehouse"):
                    break
            assert line.startswith("Waiting for the warehouse") and "run r-456" in line, line
            waiting.terminate()
            assert waiting.wait() == -signal.SIGTERM
        finally:
            waiting.kill()
    finally:
        holder.stdin.close()
        holder.wait()


def test_the_writer_lock_is_the_warehouse_files_own(tmp_path):
    """A process holding one warehouse's lock takes another warehouse's for real."""
    first = recovery.acquire_writer_lock(tmp_path / "a.duckdb", 0)
    second = recovery.acquire_writer_lock(tmp_path / "b.duckdb", 0)
    try:
        assert second.path == tmp_path / "b.duckdb.writer" and second is not first
        assert recovery.acquire_writer_lock(tmp_path / "b.duckdb", 0) is second  # once a file
        assert recovery.holding(tmp_path / "b.duckdb")
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from boligsocial.runs import recovery; "
                "recovery.acquire_writer_lock(Path(sys.argv[1]), 0)",
                str(tmp_path / "b.duckdb"),
            ],
            cwd=settings.PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0 and "WarehouseBusy" in other.stderr
    finally:
        first.release()
        second.release()
    assert not recovery.holding(tmp_path / "b.duckdb")
