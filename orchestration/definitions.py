"""The Dagster code location: `dagster dev -m orchestration.definitions`."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.assets.checks import mart_checks
from orchestration.assets.dbt import DbtResource, dbt_models
from orchestration.assets.ingest import ingest_assets
from orchestration.assets.publish import publish_assets
from orchestration.assets.statbank import statbank_api_responses
from orchestration.jobs import monthly_refresh, refresh_all
from orchestration.resources import from_environment
from orchestration.sensors import source_files_sensor

defs = Definitions(
    assets=[statbank_api_responses, *ingest_assets, dbt_models, *publish_assets],
    asset_checks=mart_checks,
    jobs=[refresh_all],
    schedules=[monthly_refresh],
    sensors=[source_files_sensor],
    resources={**from_environment(), "dbt": DbtResource()},
    # Every step that writes the warehouse is serialised by the one-writer pool anyway, and a
    # process per step would pay the imports (dagster-dbt, GX: ~15 s) again for each step.
    executor=in_process_executor,
)
