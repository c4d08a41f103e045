"""`make run` (python -m boligsocial.runs.refresh, the Makefile's entry point) in a real process:
the terminal gets a line per stage, the summary, the warnings in words and where the full log
is; dbt's line per test, Dagster's log lines and any stack trace go to that log. A run with a
bad file names the source, the file (relative to the sources folder), the row, the column and
the problem first, with no stack trace."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boligsocial.configuration import settings

pytestmark = pytest.mark.slow

STAGES = [
    "[1/3] Reading and validating the delivered files ...",
    "[2/3] Building the models and running their tests (dbt) ...",
    "[3/3] Publishing the marts and the board report ...",
]


def _refresh(sources: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    home = tmp_path / "home"
    (home / ".dagster_home").mkdir(parents=True)
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / ".dagster_home" / "dagster.yaml")
    env = {
        **os.environ,
        "BOLIGSOCIAL_HOME": str(home),
        "DAGSTER_HOME": str(home / ".dagster_home"),
        "BOLIGSOCIAL_SOURCES_DIR": str(sources),
        "BOLIGSOCIAL_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "BOLIGSOCIAL_PUBLISH_DIR": str(tmp_path / "publish"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "boligsocial.runs.refresh"],
        cwd=settings.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = (done.stdout + done.stderr).splitlines()
    assert "Traceback" not in done.stdout + done.stderr
    return done, lines


def _log(lines: list[str]) -> str:
    [path] = {m[1] for line in lines if (m := re.search(r"the full log: (\S+?\.log)", line))}
    return Path(path).read_text()


def test_the_example_says_its_stages_its_summary_its_warnings_and_where_the_log_is(
    tmp_path: Path,
):
    done, lines = _refresh(settings.EXAMPLE_SOURCES_DIR, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert len(lines) < 50, done.stdout + done.stderr  # was about 785
    assert [line for line in lines if line.startswith("[")] == STAGES
    assert "      11 of 11 steps done" in lines
    assert any(re.fullmatch(r"Run \S+ succeeded\. Sources: .+", line) for line in lines)
    assert any(re.fullmatch(r"  marts\.area_status +[0-9,]+ rows", line) for line in lines)
    # Warnings say what they mean for the marts, not the dbt test's name.
    assert (
        "warning: ledger lines whose department belongs to no area on the line's date are left "
        "out of the marts' vandalism figures (area_safety, resource_allocation, allocation_8020) "
        "(9 rows)"
    ) in lines
    assert any(
        line.startswith("warning: the computed status differs from the official list: ")
        for line in lines
    )
    assert not [line for line in lines if "not_null_" in line or " of 456 " in line]
    # The detail is in the log: dbt's line per test and Dagster's.
    log = _log(lines)
    assert "PASS not_null_stg_reference__areas_area_id" in log
    assert " - dagster - INFO - refresh_all - " in log


def test_failed_run_names_the_source_and_why_first(example_sources: Path, tmp_path: Path):
    incidents = example_sources / "police" / "incidents_2015.csv"
    lines = incidents.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("02-01-2015", "31-02-2015")  # no 31 February
    incidents.write_text("".join(lines), encoding="utf-8")
    shutil.rmtree(example_sources / "statbank")  # optional: its absence is no warning
    done, lines = _refresh(example_sources, tmp_path)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-3000:]
    assert len(lines) < 20, done.stdout + done.stderr
    headlines = [line for line in lines if re.match(r"Run \S+ FAILED", line)]
    assert headlines, done.stderr[-3000:]
    assert re.fullmatch(
        r"Run \S+ FAILED: Source 'police_incidents' rejected: police/incidents_2015\.csv, "
        r"row 3, column dato: .+",
        headlines[0],
    ), headlines[0]
    assert "      10 of 11 steps done; failed: raw__police_incidents" in lines
    log = _log(lines)
    # The step's error with its stack is there, for who wants it.
    assert "boligsocial.sources.errors.SourceError: police/incidents_2015.csv, row 3" in log
    assert "no cached response" not in log


def test_a_finding_shows_a_delivered_escape_sequence_inert():
    """An area named with a terminal escape (from areas.csv) in the official list's finding:
    the line make run and the mail show has it made visible."""
    from dagster import AssetCheckEvaluation, AssetCheckSeverity, AssetKey, DagsterEvent

    from boligsocial.runs.findings import run_findings

    evaluation = AssetCheckEvaluation(
        asset_key=AssetKey(["marts", "area_list_reconciliation"]),
        check_name="official_list_disagreements",
        passed=False,
        severity=AssetCheckSeverity.WARN,
        description="the computed status differs from the official list: \x1b[2KPark 2020: …",
    )
    event = DagsterEvent(
        event_type_value="ASSET_CHECK_EVALUATION",
        job_name="refresh_all",
        event_specific_data=evaluation,
    )
    assert run_findings([event]) == (
        [],
        ["the computed status differs from the official list: \\x1b[2KPark 2020: …"],
    )
