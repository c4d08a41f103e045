"""The refresh job and its monthly schedule."""

from __future__ import annotations

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

refresh_all = define_asset_job(
    "refresh_all",
    selection=AssetSelection.all(),
    description="Refresh everything: ingest every source, validate, build the dbt models.",
)

monthly_refresh = ScheduleDefinition(
    name="monthly_refresh",
    job=refresh_all,
    cron_schedule="0 6 1 * *",
    execution_timezone="Europe/Copenhagen",
    description="Full refresh on the 1st of every month at 06:00 Copenhagen time.",
)
