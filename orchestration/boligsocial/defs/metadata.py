"""Materialisation metadata shared by all assets: row count, schema and a Markdown preview."""

from __future__ import annotations

import re

import duckdb
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 5


# Every ASCII punctuation character of a cell, backslash-escaped: CommonMark then shows it as
# itself, so a delivered value is never a link, an image, emphasis or a table's "|" in the UI.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def markdown_cell(value: object) -> str:
    """`value` as the text of one Markdown table cell: shown as written, on one line. (The UI
    renders Markdown without raw HTML, sanitized; a cell escapes what Markdown would read.)"""
    if value is None:
        return ""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(value)))


def markdown_table(columns: list[str], rows: list[tuple]) -> str:
    cells = [[markdown_cell(c) for c in columns], *([markdown_cell(v) for v in r] for r in rows)]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
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
