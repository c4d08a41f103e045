"""The dbt unit tests (criteria at their thresholds, windows, suppression, ...) run on their own,
and every one the project declares runs and passes: a unit test that is not run fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dbt.conftest import load_sources, run_dbt

# The slow tier: dbt builds the whole project.
pytestmark = pytest.mark.slow

# Named here so that one renamed or dropped from the yml cannot go unnoticed.
REQUIRED = {
    "criteria_operators_exactly_at_threshold",
    "criteria_le_operator_at_threshold",
    "criteria_tolerance_for_floating_point",
    "criteria_window_with_missing_or_null_year_is_null",
    "area_metrics_drop_suppressed_departments_per_metric",
}


def test_every_dbt_unit_test_runs_and_passes(example_sources: Path, tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    # Unit tests read their inputs' column types from the warehouse: the relations must exist,
    # empty is enough.
    load_sources(example_sources, warehouse)
    run_dbt("build", "--empty", "--exclude-resource-type", "unit_test", "test",
            work=tmp_path, warehouse=warehouse)  # fmt: skip
    run_dbt("test", "--select", "test_type:unit", work=tmp_path, warehouse=warehouse)

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    declared = {u["name"] for u in manifest["unit_tests"].values()}
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    ran = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert declared >= REQUIRED
    assert set(ran) == declared
    assert set(ran.values()) == {"pass"}, ran
