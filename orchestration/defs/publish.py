"""Publication after the marts: Parquet files, a read-only DuckDB copy, optionally PostgreSQL,
and the board report built from the published copy.

BI tools read the published files, never the warehouse, so they hold no lock on it: the
publish step reads the warehouse inside the warehouse pool, and the report reads the
published copy (outside the pool).
"""

import os
from datetime import datetime
from pathlib import Path

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    TableColumn,
    TableRecord,
    TableSchema,
    asset,
)

from configuration import settings
from orchestration.defs.dbt import dbt_models
from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource

POSTGRES_URL_VARIABLE = "BOLIGSOCIAL_PUBLISH_POSTGRES_URL"
MART_KEYS = sorted(key for key in dbt_models.keys if key.path[0] == "marts")
MARTS = [key.path[-1] for key in MART_KEYS]
PARQUET_DIR = "parquet"
# Not "marts.duckdb": its catalog would be named marts too, and `marts.<table>` ambiguous.
DUCKDB_COPY = "boligsocial_marts.duckdb"
REPORT_FILE = "bestyrelsesrapport.html"


def publish_paths() -> tuple[Path, Path]:
    directory = settings.publish_dir()
    return directory / PARQUET_DIR, directory / DUCKDB_COPY


def _size(bytes_: int) -> str:
    return f"{bytes_ / 1024:,.1f} KiB" if bytes_ < 1024**2 else f"{bytes_ / 1024**2:,.1f} MiB"


@asset(
    key=AssetKey(["publish", "marts"]),
    deps=MART_KEYS,
    group_name="publish",
    description=(
        "The marts for BI tools: one Parquet file per mart in <publish>/parquet/ and a "
        f"read-only DuckDB copy <publish>/{DUCKDB_COPY}, each replaced atomically; schema "
        f"`marts` in PostgreSQL too when {POSTGRES_URL_VARIABLE} is set. See docs/bi.md."
    ),
    kinds={"parquet", "duckdb", "postgres"},
    owners=["team:kompetencecenter"],
    tags={"layer": "publish"},
    pool=WAREHOUSE_POOL,
)
def published_marts(context: AssetExecutionContext, warehouse: WarehouseResource):
    # Imported here: psycopg and pandas are not needed to load the code location.
    from publication.publish import (
        publish_duckdb_copy,
        publish_parquet,
        publish_postgres,
        redact_url,
    )

    parquet_dir, copy_path = publish_paths()
    postgres_url = os.environ.get(POSTGRES_URL_VARIABLE, "").strip()
    with warehouse.connect(read_only=True) as con:
        files = publish_parquet(con, MARTS, parquet_dir)
        copy = publish_duckdb_copy(con, MARTS, copy_path)
        postgres_rows = publish_postgres(con, MARTS, postgres_url) if postgres_url else None
    rows = copy.rows
    context.log.info(
        f"Published {len(MARTS)} marts to {parquet_dir} and {copy_path}"
        + (f" and {redact_url(postgres_url)}" if postgres_url else "")
    )
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
        "parquet_dir": MetadataValue.path(str(parquet_dir)),
        "duckdb_copy": MetadataValue.path(str(copy.path)),
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
        "postgres": MetadataValue.text(
            f"schema marts in {redact_url(postgres_url)}"
            if postgres_rows is not None
            else f"not published ({POSTGRES_URL_VARIABLE} not set)"
        ),
    }
    return MaterializeResult(metadata=metadata)


@asset(
    key=AssetKey(["publish", "board_report"]),
    deps=[published_marts.key],
    group_name="publish",
    description=(
        f"The board report in Danish: <publish>/{REPORT_FILE}, one self-contained HTML file "
        "(plotly.js inlined; works offline). Built from the published DuckDB copy: a first "
        "page for every area, and a section per area for at most BOLIGSOCIAL_REPORT_MAX_AREAS "
        "areas (default 30; the most severe on the list) or those chosen with "
        "BOLIGSOCIAL_REPORT_AREAS / BOLIGSOCIAL_REPORT_MUNICIPALITY. See docs/bi.md."
    ),
    kinds={"html", "plotly"},
    owners=["team:kompetencecenter"],
    tags={"layer": "publish"},
)
def board_report(context: AssetExecutionContext):
    # Imported here: plotly and pandas are not needed to load the code location.
    from report import Marts as ReportMarts
    from report import detail_areas, load_marts, render

    _, copy_path = publish_paths()
    with duckdb.connect(str(copy_path), read_only=True) as con:
        marts = ReportMarts.from_frames(load_marts(con))
    document, charts = render(marts, datetime.now())
    detail = detail_areas(marts)  # the sections render chose (same rule, same environment)
    target = settings.publish_dir() / REPORT_FILE
    aside = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    aside.write_text(document, encoding="utf-8")
    os.replace(aside, target)
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


publish_assets = [published_marts, board_report]
