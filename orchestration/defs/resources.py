"""Dagster resources, configured from the environment (see configuration.settings)."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dagster import ConfigurableResource, Definitions, definitions, in_process_executor

from configuration import settings
from loading.warehouse import connect

# Steps that open the warehouse for writing share this concurrency pool (limit 1 in
# dagster.yaml): DuckDB allows one writing process at a time.
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file (BOLIGSOCIAL_WAREHOUSE)."""

    path: str

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
