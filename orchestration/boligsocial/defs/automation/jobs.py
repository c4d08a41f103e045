"""The refresh job and its monthly schedule (running by default: the unattended month)."""

from __future__ import annotations

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

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
    # Running as soon as a daemon runs (`make daemon`, deploy/): the monthly refresh is the
    # point of an unattended installation. `dagster dev` runs a daemon too; stop the schedule
    # in the UI (Automation) where that is not wanted.
    default_status=DefaultScheduleStatus.RUNNING,
    description=(
        "Full refresh on the 1st of every month at 06:00 Copenhagen time (running by default)."
    ),
)
