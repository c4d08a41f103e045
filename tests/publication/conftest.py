"""Fixtures for the publication tests: warehouses holding the marts, in two editions."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import duckdb

from tests.support.marts_fixture import MARTS


def refresh_marts(warehouse: Path, edition_file: Path) -> None:
    """Rewrite every mart in place, as a dbt run does (create or replace, one table at a time)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"attach '{edition_file}' as edition (read_only)")
        for mart in MARTS:
            con.execute(
                f"create or replace table marts.{mart} as select * from edition.marts.{mart}"
            )
        con.execute("detach edition")


def canonical(value: object) -> str:
    """One text per value, equal for equal values whichever database returned them."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def checksum(rows: Iterable[tuple]) -> str:
    lines = sorted("\x1f".join(canonical(v) for v in row) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def duckdb_checksums(con: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, tuple]:
    """(row count, checksum) per mart."""
    result = {}
    for mart in MARTS:
        rows = con.execute(f"select * from {schema}.{mart}").fetchall()
        result[mart] = (len(rows), checksum(rows))
    return result
