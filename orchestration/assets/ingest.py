"""One asset per source: read its files, validate them and swap them into raw.<name>."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from orchestration.metadata import table_metadata
from orchestration.resources import WAREHOUSE_POOL, SourcesResource, WarehouseResource
from orchestration.warehouse import ingest
from sources.catalog import SOURCES, SourceSpec
from sources.errors import SourceError


def build_ingest_asset(spec: SourceSpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", spec.name]),
        group_name=spec.system,
        description=f"{spec.description} Files: {', '.join(spec.patterns)}.",
        kinds={"python", "duckdb"},
        owners=["team:kompetencecenter"],
        tags={"layer": "raw", "source_system": spec.system},
        pool=WAREHOUSE_POOL,
    )
    def _ingest(
        context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
    ):
        with warehouse.connect() as con:
            try:
                result = ingest(spec, sources.path, con)
            except SourceError as error:
                raise Failure(
                    description=f"Source '{spec.name}' rejected: {error}",
                    metadata={"file": error.file, "row": error.row, "column": error.column},
                ) from error
            metadata = table_metadata(con, spec.table)
        context.log.info(
            f"{spec.table}: {len(result.files_loaded)} file(s) loaded, "
            f"{len(result.files_removed)} removed, {result.row_count} rows"
        )
        metadata |= {
            "files": MetadataValue.int(len(result.files)),
            "files_loaded": MetadataValue.json(result.files_loaded),
            "files_removed": MetadataValue.json(result.files_removed),
            "rows_loaded": MetadataValue.int(result.rows_loaded),
        }
        return MaterializeResult(metadata=metadata)

    return _ingest


ingest_assets = [build_ingest_asset(spec) for spec in SOURCES]
