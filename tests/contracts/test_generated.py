"""The copies of the source contract other tools hold (dbt's source yml, the GX suites' column
rules, headers, organisation code pattern and MÅL codes) are what `make generate` makes from
the catalog and the seed maal_codes: a copy edited by hand, or a declaration changed without
`make generate`, fails here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from boligsocial.sources import generate
from boligsocial.sources.catalog import SOURCES


def test_the_generated_files_are_current():
    completed = subprocess.run(
        [sys.executable, "-m", "boligsocial.sources.generate", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_every_source_has_its_generated_copies():
    paths = {p.relative_to(settings.PROJECT_ROOT).as_posix() for p in generate.generated()}
    assert {f"expectations/{spec.name}.json" for spec in SOURCES} <= paths
    systems = {spec.system for spec in SOURCES}
    assert {f"dbt_project/models/staging/{s}/_{s}__sources.yml" for s in systems} <= paths


@pytest.fixture
def copy(tmp_path: Path, monkeypatch) -> Path:
    """The generated files' folders copied, and generation pointed at the copies."""
    for name in ("expectations", "dbt_project", "docs"):
        shutil.copytree(
            settings.PROJECT_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("target")
        )
    monkeypatch.setattr(settings, "EXPECTATIONS_DIR", tmp_path / "expectations")
    monkeypatch.setattr(settings, "DBT_PROJECT_DIR", tmp_path / "dbt_project")
    monkeypatch.setattr(settings, "PROJECT_ROOT", tmp_path)
    assert generate.stale() == []
    return tmp_path


def test_a_copy_edited_by_hand_is_found_and_regenerated(copy: Path):
    suite_path = copy / "expectations" / "departments.json"
    suite = json.loads(suite_path.read_text(encoding="utf-8"))
    [regex] = [e for e in suite["expectations"] if e["kwargs"].get("column") == "housing_org"
               and e["type"] == "expect_column_values_to_match_regex"]  # fmt: skip
    regex["kwargs"]["regex"] = "^[A-Za-z0-9]+$"  # the copy issue 27 found refusing ØBO
    suite_path.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n", "utf-8")
    sources_yml = copy / "dbt_project/models/staging/vandalism/_vandalism__sources.yml"
    sources_yml.write_text(
        sources_yml.read_text("utf-8").replace("data_type: date", "data_type: text")
    )
    assert generate.stale() == [sources_yml, suite_path]
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    assert generate.stale() == []
    assert r'"regex": "^[^\\W_]+$"' in suite_path.read_text("utf-8")


def test_a_changed_maal_seed_reaches_the_suites(copy: Path):
    seed = copy / "dbt_project" / "seeds" / "maal_codes.csv"
    seed.write_text(seed.read_text("utf-8") + "NY_KODE,area_statistics,a new code\n", "utf-8")
    generate.maal_codes.cache_clear()
    try:
        stale = generate.stale()
        assert copy / "expectations" / "area_statistics.json" in stale
        generate.main([])
        suite = json.loads((copy / "expectations" / "area_statistics.json").read_text("utf-8"))
        assert suite["meta"]["maal_codes"][-1] == "NY_KODE"
    finally:
        generate.maal_codes.cache_clear()
