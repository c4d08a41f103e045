"""Copying the warehouse's raw tables into PostgreSQL, for dbt's `postgres` target (pure: no
Dagster imports).

Each `raw.<name>` of the catalog is recreated in PostgreSQL schema `raw` with the catalog's
columns (contract + lineage), their DuckDB types mapped as the PostgreSQL publication maps the
marts', and its rows sent with COPY. All tables are replaced in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import psycopg
from psycopg import sql

from boligsocial.publication.publish import copy_to_postgres, postgres_type
from boligsocial.sources.catalog import LINEAGE_COLUMNS, SOURCES, SourceSpec

SCHEMA = "raw"


def _ddl(spec: SourceSpec) -> sql.Composed:
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(postgres_type(duckdb_type)))
        for name, duckdb_type in (*spec.columns, *LINEAGE_COLUMNS)
    ]
    return sql.SQL("create table {}.{} ({})").format(
        sql.Identifier(SCHEMA), sql.Identifier(spec.name), sql.SQL(", ").join(columns)
    )


def copy_raw(
    con: duckdb.DuckDBPyConnection, url: str, specs: Sequence[SourceSpec] = SOURCES
) -> dict[str, int]:
    """Replace PostgreSQL's `raw.<name>` tables with the warehouse's; returns rows per table."""
    rows = {}
    with psycopg.connect(url) as pg, pg.transaction():
        pg.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA)))
        for spec in specs:
            names = ", ".join(f'"{n}"' for n, _ in (*spec.columns, *LINEAGE_COLUMNS))
            # dbt's staging views select from these; the next dbt build recreates them.
            pg.execute(
                sql.SQL("drop table if exists {}.{} cascade").format(
                    sql.Identifier(SCHEMA), sql.Identifier(spec.name)
                )
            )
            pg.execute(_ddl(spec))
            rows[spec.name] = copy_to_postgres(
                con, f"select {names} from {spec.table}", pg, SCHEMA, spec.name
            )
    return rows
