"""The Dagster code location loads fast: its ingest, check, sensor and job modules import
neither pandas (≈ 1 s) nor great_expectations (≈ 10 s) at module level."""

from __future__ import annotations

import json
import subprocess
import sys

from orchestration import settings

CODE_LOCATION_MODULES = (
    "orchestration.assets.ingest",
    "orchestration.assets.checks",
    "orchestration.sensors",
    "orchestration.jobs",
)
HEAVY = ("pandas", "great_expectations")


def test_code_location_modules_do_not_import_pandas_or_gx():
    # A fresh interpreter: this test process has long imported pandas.
    script = (
        f"import sys, json, {', '.join(CODE_LOCATION_MODULES)}; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_preload_imports_gx_and_dagster_dbt_once_in_the_background():
    code = (
        "import sys; from orchestration import preload; "
        "first = preload.start(); assert preload.start() is first; first.join(); "
        "print(all(m in sys.modules for m in preload.MODULES))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
