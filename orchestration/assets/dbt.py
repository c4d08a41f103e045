"""The dbt project as Dagster assets: staging → intermediate → marts, dbt tests as checks."""

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from orchestration import settings
from orchestration.resources import WAREHOUSE_POOL

# dbt reads the warehouse path from the environment (dbt_project/profiles.yml).
os.environ.setdefault("BOLIGSOCIAL_WAREHOUSE", str(settings.warehouse_path()))

dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR
)
if not dbt_project.manifest_path.exists():
    dbt_project.preparer.prepare(dbt_project)

# The venv's dbt, so the code location works without dbt on PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


class BoligsocialTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer (staging, intermediate, marts, rulesets)."""

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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=BoligsocialTranslator(),
    pool=WAREHOUSE_POOL,
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE))
