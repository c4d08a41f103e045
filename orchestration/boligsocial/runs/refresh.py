"""`make run`: materialise every asset once, then say what was built or what failed.

Runs the `refresh_all` job (in process, like every run of this code location) against the
instance in DAGSTER_HOME, so the run shows in the UI.
"""

from __future__ import annotations

import os
import sys

from dagster import DagsterInstance, JobDefinition, execute_job, reconstructable

from boligsocial.configuration import config, settings
from boligsocial.loading.warehouse import connect
from boligsocial.runs import recovery
from boligsocial.runs.findings import run_findings
from boligsocial.validation.data_docs import build_data_docs

# The console shows step progress, not Dagster's debug events (those are in the run's log in
# the UI). BOLIGSOCIAL_LOG_LEVEL=DEBUG brings them back.
RUN_CONFIG = {
    "loggers": {
        "console": {"config": {"log_level": os.environ.get("BOLIGSOCIAL_LOG_LEVEL", "INFO")}}
    },
}


def refresh_job() -> JobDefinition:
    from boligsocial.definitions import defs

    return defs.resolve_job_def("refresh_all")


def summary() -> list[str]:
    lines = []
    with connect(settings.warehouse_path(), read_only=True) as con:
        tables = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where schema_name in ('raw', 'marts') order by 1"
        ).fetchall()
        for (table,) in tables:
            rows = con.execute(f"select count(*) from {table}").fetchone()[0]
            lines.append(f"  {table:<32} {rows:>10,} rows")
    return lines


def municipality_warning() -> str | None:
    """The warning when `[municipality] code` is not the delivered areas' (as `check` says)."""
    with connect(settings.warehouse_path(), read_only=True) as con:
        codes = con.execute("select distinct municipality_code from raw.areas").fetchall()
    mismatch = config.municipality_mismatch(config.load(), [c for (c,) in codes])
    return mismatch.text("da") if mismatch else None


def main() -> int:
    # A configuration that cannot be used is one sentence, before anything loads it.
    if config.load_or_say() is None:
        return 1
    instance = DagsterInstance.get()
    # Before the run: a run killed outright is marked failed and what it left ended (one line
    # each), and this run waits (bounded, in sleeps) while a live run writes the warehouse.
    recovery.mark_process()
    try:
        lock = recovery.acquire_writer_lock(
            settings.warehouse_path(),
            config.load().limits.warehouse_wait_seconds,
            instance=instance,
            say=lambda line: print(line, file=sys.stderr),
        )
    except recovery.WarehouseBusy as busy:
        print(f"Run not started: {busy}", file=sys.stderr)
        return 1
    try:
        result = execute_job(
            reconstructable(refresh_job),
            instance=instance,
            run_config=RUN_CONFIG,
            raise_on_error=False,
        )
    finally:
        lock.release()
    errors, warnings = run_findings(result.all_events)
    docs = build_data_docs()  # as the daemon's data_docs job does after every refresh
    warning_lines = [f"warning: {line}" for line in warnings]
    if not result.success or errors:
        reasons = errors or ["see the run's logs in the Dagster UI (make ui)"]
        print(f"Run {result.run_id} FAILED: {reasons[0]}", file=sys.stderr)
        for line in [*reasons[1:], *warning_lines]:
            print(f"  {line}", file=sys.stderr)
        print(f"Validation results: {docs}", file=sys.stderr)
        return 1
    if mismatch := municipality_warning():
        warning_lines.append(mismatch)
    for line in warning_lines:
        print(line, file=sys.stderr)
    print(f"\nRun {result.run_id} succeeded. Sources: {settings.sources_dir()}")
    print(f"Warehouse: {settings.warehouse_path()}")
    print("\n".join(summary()))
    print(f"Validation results (GX Data Docs): {docs}")
    print("\nOpen the Dagster UI with `make ui` (http://127.0.0.1:3000).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
