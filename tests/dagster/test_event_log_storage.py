"""The event log storage dagster.yaml configures: Dagster's SQLite event log with its
connections kept open. A real materialisation through it, read back by Dagster's stock storage;
the connections reused, bounded and let go before `wipe` deletes their files."""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage

from orchestration import settings
from orchestration.assets.ingest import ingest_assets
from orchestration.event_log_storage import KEPT_ENGINES, KeptConnectionsSqliteEventLogStorage
from orchestration.resources import SourcesResource, WarehouseResource


@pytest.fixture
def instance(tmp_path: Path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance = DagsterInstance.get()
    try:
        yield instance
    finally:
        instance.dispose()


def stock_reader(storage: SqliteEventLogStorage) -> SqliteEventLogStorage:
    return SqliteEventLogStorage(storage._base_dir)


def log_entry(run_id: str, message: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None,
        level=logging.INFO,
        user_message=message,
        run_id=run_id,
        timestamp=time.time(),
    )


def open_databases(directory: str) -> list[str]:
    """The SQLite database files in `directory` that this process has open."""
    fds = Path("/proc/self/fd")
    targets = (os.readlink(fd) for fd in fds.iterdir() if fd.is_symlink())
    return [t for t in targets if t.startswith(directory) and t.endswith(".db")]


def test_dagster_yaml_keeps_the_event_log_where_dagster_does(instance: DagsterInstance):
    storage = instance.event_log_storage
    assert isinstance(storage, KeptConnectionsSqliteEventLogStorage)
    home = Path(os.environ["DAGSTER_HOME"])
    assert Path(storage._base_dir) == home / "history" / "runs"


def test_a_materialisation_reads_back_through_dagsters_stock_storage(
    instance: DagsterInstance, example_sources: Path, warehouse_file: Path
):
    [areas] = [a for a in ingest_assets if a.key == AssetKey(["raw", "areas"])]
    result = materialize(
        [areas],
        instance=instance,
        resources={
            "sources": SourcesResource(directory=str(example_sources)),
            "warehouse": WarehouseResource(path=str(warehouse_file)),
        },
    )
    assert result.success
    written = instance.all_logs(result.run_id)
    stock = stock_reader(instance.event_log_storage)
    read = stock.get_logs_for_run(result.run_id)
    assert [e.dagster_event_type for e in read] == [e.dagster_event_type for e in written]
    assert any(
        e.dagster_event_type and e.dagster_event_type.value == "ASSET_CHECK_EVALUATION"
        for e in read
    )
    latest = stock.get_latest_materialization_events([areas.key])[areas.key]
    assert latest is not None and latest.run_id == result.run_id


def test_connections_are_kept_between_writes(instance: DagsterInstance):
    storage = instance.event_log_storage
    with storage.index_connection() as first:
        kept = first.connection.dbapi_connection
    for i in range(20):
        storage.store_event(log_entry("run-a", f"event {i}"))
    with storage.index_connection() as again:
        assert again.connection.dbapi_connection is kept
    assert len(stock_reader(storage).get_logs_for_run("run-a")) == 20


def test_open_databases_are_bounded(instance: DagsterInstance):
    storage = instance.event_log_storage
    for _ in range(KEPT_ENGINES + 5):
        storage.store_event(log_entry(uuid.uuid4().hex, "one event"))
    assert len(open_databases(storage._base_dir)) == KEPT_ENGINES


def test_wipe_lets_go_of_the_files_it_deletes(instance: DagsterInstance):
    storage = instance.event_log_storage
    storage.store_event(log_entry("run-a", "before the wipe"))
    storage.wipe()
    assert stock_reader(storage).get_logs_for_run("run-a") == []
    # A connection kept across the wipe would write into the deleted file, seen by nobody.
    storage.store_event(log_entry("run-a", "after the wipe"))
    [after] = stock_reader(storage).get_logs_for_run("run-a")
    assert after.user_message == "after the wipe"
