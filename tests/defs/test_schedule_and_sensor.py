"""The monthly schedule's run request and the source files sensor, evaluated against a real
(temporary, SQLite) Dagster instance and the project's own definitions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from dagster import (
    AssetKey,
    DagsterInstance,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from boligsocial.configuration import settings
from boligsocial.definitions import defs
from boligsocial.defs.automation.jobs import monthly_refresh
from boligsocial.defs.automation.sensors import source_files_sensor
from boligsocial.defs.resources import SourcesResource

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def instance():
    with instance_for_test() as instance:
        yield instance


class Ticks:
    """Evaluates the sensor tick after tick, carrying the cursor like the daemon does."""

    def __init__(self, instance: DagsterInstance, sources: Path) -> None:
        self.instance = instance
        self.sources = sources
        self.cursor: str | None = None

    def __call__(self) -> list[RunRequest]:
        context = build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            definitions=defs,
            resources={"sources": SourcesResource(directory=str(self.sources))},
        )
        data = source_files_sensor.evaluate_tick(context)
        self.cursor = data.cursor or self.cursor
        return list(data.run_requests or [])


@pytest.fixture
def ticks(instance: DagsterInstance, example_sources: Path) -> Ticks:
    return Ticks(instance, example_sources)


def selected(request: RunRequest) -> set[str]:
    return {key.to_user_string() for key in request.asset_selection}


def test_schedule_requests_refresh_all_on_the_first_at_six_copenhagen(instance):
    assert monthly_refresh.cron_schedule == "0 6 1 * *"
    assert monthly_refresh.execution_timezone == "Europe/Copenhagen"
    tick = datetime(2025, 3, 1, 6, 0, tzinfo=COPENHAGEN)
    context = build_schedule_context(instance=instance, scheduled_execution_time=tick)
    [request] = monthly_refresh.evaluate_tick(context).run_requests
    assert monthly_refresh.job_name == "refresh_all"
    assert request.asset_selection is None  # the whole job: every asset and check
    assert request.tags["dagster/schedule_name"] == "monthly_refresh"
    # Ticks stay at 06:00 local time across the switch to summer time (30 March 2025).
    after = croniter(monthly_refresh.cron_schedule, tick).get_next(datetime)
    assert after == datetime(2025, 4, 1, 6, 0, tzinfo=COPENHAGEN)
    assert after.utcoffset() != tick.utcoffset()  # summer time


def test_sensor_first_tick_is_one_full_refresh_then_quiet(ticks: Ticks):
    [first] = ticks()
    assert first.asset_selection is None  # the whole refresh_all job (seeds included)
    assert first.run_key
    files = json.loads(ticks.cursor)["files"]
    assert "reference/areas.csv" in files and len(files) > 100
    assert "README.md" not in files  # only files the catalog loads
    assert ticks() == []
    assert ticks() == []


def test_sensor_fires_once_per_new_file_for_its_source_and_downstream(ticks: Ticks):
    ticks()
    ledger = ticks.sources / "vandalism"
    (ledger / "BK_2025-06.csv").write_bytes((ledger / "BK_2024-12.csv").read_bytes())
    [request] = ticks()
    assets = selected(request)
    assert "raw/vandalism_ledger" in assets
    assert {"staging/stg_vandalism__ledger_lines", "marts/area_safety", "publish/marts"} <= assets
    assert not {a for a in assets if a.startswith("raw/") and a != "raw/vandalism_ledger"}
    assert "marts/area_criteria" not in assets  # not downstream of the ledger
    assert request.tags["boligsocial/sources"] == "vandalism_ledger"
    checks = {(c.asset_key.to_user_string(), c.name) for c in request.asset_check_keys}
    assert ("raw/vandalism_ledger", "gx_vandalism_ledger") in checks
    assert ("marts/area_safety", "has_rows_area_safety") in checks
    # The request is one the job can run: the daemon subsets refresh_all the same way.
    subset = defs.resolve_job_def("refresh_all").get_subset(
        asset_selection=set(request.asset_selection),
        asset_check_selection=set(request.asset_check_keys),
    )
    assert "raw__vandalism_ledger" in {node.name for node in subset.nodes_in_topological_order}
    assert ticks() == []


def test_sensor_fires_once_per_changed_and_per_deleted_file(ticks: Ticks):
    ticks()
    incidents = ticks.sources / "police" / "incidents_2024.csv"
    incidents.write_bytes(incidents.read_bytes() + b"")  # same bytes: not a change
    assert ticks() == []
    lines = incidents.read_text(encoding="utf-8").splitlines(keepends=True)
    incidents.write_text("".join(lines[:-1]), encoding="utf-8")
    [changed] = ticks()
    assert "raw/police_incidents" in selected(changed)
    assert "raw/tryghedsindeks" not in selected(changed)  # same folder, other source
    assert ticks() == []

    (ticks.sources / "reference" / "departments.csv").unlink()
    [deleted] = ticks()
    assert "raw/departments" in selected(deleted)
    assert "raw/areas" not in selected(deleted)
    assert ticks() == []


def test_sensor_one_run_for_changes_in_several_sources(ticks: Ticks):
    ticks()
    for relative in ("efforts/indsatser.csv", "statistics/benchmarks.csv"):
        path = ticks.sources / relative
        path.write_bytes(path.read_bytes() + b"\n")
    [request] = ticks()
    assert {"raw/efforts", "raw/benchmarks"} <= selected(request)
    assert request.tags["boligsocial/sources"] == "benchmarks,efforts"
    assert ticks() == []


def test_sensor_fires_again_when_a_file_is_changed_back(ticks: Ticks):
    ticks()
    areas = ticks.sources / "reference" / "areas.csv"
    original = areas.read_bytes()
    keys = []
    for content in (original + b"\n", original, original + b"\n"):
        areas.write_bytes(content)
        [request] = ticks()
        assert AssetKey(["raw", "areas"]) in request.asset_selection
        keys.append(request.run_key)
    # Dagster launches a run key once per sensor: a repeated change must get a new key.
    assert len(set(keys)) == 3


def test_sensor_sees_an_edit_that_keeps_size_and_mtime(ticks: Ticks):
    """`cp -p`, `rsync -t` and unzip keep a file's size and mtime; its ctime still moves."""
    ticks()
    incidents = ticks.sources / "police" / "incidents_2024.csv"
    before = incidents.stat()
    data = incidents.read_bytes()
    last = data.rindex(b"SJP-2024-")
    incidents.write_bytes(data[:last] + b"SJP-2025-" + data[last + 9 :])  # same size
    os.utime(incidents, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert incidents.stat().st_size == before.st_size
    [changed] = ticks()
    assert "raw/police_incidents" in selected(changed)
    assert ticks() == []


# One tick in a process without root's power to read any file (CAP_DAC_OVERRIDE), so that a
# file with mode 000 is unreadable as it is for a service account.
TICK_WITHOUT_DAC_OVERRIDE = """
import json, sys
from dagster import build_sensor_context, instance_for_test
from boligsocial.definitions import defs
from boligsocial.defs.resources import SourcesResource
from boligsocial.defs.automation.sensors import source_files_sensor
with instance_for_test() as instance:
    context = build_sensor_context(
        instance=instance,
        cursor=sys.argv[2],
        definitions=defs,
        resources={"sources": SourcesResource(directory=sys.argv[1])},
    )
    data = source_files_sensor.evaluate_tick(context)
print(json.dumps({
    "selected": [
        sorted(k.to_user_string() for k in r.asset_selection) for r in data.run_requests or []
    ],
    "cursor": data.cursor,
}))
"""


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv")
def test_sensor_reports_an_unreadable_file_and_still_triggers_the_other_sources(ticks: Ticks):
    ticks()
    unreadable = ticks.sources / "vandalism" / "BK_2024-12.csv"
    unreadable.chmod(0)
    benchmarks = ticks.sources / "statistics" / "benchmarks.csv"
    benchmarks.write_bytes(benchmarks.read_bytes() + b"\n")
    done = subprocess.run(
        [
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            sys.executable,
            "-c",
            TICK_WITHOUT_DAC_OVERRIDE,
            str(ticks.sources),
            ticks.cursor,
        ],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    [request] = result["selected"]
    assert "raw/benchmarks" in request
    assert "raw/vandalism_ledger" not in request
    assert str(unreadable) in done.stderr  # reported by name
    # Readable again, unchanged: no run for it (its last hashes were kept).
    unreadable.chmod(0o644)
    ticks.cursor = result["cursor"]
    assert ticks() == []


def test_sensor_ignores_hidden_files_and_reports_a_link_out_of_the_folder(
    ticks: Ticks, tmp_path: Path
):
    ticks()
    (ticks.sources / "vandalism" / "._FOB_2021-12.csv").write_bytes(b"\x00\x05\x16\x07")
    (ticks.sources / "efforts" / "~$indsatser.xlsx").write_bytes(b"\x0cowner")
    assert ticks() == []
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("x")
    (ticks.sources / "police" / "incidents_2030.csv").symlink_to(outside)
    benchmarks = ticks.sources / "statistics" / "benchmarks.csv"
    benchmarks.write_bytes(benchmarks.read_bytes() + b"\n")
    [request] = ticks()
    assert "raw/benchmarks" in selected(request)
    assert "raw/police_incidents" not in selected(request)
