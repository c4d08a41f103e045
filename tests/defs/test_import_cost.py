"""The Dagster code location loads fast: it imports neither pandas (≈ 1 s) nor great_expectations
(≈ 3–10 s) at module level; the steps that need them import them. (dagster-dbt, and dbt-core
with it, it does import: `@dbt_assets` is dagster-dbt's public path.)"""

from __future__ import annotations

import json
import subprocess
import sys

from boligsocial.configuration import settings

HEAVY = ("pandas", "great_expectations")


def test_the_code_location_imports_no_heavy_library():
    # A fresh interpreter: this test process has long imported pandas.
    script = (
        "import sys, json, boligsocial.definitions; "
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
