"""`make run`: materialise every asset once, then say what was built or what failed.

Runs the `refresh_all` job (in process, like every run of this code location) against the
instance in DAGSTER_HOME, so the run shows in the UI. The terminal gets a line per stage as the
run reaches it, then the summary, the warnings in words and where the full log is: everything
the run's processes write (Dagster's log lines, dbt's line per model and test, any stack trace)
goes to that log file, `$DAGSTER_HOME/logs/refresh-<time>.log` (beside the run history it
belongs with), and the run's events are in the UI.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from dagster import (
    DagsterEventType,
    DagsterInstance,
    JobDefinition,
    RunsFilter,
    execute_job,
    reconstructable,
)

from boligsocial.configuration import config, settings
from boligsocial.loading.warehouse import connect
from boligsocial.runs import recovery
from boligsocial.runs.findings import run_findings
from boligsocial.validation.data_docs import build_data_docs

# The log file gets step progress, not Dagster's debug events (those are in the run's log in
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


def dbt_line(events) -> str | None:
    """How many models and seeds dbt built and how many it left as they were (unchanged)."""
    from boligsocial.defs.dbt.assets import UNCHANGED, dbt_models

    materialised = [
        e.step_materialization_data.materialization
        for e in events
        if e.event_type == DagsterEventType.ASSET_MATERIALIZATION and e.asset_key in dbt_models.keys
    ]
    if not materialised:
        return None
    unchanged = sum(UNCHANGED in m.metadata for m in materialised)
    return (
        f"dbt: {len(materialised) - unchanged} models and seeds built, {unchanged} skipped as "
        "unchanged since the last build"
    )


def municipality_warning() -> str | None:
    """The warning when `[municipality] code` is not the delivered areas' (as `check` says)."""
    with connect(settings.warehouse_path(), read_only=True) as con:
        codes = con.execute("select distinct municipality_code from raw.areas").fetchall()
    mismatch = config.municipality_mismatch(config.load(), [c for (c,) in codes])
    return mismatch.text("da") if mismatch else None


# The run's stages, in order, by the first part of a step's key (an asset's first key part).
STAGES = (
    ("sources", "Reading and validating the delivered files", ("raw", "statbank")),
    ("models", "Building the models and running their tests (dbt)", ("dbt_models", "marts")),
    ("publication", "Publishing the marts and the board report", ("publish",)),
)
_STEP_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
}


# A run of this process carries this tag (a fresh value): how the progress finds its events.
RUN_TAG = "boligsocial/refresh"


def stage_of(step_key: str) -> int:
    """The stage of a step; a step of no known stage counts with the models."""
    first = step_key.split("__")[0]
    return next((i for i, (*_, firsts) in enumerate(STAGES) if first in firsts), 1)


class Progress:
    """Says on the terminal which stage the run is in and how each ended, from the run's
    events as the instance stores them (read every half second in a thread, from where the
    last look ended: each look reads only the new events)."""

    def __init__(self, instance: DagsterInstance, tag: str, terminal: TextIO) -> None:
        self.instance, self.tag, self.terminal = instance, tag, terminal
        self.stage = -1  # the stage said last
        self.started = [0] * len(STAGES)
        self.done = [0] * len(STAGES)
        self.failed: list[list[str]] = [[] for _ in STAGES]
        self.run_id: str | None = None
        self.cursor: str | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> Progress:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self._update()  # what came after the last look
        self._end_stage()

    def _watch(self) -> None:
        while not self.stop.wait(0.5):
            self._update()

    def _update(self) -> None:
        if self.run_id is None:
            runs = self.instance.get_run_records(RunsFilter(tags={RUN_TAG: self.tag}), limit=1)
            if not runs:
                return
            self.run_id = runs[0].dagster_run.run_id
        new = self.instance.get_records_for_run(self.run_id, self.cursor, of_type=_STEP_EVENTS)
        self.cursor = new.cursor
        for record in (r.event_log_entry for r in new.records):
            stage = stage_of(record.step_key or "")
            while self.stage < stage:
                self._end_stage()
                self.stage += 1
                self._say(f"[{self.stage + 1}/{len(STAGES)}] {STAGES[self.stage][1]} ...")
            kind = record.dagster_event.event_type
            if kind == DagsterEventType.STEP_START:
                self.started[stage] += 1
            elif kind == DagsterEventType.STEP_SUCCESS:
                self.done[stage] += 1
            else:
                self.failed[stage].append(record.step_key)

    def _end_stage(self) -> None:
        """How the stage said last ended (once)."""
        if self.stage < 0 or self.started[self.stage] < 0:
            return
        failed = self.failed[self.stage]
        line = f"      {self.done[self.stage]} of {self.started[self.stage]} steps done"
        self._say(line + (f"; failed: {', '.join(failed)}" if failed else ""))
        self.started[self.stage] = -1

    def _say(self, line: str) -> None:
        print(line, file=self.terminal, flush=True)


@contextmanager
def output_to(log: Path) -> Iterator[TextIO]:
    """Within the block, this process's and its children's stdout and stderr (file
    descriptors 1 and 2) write to `log`; the block gets the terminal to say things on."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = open(os.dup(saved[0]), "w")  # noqa: SIM115 (closed below)
    with log.open("a") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            terminal.close()


def log_path() -> Path:
    return settings.dagster_home() / "logs" / f"refresh-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


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
    log = log_path()
    tag = uuid.uuid4().hex
    print(f"Refreshing from {settings.sources_dir()} (the full log: {log})")
    try:
        with output_to(log) as terminal, Progress(instance, tag, terminal):
            result = execute_job(
                reconstructable(refresh_job),
                instance=instance,
                run_config=RUN_CONFIG,
                tags={RUN_TAG: tag},
                raise_on_error=False,
            )
            errors, warnings = run_findings(result.all_events)
            # As the daemon's data_docs job does after every refresh.
            docs = build_data_docs()
    finally:
        lock.release()
    warning_lines = [f"warning: {line}" for line in warnings]
    if not result.success or errors:
        reasons = errors or ["see the run's log"]
        print(f"Run {result.run_id} FAILED: {reasons[0]}", file=sys.stderr)
        for line in [*reasons[1:], *warning_lines]:
            print(f"  {line}", file=sys.stderr)
        print(f"Validation results: {docs}", file=sys.stderr)
        print(f"The full log: {log}; the run in the Dagster UI: make ui", file=sys.stderr)
        return 1
    if mismatch := municipality_warning():
        warning_lines.append(f"warning: {mismatch}")
    for line in warning_lines:
        print(line, file=sys.stderr)
    print(f"\nRun {result.run_id} succeeded. Sources: {settings.sources_dir()}")
    print(f"Warehouse: {settings.warehouse_path()}")
    print("\n".join(summary()))
    if line := dbt_line(result.all_events):
        print(line)
    print(f"Validation results (GX Data Docs): {docs}")
    print(f"The full log: {log}")
    print("\nOpen the Dagster UI with `make ui` (http://127.0.0.1:3000).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
