"""The dbt step: `dbt build` for what the plan says must be rebuilt, run by the dbt worker.

dbt runs in a process of its own (`orchestration.dbt_worker`), which the dbt resource starts
when the run starts, so that importing dbt-core and dagster-dbt and loading the project happen
on the other core while the ingest steps run; this process imports neither. The worker answers
with dagster-dbt's events for dbt's results; they are yielded as the asset's outputs and check
results, each model with its row count, column schema and a Markdown preview read from the
warehouse once the worker has let it go.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    Failure,
    MetadataValue,
    Output,
    deserialize_value,
)

from orchestration import dbt_specs, dbt_state
from orchestration.metadata import markdown_table, table_metadata


@dataclass
class DbtInvocation:
    """One dbt command: dagster-dbt's op-level events for its results (a materialisation per
    model or seed, a check evaluation per test), each node's (unique_id, status, message)
    unless dbt stopped before running any, its error-level messages and its target folder."""

    target_path: Path
    success: bool = False
    events: list[Any] = field(default_factory=list)
    node_results: list[tuple[str, str, str]] | None = None
    error_messages: list[str] = field(default_factory=list)


class DbtWorker:
    """The run's end of an `orchestration.dbt_worker` process, which runs one dbt command.

    Created ahead of the dbt step (the process starts at once); `run` sends the command and
    waits for the answer and the process's end; `close` ends a worker that was not used (or
    whose run was interrupted)."""

    def __init__(self, project_dir: Path, run_id: str) -> None:
        self.target_path = invocation_target(project_dir, run_id)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orchestration.dbt_worker",
                str(project_dir),
                str(self.target_path),
                str(project_dir / "target" / "manifest.json"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, args: list[str]) -> DbtInvocation:
        try:
            with contextlib.suppress(BrokenPipeError):  # it died: reported below
                self.process.stdin.write(json.dumps({"args": args}) + "\n")
                self.process.stdin.close()
            answer = self.process.stdout.readline()
            code = self.process.wait()
        except BaseException:  # the run was interrupted: dbt must stop too
            self.close()
            raise
        if not answer:
            return DbtInvocation(
                self.target_path,
                error_messages=[
                    f"the dbt worker process ended (exit code {code}) without an answer; "
                    "its output is in the step's log"
                ],
            )
        answered = json.loads(answer)
        return DbtInvocation(
            self.target_path,
            success=answered["success"],
            events=[deserialize_value(event) for event in answered["events"]],
            node_results=[tuple(r) for r in answered["node_results"]]
            if answered["node_results"] is not None
            else None,
            error_messages=answered["error_messages"],
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def _list_status_summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Areas on the list in the latest data year, per ruleset."""
    year, rows = _latest(
        con,
        "select ruleset, bool_or(in_force), count(*) filter (where status <> 'none'), "
        "string_agg(case when status <> 'none' then area_id || ' (' || status || ')' end, ', ' "
        "order by area_id) from marts.area_list_status where year = ? group by ruleset "
        "order by ruleset",
        "marts.area_list_status",
    )
    on_list = {ruleset: count for ruleset, _, count, _ in rows}
    table = markdown_table(["ruleset", "in force", "areas on the list", "areas"], rows)
    return {
        "summary_year": MetadataValue.int(year) if year is not None else None,
        "areas_on_list": MetadataValue.json(on_list),
        "summary": MetadataValue.md(f"**Areas on the list in {year}, per ruleset**\n\n{table}"),
    }


def _allocation_summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """The 80/20 split per area in the latest year: the drift share against the 80 % target."""
    year, rows = _latest(
        con,
        "select area_id, cast(round(budget_total_dkk) as bigint), round(share_drift * 100, 1), "
        "round(deviation_pp, 1), within_tolerance from marts.allocation_8020 where year = ? "
        "order by area_id = 'ALLE', area_id",
        "marts.allocation_8020",
    )
    shares = {area: share for area, _, share, _, _ in rows}
    table = markdown_table(
        ["area", "budget DKK", "drift share %", "deviation pp", "within ±5 pp"], rows
    )
    return {
        "summary_year": MetadataValue.int(year) if year is not None else None,
        "share_drift_pct": MetadataValue.json(shares),
        "summary": MetadataValue.md(f"**80/20 split in {year} (target 80 % drift)**\n\n{table}"),
    }


def _latest(con: duckdb.DuckDBPyConnection, sql: str, table: str) -> tuple[int | None, list]:
    (year,) = con.execute(f"select max(year) from {table}").fetchone()
    return year, con.execute(sql, [year]).fetchall() if year is not None else []


MART_SUMMARIES = {
    AssetKey(["marts", "area_list_status"]): _list_status_summary,
    AssetKey(["marts", "allocation_8020"]): _allocation_summary,
}


def dagster_events(
    dbt_events: Iterable, selected_checks: set, con: duckdb.DuckDBPyConnection
) -> Iterator:
    """dagster-dbt's op-level events as the dbt asset's: outputs (with table metadata) and
    check results; a test that is not a selected check stays an observation or is dropped."""
    for event in dbt_events:
        if isinstance(event, AssetMaterialization):
            key = event.asset_key
            metadata = {**event.metadata, **table_metadata(con, ".".join(key.path))}
            if key in MART_SUMMARIES:
                summary = MART_SUMMARIES[key](con)
                metadata |= {k: v for k, v in summary.items() if v is not None}
            yield Output(None, output_name=key.to_python_identifier(), metadata=metadata)
        elif isinstance(event, AssetCheckEvaluation):
            if event.asset_check_key in selected_checks:
                yield AssetCheckResult(
                    asset_key=event.asset_key,
                    check_name=event.check_name,
                    passed=event.passed,
                    severity=event.severity,
                    metadata=event.metadata,
                )
        else:
            yield event


def _failure(invocation: DbtInvocation) -> Failure:
    """The failed dbt nodes, the first one (name and dbt's message) on the first line; when dbt
    stopped before running any (a parse or connection error), dbt's error."""
    if invocation.node_results is not None:
        lines = [
            f"{unique_id.split('.', 2)[-1]} ({status}): "
            + (message.strip().splitlines() or [""])[0]
            for unique_id, status, message in invocation.node_results
            if status in ("error", "fail", "runtime error")
        ]
    else:
        lines = [" ".join(m.split()) for m in invocation.error_messages]
    first = lines[0] if lines else "see the dbt output in the step's logs"
    return Failure(
        description=f"dbt build failed: {first}",
        metadata={"failed_nodes": MetadataValue.md("\n".join(f"- {line}" for line in lines))},
    )


PARTIAL_PARSE = "partial_parse.msgpack"


def invocation_target(project_dir: Path, run_id: str) -> Path:
    """A target folder of the run's own, seeded with the project's partial-parse file.

    dagster-dbt gives every invocation a fresh target folder, which makes dbt parse the whole
    project again (seconds) and leaves ~15 MB behind per run; `make run` parses once beforehand.
    """
    target = project_dir / "target" / "runs" / run_id
    target.mkdir(parents=True, exist_ok=True)
    partial_parse = project_dir / "target" / PARTIAL_PARSE
    if partial_parse.exists():
        shutil.copy2(partial_parse, target / PARTIAL_PARSE)
    return target


def keep_partial_parse(target: Path, project_dir: Path) -> None:
    """Make the invocation's partial-parse file the project's, for the next run to start from.

    dbt parses the whole project again (3 s more) when the profile differs from the one the
    file was written with, and the profile holds the warehouse path: without this, every run on
    a warehouse other than the one `make` parsed for (the bench's, a deployment's) would.
    Replaced atomically: another run may be copying it.
    """
    written = target / PARTIAL_PARSE
    if written.exists():
        kept = project_dir / "target" / PARTIAL_PARSE
        incoming = kept.with_name(f".{PARTIAL_PARSE}.{target.name}")
        shutil.copy2(written, incoming)
        os.replace(incoming, kept)


def node_selector(props: Mapping[str, Any]) -> str:
    return "fqn:" + ".".join(props["fqn"])


def build(
    context: AssetExecutionContext,
    *,
    project_dir: Path,
    worker: DbtWorker,
    connect: Callable[[], duckdb.DuckDBPyConnection],
    manifest: dict[str, Any],
    specs: dbt_specs.DbtSpecs,
    full_refresh: bool,
) -> Iterator:
    """Run `dbt build` for the selected dbt assets and yield their events.

    With every dbt asset selected (a refresh), only what changed is rebuilt
    (`orchestration.dbt_state`), and the state is kept after a successful build; a hand-picked
    subset is built as picked.
    """
    selected = set(context.selected_asset_keys)
    whole_project = selected == set(specs.unique_id_by_key)
    with connect() as con:
        # The sources' state a whole-project build plans from and keeps; a subset build needs
        # none (reading every raw table's file list: 0.2 s of an incremental national run).
        current = dbt_state.fingerprints(con, manifest) if whole_project else None
        previous = dbt_state.load_state(con)
    command = "build"
    if whole_project:
        plan = dbt_state.plan_build(
            manifest, previous, current, full_refresh=full_refresh, project_dir=project_dir
        )
    else:
        if selected:
            picked, what = [specs.unique_id_by_key[key] for key in selected], "assets"
        else:  # only checks picked (a dbt test run again from the UI): the tests, no model
            command = "test"
            checks = context.selected_asset_check_keys
            picked, what = [specs.test_by_check[key] for key in checks], "tests"
        changed = dbt_state.incremental_models_changed(manifest, previous, project_dir)
        stale = set(changed) & set(picked)
        plan = dbt_state.BuildPlan(
            select=[node_selector(dbt_specs.node(manifest, u)) for u in sorted(picked)],
            reasons=[f"the {len(picked)} dbt {what} selected in this run"],
            full_refresh=command == "build" and (full_refresh or bool(stale)),
        )
    context.log.info(f"dbt {command} of " + "; ".join(plan.reasons))

    target = worker.target_path
    # dbt unit tests check the SQL, not the data: they run in the test suite (tests/dbt), and
    # would double the refresh's dbt time on every run.
    args = [command, "--exclude-resource-type", "unit_test"]
    if plan.select:
        args += ["--select", " ".join(plan.select)]
    if plan.full_refresh:
        args.append("--full-refresh")
    if plan.state_manifest is not None:
        state_dir = target / "state"
        state_dir.mkdir(exist_ok=True)
        (state_dir / "manifest.json").write_text(json.dumps(plan.state_manifest))
        args += ["--state", str(state_dir)]
    if not whole_project:
        # Only a whole-project build's manifest is kept (the state); dbt writes manifest.json
        # twice and run_results.json (1 s of an incremental national run), and the failure
        # report reads the nodes' results from the worker's answer.
        args.append("--no-write-json")
    context.log.info(f"Running dbt {' '.join(args)}")
    invocation = worker.run(args)
    keep_partial_parse(target, project_dir)
    events = invocation.events
    built = sum(isinstance(e, AssetMaterialization) for e in events)
    tests = sum(isinstance(e, AssetCheckEvaluation) for e in events)
    with connect() as con:
        yield from dagster_events(events, set(context.selected_asset_check_keys), con)
        if invocation.success and whole_project:
            built_manifest = json.loads((target / "manifest.json").read_text())
            dbt_state.save_state(con, dbt_state.BuildState(built_manifest, current))
    context.log.info(f"dbt {command}: {built} models and seeds, {tests} tests")
    if not invocation.success:
        raise _failure(invocation)  # the target folder (dbt.log) stays for the post-mortem
    shutil.rmtree(target, ignore_errors=True)
