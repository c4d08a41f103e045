"""The marts' rules are dbt tests (the mart GX suites are gone): each rule that only a mart GX
suite checked before fails `dbt test` on a real build of the example with one bad row planted.

The example is built once; each case plants its bad row in a copy of that warehouse and runs
the tests of one mart.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import invoke_dbt

pytestmark = pytest.mark.slow

FIRST_ROW = "where rowid = (select min(rowid) from marts.{mart})"

# (mart, the bad value set in its first row, or None: no rows; the dbt test that must fail:
# generic test, column or None)
CASES = [
    ("area_metrics", None, ("has_rows", None)),
    ("area_metrics", "numerator = -1", ("accepted_range", "numerator")),
    ("area_metrics", "denominator = -1", ("accepted_range", "denominator")),
    ("area_criteria", "metric = 'bogus'", ("accepted_values", "metric")),
    ("area_status", "residents = -1", ("accepted_range", "residents")),
    ("area_status", "criteria_met = -1", ("accepted_range", "criteria_met")),
    ("area_status", "consecutive_years_qualified = -1",
     ("accepted_range", "consecutive_years_qualified")),
    ("area_safety", None, ("has_rows", None)),
    ("area_safety", "national_index = 100.5", ("accepted_range", "national_index")),
    ("area_safety", "udsatte_average_index = -0.5", ("accepted_range", "udsatte_average_index")),
    ("allocation_8020", "budget_drift_dkk = -0.01", ("accepted_range", "budget_drift_dkk")),
    ("allocation_8020", "budget_projekt_dkk = -0.01", ("accepted_range", "budget_projekt_dkk")),
    ("allocation_8020", "target_share_drift = null", ("not_null", "target_share_drift")),
]  # fmt: skip


@pytest.fixture(scope="module")
def built_example(example_built: tuple[Path, dict]) -> Path:
    """The example loaded and built (every model and data test passes: `dbt build`
    succeeded; its unit tests pass in test_unit_tests.py)."""
    return example_built[0]


def failed_tests(warehouse: Path, mart: str, work: Path) -> set[tuple[str, str | None]]:
    """`dbt test` on the mart's own tests: (generic test, column) of each that failed; a
    singular test (dbt_project/tests/) as (its name, None)."""
    # The data tests whose every parent is the mart (cautious); unit tests check SQL, not rows.
    selection = ["--select", mart, "--indirect-selection", "cautious"]
    completed = invoke_dbt(
        "test", *selection, "--exclude-resource-type", "unit_test", work=work, warehouse=warehouse
    )
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    nodes = json.loads((work / "target" / "manifest.json").read_text())["nodes"]
    failed = {
        (node.get("test_metadata", {}).get("name", node["name"]), node.get("column_name"))
        for node in (nodes[r["unique_id"]] for r in results if r["status"] in ("fail", "error"))
    }
    assert failed and not completed.success, completed.exception
    return failed


@pytest.mark.parametrize(
    ("mart", "plant", "rule"), CASES, ids=[f"{m}-{r[0]}-{r[1]}" for m, _, r in CASES]
)
def test_a_bad_row_fails_the_marts_dbt_test(built_example, tmp_path, mart, plant, rule):
    warehouse = tmp_path / "wh.duckdb"
    shutil.copyfile(built_example, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        if plant is None:
            con.execute(f"delete from marts.{mart}")
        else:
            con.execute(f"update marts.{mart} set {plant} " + FIRST_ROW.format(mart=mart))
    assert rule in failed_tests(warehouse, mart, tmp_path)


@pytest.mark.parametrize(
    "mart", ["resource_allocation", "allocation_8020", "allocation_recommendation"]
)
@pytest.mark.parametrize("column", ["year", "area_id"])
def test_a_null_key_is_refused_by_the_marts_contract(built_example, tmp_path, mart, column):
    """The key columns are not_null constraints of the enforced contract: the table refuses a
    NULL (a test of the unique combination alone would let it pass)."""
    warehouse = tmp_path / "wh.duckdb"
    shutil.copyfile(built_example, warehouse)
    with duckdb.connect(str(warehouse)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute(f"update marts.{mart} set {column} = null " + FIRST_ROW.format(mart=mart))
