"""dagster.postgres.yaml against the local PostgreSQL: a fresh database per test, one real
materialisation, and the run read back from PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from dagster import AssetKey, DagsterInstance, DagsterRunStatus, materialize

from boligsocial.configuration import settings
from boligsocial.defs.ingest.assets import ingest_assets
from boligsocial.defs.resources import SourcesResource, WarehouseResource
from tests.support.postgres import SERVER, fresh_database, required, unreachable

pytestmark = required(unreachable())
YAML = settings.PROJECT_ROOT / "dagster.postgres.yaml"


@pytest.fixture
def postgres_database():
    with fresh_database("dagster_test") as name:
        yield name


@pytest.fixture
def postgres_instance(postgres_database: str, tmp_path: Path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    for variable, value in {
        "DAGSTER_PG_HOST": SERVER["host"],
        "DAGSTER_PG_PORT": SERVER["port"],
        "DAGSTER_PG_USER": SERVER["user"],
        "DAGSTER_PG_PASSWORD": SERVER["password"],
        "DAGSTER_PG_DB": postgres_database,
    }.items():
        monkeypatch.setenv(variable, value)
    instance = DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()


def test_production_instance_stores_runs_in_postgres(
    postgres_instance: DagsterInstance, postgres_database: str, tmp_path: Path
):
    instance = postgres_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    # The same pool and retry settings as the local dagster.yaml.
    assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert not instance.run_retries_retry_on_asset_or_op_failure

    [areas] = [a for a in ingest_assets if a.key == AssetKey(["raw", "areas"])]
    result = materialize(
        [areas],
        instance=instance,
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
            "sources": SourcesResource(directory=str(settings.EXAMPLE_SOURCES_DIR)),
        },
    )
    assert result.success

    run = instance.get_run_by_id(result.run_id)
    assert run.status == DagsterRunStatus.SUCCESS
    event = instance.get_latest_materialization_event(AssetKey(["raw", "areas"]))
    assert event.run_id == result.run_id
    assert event.asset_materialization.metadata["dagster/row_count"].value == 4

    # Read back from PostgreSQL itself, not through the instance's caches.
    with psycopg.connect(dbname=postgres_database, **SERVER) as con:
        (status,) = con.execute(
            "select status from runs where run_id = %s", [result.run_id]
        ).fetchone()
        (materialisations,) = con.execute(
            "select count(*) from event_logs where run_id = %s "
            "and dagster_event_type = 'ASSET_MATERIALIZATION'",
            [result.run_id],
        ).fetchone()
    assert (status, materialisations) == ("SUCCESS", 1)
