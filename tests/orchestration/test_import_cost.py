"""The Dagster code location loads fast: it imports neither pandas (≈ 1 s), great_expectations
(≈ 3–10 s) nor dagster-dbt and dbt-core (≈ 3 s) at module level; the steps import pandas and
GX, and the dbt worker (a process of its own) dbt-core and dagster-dbt."""

from __future__ import annotations

import json
import subprocess
import sys

from orchestration import settings

HEAVY = ("pandas", "great_expectations", "dagster_dbt", "dbt")


def test_the_code_location_imports_no_heavy_library():
    # A fresh interpreter: this test process has long imported pandas.
    script = (
        "import sys, json, orchestration.definitions; "
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


def test_preload_imports_gx_once_in_the_background():
    code = (
        "import sys; from orchestration import preload; "
        "first = preload.start(); assert preload.start() is first; first.join(); "
        "print(all(m in sys.modules for m in preload.MODULES))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_preload_runs_no_full_collection_and_freezes_what_it_imported():
    code = (
        "import gc, json; from orchestration import preload; full = []; "
        "gc.callbacks.append(lambda phase, info: full.append(1) "
        "if phase == 'start' and info['generation'] == 2 else None); "
        "threshold = gc.get_threshold(); preload.start().join(); "
        "print(json.dumps([len(full), gc.get_freeze_count(), gc.get_threshold() == threshold]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    full_collections, frozen, threshold_restored = json.loads(out.stdout.splitlines()[-1])
    assert full_collections == 0
    assert frozen > 100_000  # GX's, out of the collector's reach
    assert threshold_restored


def test_preload_defers_scipy_stats_until_an_expectation_needs_it():
    # GX imports scipy.stats (≈ 0.8 s) for the KL-divergence and KS-test expectations only. After
    # the preload it is bound but not loaded; a real GX validation with the KL-divergence
    # expectation then loads it and gets its result.
    code = """
import json, sys
import pandas as pd
from orchestration import preload, validation
preload.start().join()
loaded_after_preload = "scipy.stats._stats_py" in sys.modules
import great_expectations as gx
batch_definition = validation._batch_definition()  # also creates GX's context
suite = gx.ExpectationSuite(name="kl")
suite.add_expectation(gx.expectations.ExpectColumnKLDivergenceToBeLessThan(
    column="x", partition_object={"values": ["a", "b"], "weights": [0.5, 0.5]}, threshold=0.1))
frame = pd.DataFrame({"x": ["a", "b"] * 50})
batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
result = batch.validate(suite).results[0]
print(json.dumps([loaded_after_preload, "scipy.stats._stats_py" in sys.modules,
                  result.success, result.result["observed_value"]]))
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    loaded_after_preload, loaded_after_validation, success, divergence = json.loads(
        out.stdout.splitlines()[-1]
    )
    assert not loaded_after_preload
    assert loaded_after_validation
    assert success
    assert divergence == 0.0
