"""The dbt assets (dagster-dbt) materialised for real: the whole `refresh_all` job as `make run`
runs it, a subset through dagster-dbt's selection, a failing dbt test as a failed check, and a
failing dbt model named on the run's failure line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import (
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterEventType,
    DagsterInstance,
    materialize,
)

from boligsocial.configuration import settings
from boligsocial.defs.dbt.assets import dbt_cli, dbt_models
from boligsocial.defs.resources import WarehouseResource
from boligsocial.loading.warehouse import connect
from boligsocial.runs.findings import step_failure_reason

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

WARN = AssetCheckSeverity.WARN
LEDGER = AssetKey(["staging", "stg_vandalism__ledger_lines"])
AREAS = AssetKey(["staging", "stg_reference__areas"])


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> tuple[Path, Path]:
    """`python -m boligsocial.runs.refresh` (what `make run` runs) on the bundled example: its
    Dagster home and its warehouse."""
    root = tmp_path_factory.mktemp("refresh_all")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    warehouse = root / "warehouse.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "boligsocial.runs.refresh"],
        cwd=settings.PROJECT_ROOT,
        env={
            **os.environ,
            "DAGSTER_HOME": str(home),
            "BOLIGSOCIAL_SOURCES_DIR": str(settings.EXAMPLE_SOURCES_DIR),
            "BOLIGSOCIAL_WAREHOUSE": str(warehouse),
            "BOLIGSOCIAL_PUBLISH_DIR": str(root / "publish"),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return home, warehouse


def _events(instance: DagsterInstance, run_id: str, kind: DagsterEventType) -> list:
    return [e.dagster_event for e in instance.all_logs(run_id, of_type=kind)]


def test_refresh_all_materialises_every_dbt_asset_and_evaluates_every_dbt_test(refreshed):
    home, _ = refreshed
    with DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        materialised = {
            e.asset_key: e.step_materialization_data.materialization.metadata
            for e in _events(instance, run.run_id, DagsterEventType.ASSET_MATERIALIZATION)
        }
        evaluations = [
            e.event_specific_data
            for e in _events(instance, run.run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
        ]
    assert set(dbt_models.keys) <= set(materialised)
    for key in dbt_models.keys:
        assert materialised[key]["dagster/row_count"].value >= 0, key
        assert "preview" in materialised[key], key
    # The marts' summaries: areas on the list per ruleset, the 80/20 split.
    list_status = materialised[AssetKey(["marts", "area_list_status"])]
    assert list_status["areas_on_list"].value and "summary" in list_status
    assert materialised[AssetKey(["marts", "allocation_8020"])]["share_drift_pct"].value
    dbt_checks = [e for e in evaluations if e.asset_check_key in dbt_models.check_keys]
    assert {e.asset_check_key for e in dbt_checks} == set(dbt_models.check_keys)
    # Warn-level tests may fail on the example (e.g. lines of departments in no area).
    errors = [e.asset_check_key.name for e in dbt_checks if not e.passed and e.severity != WARN]
    assert errors == []


def _copy(warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / warehouse.name
    shutil.copyfile(warehouse, copy)
    return copy


def _materialize(warehouse: Path, selection: AssetSelection):
    return materialize(
        [dbt_models],
        selection=selection,
        resources={"warehouse": WarehouseResource(path=str(warehouse)), "dbt": dbt_cli},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_a_subset_builds_the_ledger_and_what_is_downstream_of_it_only(refreshed, tmp_path):
    warehouse = _copy(refreshed[1], tmp_path)
    with connect(warehouse) as con:  # a mart outside the subset, to see dbt leaves it alone
        con.execute("delete from marts.area_status")
    result = _materialize(warehouse, AssetSelection.assets(LEDGER).downstream())
    assert result.success
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    downstream = {
        AssetKey(["intermediate", "int_vandalism_lines_by_area"]),
        AssetKey(["marts", "area_safety"]),
    }
    assert LEDGER in built and downstream <= built
    assert AssetKey(["marts", "area_status"]) not in built
    assert AssetKey(["staging", "stg_reference__areas"]) not in built
    with connect(warehouse, read_only=True) as con:  # dbt built only the subset
        assert con.execute("select count(*) from marts.area_status").fetchone() == (0,)


def test_a_failing_dbt_test_is_a_failed_check(refreshed, tmp_path):
    warehouse = _copy(refreshed[1], tmp_path)
    with connect(warehouse) as con:  # the same area twice
        con.execute("insert into raw.areas select * from raw.areas limit 1")
    result = _materialize(warehouse, AssetSelection.assets(AREAS))
    assert not result.success
    failed = {
        e.asset_check_key.name
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.asset_key == AREAS
    }
    assert any(name.startswith("unique_stg_reference__areas_area_id") for name in failed), failed


def test_a_failing_dbt_model_is_named_on_the_failure_line(refreshed, tmp_path):
    warehouse = _copy(refreshed[1], tmp_path)
    with connect(warehouse) as con:
        con.execute("alter table raw.areas drop column town")
    result = _materialize(warehouse, AssetSelection.assets(AREAS))
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    line = step_failure_reason(failure)
    assert line.startswith("dbt build failed: stg_reference__areas (error): "), line
    assert "town" in line, line  # dbt's message: the column the model misses
