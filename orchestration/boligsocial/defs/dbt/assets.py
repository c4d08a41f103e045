"""The dbt project as Dagster assets (dagster-dbt): staging → intermediate → marts, seeds as the
`rulesets` group, dbt tests as asset checks.

The assets come from the manifest in `$DBT_TARGET_PATH` that `make dbt-parse` prepares (so do
`boligsocial run`/`ui` and the test session): importing the code location parses nothing and
changes nothing. A run builds what it selected with `dbt build`, through dagster-dbt's own
selection: in a refresh (the whole project) what changed since the last successful refresh of
the warehouse and what depends on it, by dbt's selection (docs/architecture.md, "The dbt
step"); a subset (the source-files sensor's run, a pick in the UI) as picked.
"""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetExecutionContext,
    AssetKey,
    Definitions,
    Failure,
    MetadataValue,
    Output,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from boligsocial.configuration import config, settings
from boligsocial.defs.metadata import markdown_cell, markdown_table, table_metadata
from boligsocial.defs.resources import WAREHOUSE_POOL, WarehouseResource
from boligsocial.loading.warehouse import ensure_source_changes

# DBT_TARGET_PATH is dbt's own setting; `make` and the tests set it (the tests to a folder of
# their own), and dagster-dbt gives each run a folder under it, seeded with its partial parse.
dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR,
    target_path=os.environ.get("DBT_TARGET_PATH", "target"),
)
if not dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"No dbt manifest at {dbt_project.manifest_path}: `make dbt-parse` prepares it "
        "(`make run`, `make ui`, `boligsocial run` and `boligsocial ui` do it first)."
    )
# The venv's dbt, so the code location works without dbt on PATH.
dbt_cli = DbtCliResource(project_dir=dbt_project, dbt_executable=str(settings.DBT_EXECUTABLE))


class BoligsocialTranslator(DagsterDbtTranslator):
    """Keys, groups and tags of the dbt nodes (the owners: boligsocial/defs/owners.py).

    Sources map to the raw assets through their `meta.dagster.asset_key` (dagster-dbt's
    default); models and seeds are [schema, name]; the group is the layer (the folder under
    models/, `rulesets` for the seeds)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "rulesets"
        fqn = dbt_resource_props["fqn"]
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        layer = self.get_group_name(dbt_resource_props) or "dbt"
        return {**super().get_tags(dbt_resource_props), "layer": layer}


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
    table = markdown_table(["ruleset", "in force", "areas on the list", "areas"], rows)
    return {
        "summary_year": MetadataValue.int(year) if year is not None else None,
        "areas_on_list": MetadataValue.json({ruleset: n for ruleset, _, n, _ in rows}),
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
    table = markdown_table(
        ["area", "budget DKK", "drift share %", "deviation pp", "within ±5 pp"], rows
    )
    return {
        "summary_year": MetadataValue.int(year) if year is not None else None,
        "share_drift_pct": MetadataValue.json({area: share for area, _, share, _, _ in rows}),
        "summary": MetadataValue.md(f"**80/20 split in {year} (target 80 % drift)**\n\n{table}"),
    }


def _latest(con: duckdb.DuckDBPyConnection, sql: str, table: str) -> tuple[int | None, list]:
    (year,) = con.execute(f"select max(year) from {table}").fetchone()
    return year, con.execute(sql, [year]).fetchall() if year is not None else []


MART_SUMMARIES = {
    AssetKey(["marts", "area_list_status"]): _list_status_summary,
    AssetKey(["marts", "allocation_8020"]): _allocation_summary,
}


def _failure(run_results: Mapping[str, Any] | None, error: Exception | None) -> Failure:
    """The failed dbt nodes, the first one (its name and dbt's message, on one line) first; when
    dbt stopped before running any (a parse or connection error), dagster-dbt's error."""
    if run_results is not None:
        lines = [
            f"{r['unique_id'].split('.', 2)[-1]} ({r['status']}): "
            + " ".join((r.get("message") or "").split())
            for r in run_results["results"]
            if r["status"] in ("error", "fail", "runtime error")
        ]
    else:
        lines = [" ".join(str(error).split())] if error else []
    first = lines[0] if lines else "see the dbt output in the step's logs"
    return Failure(
        description=f"dbt build failed: {first}",
        metadata={
            # dbt's messages may quote delivered values: each line shown as written.
            "failed_nodes": MetadataValue.md(
                "\n".join(f"- {markdown_cell(line)}" for line in lines)
            )
        },
    )


@contextmanager
def _profile_environment(warehouse: WarehouseResource) -> Iterator[None]:
    """What dbt's profile reads (dbt_project/profiles.yml): the run's warehouse file and DuckDB's
    bounds. dagster-dbt hands the dbt process this process's environment, so it is set for the
    start of that process only."""
    limits = config.load().limits.duckdb_settings()
    values = {
        "BOLIGSOCIAL_WAREHOUSE": str(Path(warehouse.path).resolve()),  # dbt runs in its project
        "BOLIGSOCIAL_DUCKDB_MEMORY_LIMIT": str(limits["memory_limit"]),
        "BOLIGSOCIAL_DUCKDB_THREADS": str(limits["threads"]),
    }
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _with_table_metadata(context: AssetExecutionContext, event, con: duckdb.DuckDBPyConnection):
    """A model's or seed's output with its row count, schema and preview, and a mart's summary."""
    if not isinstance(event, Output):
        return event
    key = context.asset_key_for_output(event.output_name)
    metadata = table_metadata(con, ".".join(key.path))
    if key in MART_SUMMARIES:
        summary = MART_SUMMARIES[key](con)
        metadata |= {k: v for k, v in summary.items() if v is not None}
    return event.with_metadata({**event.metadata, **metadata})


# The last successful whole build's manifest and source freshness, per warehouse: the next
# refresh builds only what changed since (dbt's `--selector changed`, dbt_project/selectors.yml).
STATE_FILES = ("manifest.json", "sources.json")
# The metadata of a model or seed dbt did not rebuild, its inputs and code unchanged since.
UNCHANGED = "dbt_unchanged"


def state_dir(warehouse: WarehouseResource) -> Path:
    path = Path(warehouse.path).resolve()
    return path.with_name(f"{path.name}.dbt-state")


def _usable_state(warehouse: WarehouseResource) -> Path | None:
    """The state, if every model and seed it built is in the warehouse and it is of this
    calendar year (a new or replaced warehouse, no state, or a new year: None, and everything
    is built)."""
    state = state_dir(warehouse)
    if not all(state.joinpath(name).exists() for name in STATE_FILES):
        return None
    # int_department_area_years reaches to the current year, a fact no source's change time
    # moves: a state of an earlier year would keep last year's department years.
    built_on = date.fromtimestamp(state.joinpath("manifest.json").stat().st_mtime)
    if built_on.year != date.today().year:
        return None
    manifest = json.loads(state.joinpath("manifest.json").read_text())
    built = {
        (node["schema"], node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
    }
    with warehouse.connect(read_only=True) as con:
        present = set(
            con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "union select schema_name, view_name from duckdb_views()"
            ).fetchall()
        )
    return state if built <= present else None


def _keep_state(warehouse: WarehouseResource, target: Path) -> None:
    """The build's manifest and freshness as the state, replacing the last as a whole."""
    state = state_dir(warehouse)
    fresh = state.with_name(f"{state.name}.new")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    for name in STATE_FILES:
        shutil.copy2(target / name, fresh / name)
    old = state.with_name(f"{state.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if state.exists():
        state.rename(old)
    fresh.rename(state)
    shutil.rmtree(old, ignore_errors=True)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=BoligsocialTranslator(),
    name="dbt_models",
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # dbt unit tests check the SQL, not the data: they run in the test suite (tests/dbt).
    args = ["build", "--exclude-resource-type", "unit_test"]
    # A whole build (a refresh) builds what changed since the last one; a subset (the sensor's
    # run, a pick in the UI) is built as picked and keeps the state as it was.
    whole = (
        context.selected_asset_keys == context.assets_def.keys
        and context.selected_asset_check_keys == context.assets_def.check_keys
    )
    target = Path(tempfile.mkdtemp(prefix="dbt_models-", dir=_target_root()))
    with _profile_environment(warehouse):
        fresh = selective = False
        if whole:
            with warehouse.connect() as con:
                ensure_source_changes(con)
            # Each source's last change into the target's sources.json (dbt's source_status).
            fresh = dbt.cli(
                ["source", "freshness"], target_path=target, raise_on_error=False
            ).is_successful()
            state = _usable_state(warehouse) if fresh else None
            selective = state is not None
            if selective:
                # --selector takes precedence over dagster-dbt's --select of every node.
                args += ["--selector", "changed", "--state", str(state)]
        invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
        # The events are held until dbt ends: DuckDB lets no other process read the warehouse
        # while dbt writes it, and each model's row count, schema and preview are read from it.
        events = list(invocation.stream())
    if selective and invocation.is_successful():
        # What dbt left out is as the last build left it: said so, and not missing, as a
        # missing output would skip every step downstream (the publication takes every mart).
        # Their inputs are unchanged too, so they come first, in dependency order: an output
        # must not precede the outputs it depends on.
        built = {event.output_name for event in events if isinstance(event, Output)}
        deps = context.assets_def.asset_deps
        order = TopologicalSorter(
            {key: deps.get(key, set()) for key in context.selected_asset_keys}
        )
        unchanged = [
            Output(None, output_name=name, metadata={UNCHANGED: MetadataValue.bool(True)})
            for key in order.static_order()
            if key in context.selected_asset_keys
            and (name := context.assets_def.get_output_name_for_asset_key(key)) not in built
        ]
        events = unchanged + events
    if any(isinstance(event, Output) for event in events):
        with warehouse.connect(read_only=True) as con:
            events = [_with_table_metadata(context, event, con) for event in events]
    yield from events
    if not invocation.is_successful():
        run_results = None
        if invocation.target_path.joinpath("run_results.json").exists():
            run_results = invocation.get_artifact("run_results.json")
        raise _failure(run_results, invocation.get_error())  # its target folder has dbt.log
    if whole and fresh:
        _keep_state(warehouse, target)
    shutil.rmtree(target, ignore_errors=True)


def _target_root() -> Path:
    root = dbt_project.project_dir / dbt_project.target_path
    root.mkdir(parents=True, exist_ok=True)
    return root


# A module with a Definitions object contributes only that object to the defs folder.
dbt_definitions = Definitions(assets=[dbt_models], resources={"dbt": dbt_cli})
