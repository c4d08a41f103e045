"""The monthly schedule in winter and in summer time: its tick for the 1st at 06:00 Copenhagen
time (05:00 UTC in winter, 04:00 UTC in summer) requests the whole refresh_all job."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from dagster import DefaultScheduleStatus, build_schedule_context

from boligsocial.definitions import defs

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@pytest.mark.parametrize(
    ("month", "utc_hour"),
    [(1, 5), (7, 4)],  # CET (UTC+1) in January, CEST (UTC+2) in July
    ids=["winter", "summer"],
)
def test_first_of_the_month_at_six_copenhagen_requests_refresh_all(month: int, utc_hour: int):
    schedule = defs.resolve_schedule_def("monthly_refresh")
    tick = datetime(2026, month, 1, 6, 0, tzinfo=COPENHAGEN)
    assert tick.astimezone(UTC).hour == utc_hour
    # No instance: a test instance would stay behind, dead, in Dagster's definitions-loading
    # state and break every later in-process materialisation of this session.
    context = build_schedule_context(scheduled_execution_time=tick)
    [request] = schedule.evaluate_tick(context).run_requests
    assert schedule.job_name == "refresh_all"
    assert request.asset_selection is None  # the whole job: every asset and check
    assert request.tags["dagster/schedule_name"] == "monthly_refresh"
    # The cron and time zone that put the daemon's ticks there; the webserver's future ticks of
    # the schedule (tests/defs/test_unattended.py) show the daemon's times.
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 6 1 * *",
        "Europe/Copenhagen",
    )


def test_schedule_runs_by_default_and_the_file_sensor_does_not():
    schedule = defs.resolve_schedule_def("monthly_refresh")
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    sensors = {s.name: s.default_status.value for s in defs.get_repository_def().sensor_defs}
    assert sensors.pop("source_files_sensor") == "STOPPED"
    assert set(sensors.values()) == {"RUNNING"}  # the alert and Data Docs sensors
