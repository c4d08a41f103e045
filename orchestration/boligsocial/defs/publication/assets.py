"""Publication after the marts, as one set: Parquet files, a read-only DuckDB copy and the board
report are built into `<publish>/sets/<run id>/`, then `publish/current` switches readers to
that set at once (and PostgreSQL gets the same marts and run id, when configured).

BI tools read the published files, never the warehouse, so they hold no lock on it: the
publish step reads the warehouse inside the warehouse pool, and the report reads the
staged copy (outside the pool).
"""

import shutil
from datetime import datetime
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from boligsocial.defs.dbt import assets as dbt  # the module: its assets are its own to declare
from boligsocial.defs.resources import (
    POSTGRES_URL_VARIABLE,
    WAREHOUSE_POOL,
    PublishResource,
    WarehouseResource,
)
from boligsocial.loading.warehouse import connect

MART_KEYS = sorted(key for key in dbt.dbt_models.keys if key.path[0] == "marts")
MARTS = [key.path[-1] for key in MART_KEYS]
PARQUET_DIR = "parquet"
# Not "marts.duckdb": its catalog would be named marts too, and `marts.<table>` ambiguous.
DUCKDB_COPY = "boligsocial_marts.duckdb"
REPORT_FILE = "bestyrelsesrapport.html"
ARTEFACTS = (PARQUET_DIR, DUCKDB_COPY, REPORT_FILE)


def _size(bytes_: int) -> str:
    return f"{bytes_ / 1024:,.1f} KiB" if bytes_ < 1024**2 else f"{bytes_ / 1024**2:,.1f} MiB"


def _staged_set(context: AssetExecutionContext, publish: PublishResource) -> Path:
    """The set this run (or the run it re-executes) staged."""
    from boligsocial.publication.publish import PublicationError, staged_set

    run = context.run
    run_ids = dict.fromkeys(i for i in (run.run_id, run.parent_run_id, run.root_run_id) if i)
    try:
        return staged_set(publish.path, run_ids)
    except PublicationError as error:
        raise Failure(description=str(error)) from error


@asset(
    key=AssetKey(["publish", "marts"]),
    deps=MART_KEYS,
    group_name="publish",
    description=(
        "The marts for BI tools, staged in <publish>/sets/<run id>/: one Parquet file per mart "
        f"in parquet/ and a read-only DuckDB copy {DUCKDB_COPY}. Readers see them once "
        "publish/current switches to the set. See docs/bi.md."
    ),
    kinds={"parquet", "duckdb"},
    tags={"layer": "publish"},
    pool=WAREHOUSE_POOL,
)
def published_marts(
    context: AssetExecutionContext, warehouse: WarehouseResource, publish: PublishResource
):
    # Imported here: psycopg and pandas are not needed to load the code location.
    from boligsocial.publication.publish import (
        PublicationError,
        begin_set,
        write_duckdb_copy,
        write_parquet,
    )
    from boligsocial.validation.data_docs import site_dir

    try:
        # The GX Data Docs site may live in the publication folder (deploy/ puts it there).
        staged = begin_set(publish.path, context.run.run_id, keep=[site_dir()])
    except PublicationError as error:
        raise Failure(description=str(error)) from error
    try:
        with warehouse.connect(read_only=True) as con:
            files = write_parquet(con, MARTS, staged / PARQUET_DIR)
            copy = write_duckdb_copy(con, MARTS, staged / DUCKDB_COPY)
    except BaseException as error:
        # Free the space now (a full disk is a common cause); the next run would remove it too.
        shutil.rmtree(staged, ignore_errors=True)
        if isinstance(error, PublicationError):
            raise Failure(description=str(error)) from error
        raise
    rows = copy.rows
    context.log.info(f"Staged {len(MARTS)} marts in {staged}")
    table = [
        TableRecord(
            {
                "mart": f.path.stem,
                "rows": rows[f.path.stem],
                "parquet": f.path.name,
                "size": _size(f.bytes),
            }
        )
        for f in files
    ]
    metadata = {
        "set": MetadataValue.path(str(staged)),
        "duckdb_copy_size": MetadataValue.text(_size(copy.bytes)),
        "files": MetadataValue.table(
            table,
            schema=TableSchema(
                columns=[
                    TableColumn("mart", "string"),
                    TableColumn("rows", "int"),
                    TableColumn("parquet", "string"),
                    TableColumn("size", "string"),
                ]
            ),
        ),
        "row_counts": MetadataValue.json(rows),
        "dagster/row_count": MetadataValue.int(sum(rows.values())),
    }
    return MaterializeResult(metadata=metadata)


@asset(
    key=AssetKey(["publish", "board_report"]),
    deps=[published_marts.key],
    group_name="publish",
    description=(
        f"The board report in Danish: {REPORT_FILE} in the staged set, one self-contained HTML "
        "file (plotly.js inlined; works offline). Built from the staged DuckDB copy: a first "
        "page for every area, and a section per area for at most BOLIGSOCIAL_REPORT_MAX_AREAS "
        "areas (default 30; the most severe on the list) or those chosen with "
        "BOLIGSOCIAL_REPORT_AREAS / BOLIGSOCIAL_REPORT_MUNICIPALITY. See docs/bi.md."
    ),
    kinds={"html", "plotly"},
    tags={"layer": "publish"},
)
def board_report(context: AssetExecutionContext, publish: PublishResource):
    # Imported here: plotly and pandas are not needed to load the code location.
    from boligsocial.report import Marts as ReportMarts
    from boligsocial.report import detail_areas, load_marts, render

    staged = _staged_set(context, publish)
    with connect(staged / DUCKDB_COPY, read_only=True) as con:
        marts = ReportMarts.from_frames(load_marts(con))
    document, charts = render(marts, datetime.now())
    detail = detail_areas(marts)  # the sections render chose (same rule, same environment)
    # Into the staged set, which no reader sees before publish/current switches to it.
    target = staged / REPORT_FILE
    target.write_text(document, encoding="utf-8")
    years = sorted(marts.ruleset_in_force)
    context.log.info(
        f"Board report: {target} ({charts} charts; {len(detail)} of "
        f"{len(marts.area_names)} areas with a section)"
    )
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(target)),
            "url": MetadataValue.url(target.as_uri()),
            "size": MetadataValue.text(_size(target.stat().st_size)),
            "charts": MetadataValue.int(charts),
            "areas": MetadataValue.json(list(marts.area_names.values())),
            "area_sections": MetadataValue.json([marts.area_names[a] for a in detail]),
            "data_years": MetadataValue.text(f"{years[0]}–{years[-1]}" if years else "none"),
        }
    )


@asset(
    key=AssetKey(["publish", "current"]),
    deps=[published_marts.key, board_report.key],
    group_name="publish",
    description=(
        "Switches readers to this run's set: writes <publish>/sets/<run id>/manifest.json "
        "(run id, every file's SHA-256), replaces PostgreSQL schema `marts` (with table "
        f"`marts.publication` holding the run id) when {POSTGRES_URL_VARIABLE} is set, then "
        "the symlink <publish>/current in one atomic rename. See docs/bi.md."
    ),
    kinds={"postgres"},
    tags={"layer": "publish"},
)
def publication_set(context: AssetExecutionContext, publish: PublishResource):
    from boligsocial.publication.publish import (
        PublicationError,
        publish_postgres,
        redact_url,
        switch_to,
        write_manifest,
    )

    publish_dir = publish.path
    staged = _staged_set(context, publish)
    missing = [name for name in ARTEFACTS if not (staged / name).exists()]
    if missing:
        raise Failure(description=f"{staged}: incomplete set, {', '.join(missing)} missing")
    postgres_url = publish.postgres_url.strip()
    postgres = redact_url(postgres_url) if postgres_url else None
    try:
        manifest = write_manifest(staged, staged.name, postgres)
        # PostgreSQL commits just before the files switch: only a failed rename parts them.
        if postgres_url:
            with connect(staged / DUCKDB_COPY, read_only=True) as con:
                publish_postgres(con, MARTS, postgres_url, run_id=staged.name)
        switch_to(publish_dir, staged, ARTEFACTS)
    except PublicationError as error:
        raise Failure(description=str(error)) from error
    context.log.info(
        f"Published set {staged.name}: {publish_dir / 'current'}"
        + (f" and schema marts in {postgres}" if postgres else "")
    )
    return MaterializeResult(
        metadata={
            "run_id": MetadataValue.text(staged.name),
            "current": MetadataValue.path(str(publish_dir / "current")),
            "set": MetadataValue.path(str(staged)),
            "files": MetadataValue.json(manifest["files"]),
            "postgres": MetadataValue.text(
                f"schema marts in {postgres}"
                if postgres
                else f"not published ({POSTGRES_URL_VARIABLE} not set)"
            ),
        }
    )


publish_assets = [published_marts, board_report, publication_set]
