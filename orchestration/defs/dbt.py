"""The dbt project as Dagster assets: staging → intermediate → marts, dbt tests as checks.

The specs come from dbt's manifest (`orchestration.dbt_specs`), so loading the code location
does not import dagster-dbt. The step's `dbt build` runs in the dbt worker, a process the dbt
resource starts when a run that builds dbt assets starts (`orchestration.dbt_worker`), and
dagster-dbt there turns dbt's events into Dagster's (`orchestration.dbt_build`). A refresh
rebuilds what changed since the last complete build, and the marts (`orchestration.dbt_state`);
`full_refresh` in the run config rebuilds everything.
"""

import os
import subprocess
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    Config,
    ConfigurableResource,
    Definitions,
    InitResourceContext,
    multi_asset,
)
from pydantic import Field, PrivateAttr

from configuration import settings
from orchestration import dbt_build, dbt_specs
from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource

# dbt reads the warehouse path from the environment (dbt_project/profiles.yml).
os.environ.setdefault("BOLIGSOCIAL_WAREHOUSE", str(settings.warehouse_path()))


def _manifest_path() -> Path:
    """target/manifest.json, parsed with this venv's dbt when it is missing (`make` parses it
    beforehand, and again whenever the project changes)."""
    path = settings.DBT_PROJECT_DIR / "target" / "manifest.json"
    if not path.exists():
        project = str(settings.DBT_PROJECT_DIR)
        subprocess.run(
            [
                str(settings.DBT_EXECUTABLE),
                "--quiet",
                "parse",
                "--project-dir",
                project,
                "--profiles-dir",
                project,
            ],
            check=True,
        )
    return path


MANIFEST = dbt_specs.load_manifest(_manifest_path())
SPECS = dbt_specs.build_specs(MANIFEST)


class DbtResource(ConfigurableResource):
    """The dbt project (its profiles.yml beside dbt_project.yml), and the run's dbt worker.

    Dagster sets the resource up when a run whose plan has the dbt step starts, before its
    first step; the worker starts then, and imports and parses while the ingest steps run."""

    project_dir: str = str(settings.DBT_PROJECT_DIR)
    _worker: dbt_build.DbtWorker | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        if context.run is not None:
            self._worker = dbt_build.DbtWorker(Path(self.project_dir), context.run.run_id)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._worker is not None:
            self._worker.close()
            self._worker = None

    def worker(self, run_id: str) -> dbt_build.DbtWorker:
        """The worker started for this run (taken: it runs one command), or, where Dagster did
        not set the resource up (a direct invocation), a new one."""
        worker, self._worker = self._worker, None
        return worker or dbt_build.DbtWorker(Path(self.project_dir), run_id)


class DbtBuildConfig(Config):
    full_refresh: bool = Field(
        default=False,
        description=(
            "Rebuild every dbt model, incremental ones from scratch, not only what changed "
            "since the last complete build."
        ),
    )


@multi_asset(
    name="dbt_models",
    specs=SPECS.assets,
    check_specs=SPECS.checks,
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def dbt_models(
    context: AssetExecutionContext,
    config: DbtBuildConfig,
    dbt: DbtResource,
    warehouse: WarehouseResource,
):
    worker = dbt.worker(context.run.run_id)
    try:
        yield from dbt_build.build(
            context,
            project_dir=Path(dbt.project_dir),
            worker=worker,
            connect=warehouse.connect,
            manifest=MANIFEST,
            specs=SPECS,
            full_refresh=config.full_refresh,
        )
    finally:
        worker.close()


dbt_resources = Definitions(resources={"dbt": DbtResource()})
