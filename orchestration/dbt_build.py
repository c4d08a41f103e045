"""The dbt step: `dbt build` in the step's own process, for what the plan says must be rebuilt.

Imported only when the dbt step runs (dagster-dbt and dbt-core take seconds to import); the
asset definition is `orchestration.assets.dbt`. dbt runs through its Python entry point
(`dbtRunner`), not as a subprocess: a subprocess imports dbt-core again (2.6 s on a 2-core EPYC)
in every run. dagster-dbt turns dbt's result events into Dagster events, as it does with a
subprocess's JSON log; they are yielded as the asset's outputs and check results, each model
with its row count, column schema and a Markdown preview read from the warehouse once dbt has
let it go (dbt-duckdb holds the file open for the whole build).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
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
)
from dagster_dbt import DagsterDbtTranslator
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration import dbt_specs, dbt_state
from orchestration.metadata import markdown_table, table_metadata


class BoligsocialTranslator(DagsterDbtTranslator):
    """dagster-dbt's view of the nodes: the naming rules of `orchestration.dbt_specs`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        return dbt_specs.asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_specs.group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return dbt_specs.OWNERS

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return dbt_specs.tags(dbt_resource_props)


# The events dagster-dbt turns into materialisations and check results (its
# DbtCoreCliEventMessage.is_result_event).
RESULT_EVENTS = frozenset({"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"})


@dataclass
class DbtInvocation:
    """One dbt command, run in this process: its result events (as the dicts of dbt's JSON
    log), each node's (unique_id, status, message) unless dbt stopped before running any, its
    error-level messages and its target folder."""

    target_path: Path
    success: bool = False
    result_events: list[dict[str, Any]] = field(default_factory=list)
    node_results: list[tuple[str, str, str]] | None = None
    error_messages: list[str] = field(default_factory=list)

    def asset_events(
        self, manifest: Mapping[str, Any], translator: DagsterDbtTranslator
    ) -> Iterator:
        """dagster-dbt's op-level events: a materialisation per model or seed, a check
        evaluation per test."""
        for raw_event in self.result_events:
            event = DbtCoreCliEventMessage(raw_event=raw_event, event_history_metadata={})
            yield from event.to_default_asset_events(
                manifest=manifest, dagster_dbt_translator=translator, target_path=self.target_path
            )


def run_dbt(args: list[str], project_dir: Path, target_path: Path) -> DbtInvocation:
    """`dbt <args>` on the project, with `target_path` for its artifacts (if `args` lets dbt
    write them) and log. dbt's usual console output goes to stdout (the step's logs)."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.functions import msg_to_dict

    invocation = DbtInvocation(target_path)

    def collect(message) -> None:
        if message.info.name in RESULT_EVENTS:
            invocation.result_events.append(msg_to_dict(message))
        if message.info.level == "error":
            invocation.error_messages.append(message.info.msg)

    location = ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    paths = ["--target-path", str(target_path), "--log-path", str(target_path)]
    try:
        result = dbtRunner(callbacks=[collect]).invoke(
            [*args, *location, *paths, "--no-send-anonymous-usage-stats"]
        )
    finally:
        release_warehouse()
    if result.exception is not None and not isinstance(result.exception, Exception):
        # dbtRunner returns every exception; an interruption (the run terminated: Dagster's
        # DagsterExecutionInterruptedError, a KeyboardInterrupt) must still stop the step.
        raise result.exception
    invocation.success = result.success and not invocation.error_messages
    if result.result is not None and hasattr(result.result, "results"):
        invocation.node_results = [
            (r.node.unique_id, str(r.status), r.message or "") for r in result.result.results
        ]
    if result.exception is not None:
        invocation.error_messages.append(str(result.exception))
    return invocation


def release_warehouse() -> None:
    """Close the DuckDB connection dbt-duckdb keeps for the whole process (a class attribute,
    kept after dbt returns): until then no other process can open the warehouse."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with contextlib.suppress(Exception):  # no environment: dbt never connected
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


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
        current = dbt_state.fingerprints(con, manifest)
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

    target = invocation_target(project_dir, context.run.run_id)
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
        # report reads the nodes' results from dbtRunner.
        args.append("--no-write-json")
    context.log.info(f"Running dbt {' '.join(args)}")
    invocation = run_dbt(args, project_dir, target)
    keep_partial_parse(target, project_dir)
    events = list(invocation.asset_events(manifest, BoligsocialTranslator()))
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
