"""A load's validation as production runs it, on rows a test made: `raw_validator`'s two calls
as `loading.warehouse.ingest` makes them (the rows of the new files as one chunk, then raw as
the load would commit it), on a real DuckDB warehouse whose raw holds the reference tables."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from boligsocial.loading.warehouse import Incoming, connect
from boligsocial.sources.catalog import SOURCES_BY_NAME, SourceSpec
from boligsocial.validation.report import ValidationReport
from boligsocial.validation.validate import ValidationFailed, raw_validator


def _write_raw(con, spec: SourceSpec, frame: pd.DataFrame) -> None:
    """`frame`'s rows in raw.<name> (the contract's types; a cell a test made that is not of
    its type is NULL there, as the readers never hand one over)."""
    con.execute("create schema if not exists raw")
    con.execute(f"create or replace table {spec.table} ({spec.ddl_columns()})")
    columns = [n for n, _ in spec.columns if n in frame.columns]
    columns += [c for c in ("_source_file", "_source_row") if c in frame.columns]
    types = dict(spec.columns) | {"_source_file": "VARCHAR", "_source_row": "INTEGER"}
    con.register("_test_rows", frame[columns])
    try:
        names = ", ".join(f'"{c}"' for c in columns)
        values = ", ".join(f'try_cast("{c}" as {types[c]})' for c in columns)
        con.execute(f"insert into {spec.table} ({names}) select {values} from _test_rows")
    finally:
        con.unregister("_test_rows")


@contextlib.contextmanager
def _results_in(results_dir: Path | None) -> Iterator[None]:
    before = os.environ.get("BOLIGSOCIAL_GX_RESULTS")
    if results_dir is not None:
        os.environ["BOLIGSOCIAL_GX_RESULTS"] = str(results_dir)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("BOLIGSOCIAL_GX_RESULTS", None)
        else:
            os.environ["BOLIGSOCIAL_GX_RESULTS"] = before


def validate_load(
    name: str,
    frame: pd.DataFrame,
    *,
    areas: pd.DataFrame | None = None,
    departments: pd.DataFrame | None = None,
    files: Sequence[str] | None = None,
    run_id: str | None = None,
    results_dir: Path | None = None,
) -> ValidationReport:
    """The report of loading `frame` (a source's rows as its reader gives them, with
    `_source_file`/`_source_row`) as new files, `files` delivered (default: `frame`'s), with
    `areas` and `departments` in raw; a rejected load's report too."""
    spec = SOURCES_BY_NAME[name]
    delivered = sorted(files if files is not None else frame["_source_file"].unique())
    loaded = sorted(frame["_source_file"].unique())
    with (
        tempfile.TemporaryDirectory(prefix="validate-load-") as tmp,
        connect(Path(tmp) / "warehouse.duckdb") as con,
        _results_in(results_dir),
    ):
        for reference, rows in (("areas", areas), ("departments", departments)):
            if rows is not None and reference != name:
                _write_raw(con, SOURCES_BY_NAME[reference], rows)
        _write_raw(con, spec, frame)
        reports: list[ValidationReport] = []
        validator = raw_validator(spec, reports, run_id=run_id)
        incoming = Incoming(delivered, [], con, loaded, [])
        validator.rows(incoming, frame)
        try:
            validator.table(incoming)
        except ValidationFailed as failed:
            return failed.report
        return reports[0]
