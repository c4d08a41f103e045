"""The Dagster code location loads fast and without side effects: it imports neither pandas
(≈ 1 s) nor great_expectations (≈ 3–10 s) at module level (the steps that need them import
them), parses no dbt project and changes no environment variable. (dagster-dbt, and dbt-core
with it, it does import: `@dbt_assets` is dagster-dbt's public path.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from boligsocial.configuration import settings

HEAVY = ("pandas", "great_expectations")


def _import_definitions(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # A fresh interpreter: this test process has long imported pandas.
    return subprocess.run(
        [sys.executable, "-c", f"import sys, os, json\n{script}"],
        cwd=settings.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_code_location_imports_no_heavy_library():
    script = (
        "import boligsocial.definitions\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = _import_definitions(script, dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_importing_the_code_location_changes_no_environment_and_no_file():
    target = Path(os.environ["DBT_TARGET_PATH"])  # the session's, with its manifest
    before = sorted((p.name, p.stat().st_mtime_ns) for p in target.iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOLIGSOCIAL_")}
    script = (
        "before = dict(os.environ)\n"
        "import boligsocial.definitions\n"
        "print(json.dumps(sorted(set(os.environ.items()) ^ set(before.items()))))"
    )
    done = _import_definitions(script, env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
    assert sorted((p.name, p.stat().st_mtime_ns) for p in target.iterdir()) == before


def test_without_a_manifest_the_code_location_says_how_to_prepare_it(tmp_path: Path):
    env = {**os.environ, "DBT_TARGET_PATH": str(tmp_path)}
    done = _import_definitions("import boligsocial.definitions", env)
    assert done.returncode != 0
    assert f"No dbt manifest at {tmp_path / 'manifest.json'}" in done.stderr
    assert "make dbt-parse" in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing parsed
