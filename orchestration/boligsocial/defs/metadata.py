"""Materialisation metadata shared by all assets: row count, schema and a Markdown preview."""

from __future__ import annotations

import duckdb
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 5


def markdown_table(columns: list[str], rows: list[tuple]) -> str:
    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, object]:
    schema, name = table.split(".")
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, name],
    ).fetchall()
    row_count = con.execute(f"select count(*) from {table}").fetchone()[0]
    preview = con.execute(f"select * from {table} limit {PREVIEW_ROWS}").fetchall()
    return {
        "dagster/row_count": MetadataValue.int(row_count),
        "dagster/column_schema": TableSchema(columns=[TableColumn(n, t) for n, t in columns]),
        "dagster/table_name": MetadataValue.text(table),
        "preview": MetadataValue.md(markdown_table([n for n, _ in columns], preview)),
    }
