"""`boligsocial run`/`ui` prepare what the make targets prepare: DAGSTER_HOME with the project's
dagster.yaml, and a dbt manifest parsed again when the dbt project changed."""

from __future__ import annotations

import os
from pathlib import Path

from boligsocial.cli import launch
from boligsocial.configuration import settings


def test_dagster_home_gets_the_projects_instance_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = launch.dagster_home()
    assert home == (tmp_path / "home").resolve()
    assert (home / "dagster.yaml").read_bytes() == (
        settings.PROJECT_ROOT / "dagster.yaml"
    ).read_bytes()


def test_the_manifest_is_stale_when_a_dbt_file_is_newer(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", "target")  # dbt's setting, relative to the project
    project = tmp_path / "dbt_project"
    (project / "models" / "marts").mkdir(parents=True)
    (project / "target").mkdir()
    model = project / "models" / "marts" / "m.sql"
    model.write_text("select 1")
    assert launch.manifest_stale(project), "no manifest yet"
    manifest = project / "target" / "manifest.json"
    manifest.write_text("{}")
    os.utime(model, ns=(1_000_000_000, 1_000_000_000))
    assert not launch.manifest_stale(project)
    os.utime(model, ns=(manifest.stat().st_mtime_ns + 1,) * 2)
    assert launch.manifest_stale(project)
