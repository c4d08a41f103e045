"""Digests of warehouse tables, to compare two warehouses or one before and after a run."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

from orchestration.warehouse import connect


def tables_digest(
    warehouse: Path, schemas: Sequence[str], value: Callable[[object], object] = lambda v: v
) -> dict[str, str]:
    """sha256 of every table's rows in `schemas`, in a total order; `value` maps each value
    first (e.g. to round doubles)."""
    digests = {}
    with connect(warehouse, read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where list_contains(?, schema_name) order by 1",
            [list(schemas)],
        ).fetchall()
        for (table,) in tables:
            rows = con.execute(f"select * from {table}").fetchall()
            lines = sorted(repr([value(v) for v in row]) for row in rows)
            digests[table] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    return digests
