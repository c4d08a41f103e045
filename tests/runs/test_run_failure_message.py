"""`make run` (python -m boligsocial.runs.refresh) on a sources directory with a bad file: the
summary's first line names the source, the file, the row, the column and the problem."""

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


def test_failed_run_names_the_source_and_why_first(example_sources: Path, tmp_path: Path):
    incidents = example_sources / "police" / "incidents_2015.csv"
    lines = incidents.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("02-01-2015", "31-02-2015")  # no 31 February
    incidents.write_text("".join(lines), encoding="utf-8")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BOLIGSOCIAL_SOURCES_DIR": str(example_sources),
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
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-3000:]
    headlines = [line for line in done.stderr.splitlines() if re.match(r"Run \S+ FAILED", line)]
    assert headlines, done.stderr[-3000:]
    assert re.fullmatch(
        r"Run \S+ FAILED: Source 'police_incidents' rejected: \S*police/incidents_2015\.csv, "
        r"row 3, column dato: .+",
        headlines[0],
    ), headlines[0]
