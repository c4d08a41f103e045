"""The dbt worker: a run that builds dbt assets starts it with the run, the dbt step's command
runs in it, and it ends with the run, used or not; the run's own process imports neither
dbt-core nor dagster-dbt."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from configuration import settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _workers() -> list[int]:
    """This process's dbt worker children still running."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            command = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == os.getpid() and b"orchestration.dbt_worker" in command:
            found.append(int(entry.name))
    return found


RUN_IN_A_FRESH_PROCESS = """
import json, sys
from dagster import AssetKey, DagsterInstance, materialize
from orchestration.defs.dbt import DbtResource, dbt_models
from orchestration.defs.ingest import ingest_assets
from orchestration.defs.resources import SourcesResource, WarehouseResource

SEEDS = ("ruleset_categories", "ruleset_criteria")
result = materialize(
    [*ingest_assets, dbt_models],
    selection=[AssetKey(["raw", "areas"]), *(AssetKey(["rulesets", s]) for s in SEEDS)],
    resources={
        "warehouse": WarehouseResource(path=sys.argv[1]),
        "sources": SourcesResource(directory=sys.argv[2]),
        "dbt": DbtResource(),
    },
    instance=DagsterInstance.ephemeral(),
)
built = sorted(e.asset_key.to_user_string() for e in result.get_asset_materialization_events())
checks = [e.passed for e in result.get_asset_check_evaluations()]
print(json.dumps({
    "success": result.success,
    "built": built,
    "checks": len(checks),
    "passed": all(checks),
    "imported": sorted({m.split(".")[0] for m in sys.modules} & {"dbt", "dagster_dbt"}),
}))
"""


def test_a_run_builds_in_the_worker_and_imports_neither_dbt_nor_dagster_dbt(
    example_sources, tmp_path
):
    warehouse = tmp_path / "w.duckdb"
    env = {**os.environ, "BOLIGSOCIAL_WAREHOUSE": str(warehouse)}
    done = subprocess.run(
        [sys.executable, "-c", RUN_IN_A_FRESH_PROCESS, str(warehouse), str(example_sources)],
        cwd=settings.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.splitlines()[-1])
    assert outcome["success"]
    assert outcome["built"] == [
        "raw/areas",
        "rulesets/ruleset_categories",
        "rulesets/ruleset_criteria",
    ]
    assert outcome["checks"] > 2 and outcome["passed"]  # GX on raw, dbt tests on the model
    assert outcome["imported"] == []


def test_a_run_that_fails_before_its_dbt_step_ends_its_worker(
    example_sources, tmp_path, monkeypatch
):
    from orchestration.defs.dbt import DbtResource, dbt_models
    from orchestration.defs.ingest import ingest_assets
    from orchestration.defs.resources import SourcesResource, WarehouseResource

    areas = example_sources / "reference" / "areas.csv"
    areas.write_text(areas.read_text(encoding="utf-8") + "not;a;valid;row\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    assert _workers() == []
    result = materialize(
        [*ingest_assets, dbt_models],
        selection=[AssetKey(["raw", "areas"]), AssetKey(["staging", "stg_reference__areas"])],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "sources": SourcesResource(directory=str(example_sources)),
            "dbt": DbtResource(),
        },
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    assert [e.step_key for e in result.all_events if e.is_step_failure] == ["raw__areas"]
    assert _workers() == []


# A run's process (killed outright by the test) with a child that runs the dbt worker's
# watch over its parent and would otherwise sleep for ten minutes.
PARENT_OF_A_WATCHING_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "watching"
print(child.pid, flush=True)
time.sleep(600)
"""
WATCHING_CHILD = """
import threading, time
from orchestration.dbt_worker import _end_with_parent
threading.Thread(target=_end_with_parent, daemon=True).start()
print("watching", flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    """Running (not gone, nor a zombie its new parent has not reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def test_the_worker_ends_when_the_runs_process_is_killed():
    """A run's process killed outright cannot end its worker; the worker ends by itself."""
    run = subprocess.Popen(
        [sys.executable, "-c", PARENT_OF_A_WATCHING_CHILD, WATCHING_CHILD],
        cwd=settings.PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        worker = int(run.stdout.readline())
        assert _alive(worker)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 30
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker)
    finally:
        run.kill()
        run.wait()
