"""The dbt manifest `make` parses follows the warehouse in use: it names every table's database
after the warehouse file (dbt-duckdb), so a run against another file parses again, and the UI
labels each dbt asset's storage with the file it is in. Nothing changed: no parse."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from boligsocial.configuration import settings

# The slow tier: make parses the dbt project again.
pytestmark = pytest.mark.slow


def _make_manifest(target: Path, warehouse: Path) -> set[str]:
    """`make <target>/manifest.json` (what `make run` and `make ui` depend on); the databases
    the manifest's models are in."""
    manifest = target / "manifest.json"
    subprocess.run(
        ["make", "-s", str(manifest)],
        cwd=settings.PROJECT_ROOT,
        env={**os.environ, "DBT_TARGET_PATH": str(target), "BOLIGSOCIAL_WAREHOUSE": str(warehouse)},
        check=True,
        capture_output=True,
        timeout=600,
    )
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return {n["database"] for n in nodes if n["resource_type"] == "model"}


def test_make_parses_the_manifest_again_for_another_warehouse(tmp_path: Path):
    target = tmp_path / "target"
    assert _make_manifest(target, tmp_path / "holdout.duckdb") == {"holdout"}
    assert _make_manifest(target, tmp_path / "boligsocial.duckdb") == {"boligsocial"}
    parsed = (target / "manifest.json").stat().st_mtime_ns
    assert _make_manifest(target, tmp_path / "boligsocial.duckdb") == {"boligsocial"}
    assert (target / "manifest.json").stat().st_mtime_ns == parsed
