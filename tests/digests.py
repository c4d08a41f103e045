"""Digests of warehouse tables, to compare two warehouses or one before and after a run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from boligsocial.loading.warehouse import connect


def tables_digest(
    warehouse: Path,
    schemas: Sequence[str],
    value: Callable[[object], object] = lambda v: v,
    without: Sequence[str] = (),
) -> dict[str, str]:
    """sha256 of every table's rows in `schemas`, in a total order; `value` maps each value
    first (e.g. to round doubles); columns named in `without` are left out where a table has
    them."""
    digests = {}
    with connect(warehouse, read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where list_contains(?, schema_name) order by 1",
            [list(schemas)],
        ).fetchall()
        for (table,) in tables:
            schema, name = table.split(".")
            columns = [
                f'"{column}"'
                for (column,) in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? "
                    "and table_name = ? order by column_index",
                    [schema, name],
                ).fetchall()
                if column not in without
            ]
            rows = con.execute(f"select {', '.join(columns)} from {table}").fetchall()
            lines = sorted(repr([value(v) for v in row]) for row in rows)
            digests[table] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return digests
