"""Dagster resources, configured from the environment (see configuration.settings)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import (
    ConfigurableResource,
    DagsterRunStatus,
    Definitions,
    InitResourceContext,
    definitions,
    in_process_executor,
)
from pydantic import PrivateAttr

from boligsocial.configuration import config, settings
from boligsocial.loading.warehouse import connect
from boligsocial.runs import recovery

# Steps that open the warehouse for writing share this concurrency pool (limit 1 in
# dagster.yaml): DuckDB allows one writing process at a time.
WAREHOUSE_POOL = recovery.WAREHOUSE_POOL


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file (BOLIGSOCIAL_WAREHOUSE)."""

    path: str
    _lock: recovery.WriterLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Before a run's first step: record the run's process, recover runs whose process
        died, and hold the warehouse's writer lock for the run (boligsocial/runs/recovery.py)."""
        run, instance = context.dagster_run, context.instance
        if run is None or instance is None:
            return
        instance.add_run_tags(run.run_id, {recovery.PROCESS_TAG: recovery.mark_process()})
        held_before = recovery.holding()
        lock = recovery.acquire_writer_lock(
            Path(self.path),
            config.load().limits.warehouse_wait_seconds,
            instance=instance,
            say=context.log.info,
            cancelled=lambda: (
                instance.get_run_by_id(run.run_id).status == DagsterRunStatus.CANCELING
            ),
        )
        lock.describe(run.run_id)
        if not held_before:
            self._lock = lock

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return connect(Path(self.path), read_only=read_only)


class SourcesResource(ConfigurableResource):
    """The sources directory (BOLIGSOCIAL_SOURCES_DIR) the ingest assets read."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)


def from_environment() -> dict[str, ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path())),
        "sources": SourcesResource(directory=str(settings.sources_dir())),
    }


@definitions
def resources() -> Definitions:
    # Every step that writes the warehouse is serialised by the one-writer pool anyway, and a
    # process per step would pay the imports of dagster-dbt and GX again for each step.
    return Definitions(resources=from_environment(), executor=in_process_executor)
