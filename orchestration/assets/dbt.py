"""The dbt project as Dagster assets: staging → intermediate → marts, dbt tests as checks.

Every model's materialisation carries its row count, column schema and a Markdown preview, and
two marts a summary (the list per ruleset in the latest year, the 80/20 share per area). dbt-duckdb
holds the warehouse open for the whole `dbt build`, so the tables are read once it has exited.
"""

import importlib.metadata
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetKey,
    Failure,
    MetadataValue,
    Output,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version

from orchestration import settings
from orchestration.metadata import markdown_table, table_metadata
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

# dbt reads the warehouse path from the environment (dbt_project/profiles.yml).
os.environ.setdefault("BOLIGSOCIAL_WAREHOUSE", str(settings.warehouse_path()))

dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR
)
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)

# The venv's dbt, so the code location works without dbt on PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
OWNERS = ["team:kompetencecenter"]


class BoligsocialTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (staging, intermediate, marts, rulesets); one owner for all."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "rulesets"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        schema = dbt_resource_props.get("schema") or dbt_resource_props.get("config", {}).get(
            "schema"
        )
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {
            **super().get_tags(dbt_resource_props),
            "layer": self.get_group_name(dbt_resource_props) or "dbt",
        }


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


def _with_table_metadata(
    events: list, con: duckdb.DuckDBPyConnection, context: AssetExecutionContext
) -> Iterator:
    for event in events:
        if isinstance(event, Output):
            key = context.asset_key_for_output(event.output_name)
            metadata = table_metadata(con, ".".join(key.path))
            if key in MART_SUMMARIES:
                summary = MART_SUMMARIES[key](con)
                metadata |= {k: v for k, v in summary.items() if v is not None}
            event = event.with_metadata({**event.metadata, **metadata})
        yield event


def _failure(invocation) -> Failure:
    """The failed dbt nodes, the first one (name and dbt's message) on the first line."""
    results = invocation.get_artifact("run_results.json").get("results", [])
    failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    lines = [
        f"{r['unique_id'].split('.', 2)[-1]} ({r['status']}): "
        + ((r.get("message") or "").strip().splitlines() or [""])[0]
        for r in failed
    ]
    first = lines[0] if lines else "see the dbt output in the step's logs"
    return Failure(
        description=f"dbt build failed: {first}",
        metadata={"failed_nodes": MetadataValue.md("\n".join(f"- {line}" for line in lines))},
    )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=BoligsocialTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    target = _invocation_target(context.run.run_id)
    # dbt unit tests check the SQL, not the data: they run in the test suite (tests/dbt), and
    # would double the refresh's dbt time on every run.
    invocation = dbt.cli(
        ["build", "--exclude-resource-type", "unit_test"],
        context=context,
        raise_on_error=False,
        target_path=target,
    )
    events = list(invocation.stream())
    materialised = [e for e in events if isinstance(e, Output)]
    if materialised:
        with warehouse.connect(read_only=True) as con:
            yield from _with_table_metadata(events, con, context)
    else:
        yield from events
    context.log.info(
        f"dbt build: {len(materialised)} models, "
        f"{sum(isinstance(e, AssetCheckResult) for e in events)} tests"
    )
    if not invocation.is_successful():
        raise _failure(invocation)  # the target folder (dbt.log) stays for the post-mortem
    shutil.rmtree(target, ignore_errors=True)


def _invocation_target(run_id: str) -> Path:
    """A target folder of the run's own, seeded with the project's partial-parse file.

    dagster-dbt gives every invocation a fresh target folder, which makes dbt parse the whole
    project again (seconds) and leaves ~15 MB behind per run; `make run` parses once beforehand.
    """
    target = dbt_project.project_dir / dbt_project.target_path / "runs" / run_id
    target.mkdir(parents=True, exist_ok=True)
    partial_parse = dbt_project.project_dir / dbt_project.target_path / "partial_parse.msgpack"
    if partial_parse.exists():
        shutil.copy2(partial_parse, target / partial_parse.name)
    return target


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, minus two start-up costs paid on every `dbt build` (~13 s):

    - it runs `dbt --version` in a subprocess to learn the version: the executable is this
      venv's, so the installed dbt-core's version is the answer;
    - it loads the dbt project and profile in process for an adapter handle, which only its
      `fetch_row_counts` / `fetch_column_metadata` use: the table metadata here is read from
      the warehouse after the build instead.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DbtCliResource:
    return VenvDbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))
