"""The dbt worker: the process that runs a run's one dbt command, started when the run starts.

Before dbt runs a node, a process needs dbt-core and dagster-dbt imported (≈ 3 s on a 2-core
EPYC) and the project's manifest loaded (project, profile, partial parse: ≈ 2–3 s). Done in the
run's own process, that work holds the interpreter, which the run's Python threads share, for
≈ 6 s. So the dbt resource starts this process as soon as a run that builds dbt assets begins
(`orchestration.assets.dbt.DbtResource`): it imports and parses on the other core while the
ingest steps load the sources, then waits for the dbt step's command. It opens the warehouse
only to run that command (the ingest steps write it until then), and lets it go before it
answers.

Protocol (the parent's end is `orchestration.dbt_build.DbtWorker`): one JSON line on stdin,
`{"args": [...]}`; no line (stdin closed) means the run ended without a dbt build. One JSON line
back on the stdout it started with: `success`, `events` (dagster-dbt's op-level events,
serialised by Dagster), `node_results` and `error_messages`. dbt's console output goes to
stderr, which the step's log captures.

    python -m orchestration.dbt_worker <project dir> <target path> <manifest.json>
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetKey, serialize_value
from dagster_dbt import DagsterDbtTranslator
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage
from dbt.cli.main import dbtRunner
from dbt_common.events.functions import msg_to_dict

from orchestration import dbt_specs


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


def location(project_dir: Path, target_path: Path) -> list[str]:
    """The project, and `target_path` for dbt's artifacts (as far as the command writes them)
    and its log."""
    return [
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(target_path), "--log-path", str(target_path),
        "--no-send-anonymous-usage-stats",
    ]  # fmt: skip


def run(
    args: list[str],
    project_dir: Path,
    target_path: Path,
    manifest: Mapping[str, Any],
    parsed: Any = None,
) -> dict[str, Any]:
    """`dbt <args>` on the project (from the `parsed` manifest, if any), and the answer: its
    result events as dagster-dbt's Dagster events, each node's (unique_id, status, message)
    unless dbt stopped before running any, and its error-level messages."""
    result_events: list[dict[str, Any]] = []
    error_messages: list[str] = []

    def collect(message) -> None:
        if message.info.name in RESULT_EVENTS:
            result_events.append(msg_to_dict(message))
        if message.info.level == "error":
            error_messages.append(message.info.msg)

    try:
        result = dbtRunner(manifest=parsed, callbacks=[collect]).invoke(
            [*args, *location(project_dir, target_path)]
        )
    finally:
        release_warehouse()
    node_results = None
    if result.result is not None and hasattr(result.result, "results"):
        node_results = [
            (r.node.unique_id, str(r.status), r.message or "") for r in result.result.results
        ]
    if result.exception is not None:
        error_messages.append(str(result.exception))
    translator = BoligsocialTranslator()
    events = [
        serialize_value(event)
        for raw_event in result_events
        for event in DbtCoreCliEventMessage(
            raw_event=raw_event, event_history_metadata={}
        ).to_default_asset_events(
            manifest=manifest, dagster_dbt_translator=translator, target_path=target_path
        )
    ]
    return {
        "success": result.success and not error_messages,
        "events": events,
        "node_results": node_results,
        "error_messages": error_messages,
    }


def release_warehouse() -> None:
    """Close the DuckDB connection dbt-duckdb keeps for the whole process (a class attribute,
    kept after dbt returns), so the warehouse is free once the answer is out."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with contextlib.suppress(Exception):  # no environment: dbt never connected
        DuckDBConnectionManager.env().close()
    DuckDBConnectionManager.close_all_connections()


def serve(project_dir: Path, target_path: Path, manifest_path: Path) -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # dbt's console output: the step's log
    # Parsed ahead, without writing manifest.json (a whole-project build writes its own); a
    # failed parse is left for the command, which parses again and reports why.
    parse = dbtRunner().invoke(
        ["--quiet", "parse", "--no-write-json", *location(project_dir, target_path)]
    )
    manifest = dbt_specs.load_manifest(manifest_path)
    request = sys.stdin.readline()
    if not request:
        return
    parsed = parse.result if parse.success else None
    answer = run(json.loads(request)["args"], project_dir, target_path, manifest, parsed)
    answers.write(json.dumps(answer) + "\n")
    answers.flush()


# How often the worker checks that the run's process is still there.
PARENT_CHECK_SECONDS = 0.5


def _end_with_parent() -> None:
    """End this process when the run's process is gone (killed outright, so it could not end
    the worker): a build of a run that no longer exists must not keep the warehouse."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def main() -> None:
    project_dir, target_path, manifest_path = map(Path, sys.argv[1:4])
    threading.Thread(target=_end_with_parent, name="end-with-parent", daemon=True).start()
    code = 0
    try:
        serve(project_dir, target_path, manifest_path)
    except BaseException:
        traceback.print_exc()  # the parent reports that no answer came
        code = 1
    logging.shutdown()  # dbt.log
    sys.stdout.flush()
    sys.stderr.flush()
    # Nothing is left to clean up, and the run waits for this process to end: skip the
    # interpreter's teardown of dbt's and Dagster's ~500,000 objects (≈ 1 s).
    os._exit(code)


if __name__ == "__main__":
    main()
