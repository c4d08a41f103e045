"""The outlook marts (area_outlook_criteria, area_outlook) and the criteria marts they extend,
built by real dbt runs and compared cell by cell with an independent reference written from
MARTS.md's words (tests/dbt/reference.py: exact fractions from the raw tables and the seeds).

Two deliveries: the bundled example, and the hand-made fixture (tests/fixtures/hand/) with the
areas of tests/fixtures/outlook/ added:

- Eparken (FOB 5, 1,500 residents, statistics 2018-2021): every year 50 % outside work or
  education, 70 % basic schooling only, income DKK 150,000 (below 55 % of the region's), 60 %
  non-western: parallelsamfund (law_2021, whose rules apply to every data year) four years in a
  row, 2018-2021. If nothing changes, 2022 is the fifth: an omdannelsesområde, called out as
  an escalation. The cheapest way to avoid it: 150 fewer non-western residents (900 − 1,500 ×
  0.50 = 150 to reach the line, `>`), against 180 + 60 = 240 for two of udsat's criteria.
- Fparken (FOB 6): statistics 2019 and 2020 only, so its outlook year is 2021 (benchmarks
  delivered), while every other area looks at 2022 (benchmarks of 2021 carried forward).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from boligsocial.defs.dbt.outlook import outlook_escalations
from boligsocial.defs.resources import WarehouseResource
from boligsocial.validation.validate import raw_validator
from tests.dbt import reference
from tests.dbt.conftest import dbt_build, load_sources, overlay, query

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MARTS = "+area_metrics +area_criteria +area_status +area_outlook +area_outlook_criteria"


@pytest.fixture(scope="module")
def example(example_built: tuple[Path, dict]) -> Path:
    return example_built[0]


@pytest.fixture(scope="module")
def crafted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("outlook_crafted")
    sources = overlay(FIXTURES / "hand", FIXTURES / "outlook", work / "sources")
    warehouse = work / "wh.duckdb"
    reports = []
    load_sources(sources, warehouse, validator=lambda spec: raw_validator(spec, reports))
    assert reports and all(r.passed for r in reports)
    dbt_build(warehouse, work, MARTS)
    return warehouse


@pytest.mark.parametrize("delivery", ["example", "crafted"])
def test_every_cell_equals_the_reference(delivery, request):
    warehouse = request.getfixturevalue(delivery)
    expected = reference.compute(warehouse)
    assert expected["area_outlook"] and expected["area_outlook_criteria"]
    assert reference.compare(warehouse, expected) == []


def test_the_fifth_year_as_parallelsamfund_is_called_out(crafted):
    rows = query(
        crafted,
        "select area_id, latest_year, outlook_year, status_latest, status_outlook, escalates, "
        "consecutive_years_outlook, persons_to_avoid, persons_to_avoid_criteria "
        "from marts.area_outlook where ruleset = 'law_2021' order by area_id",
    )
    by_area = {r[0]: r[1:] for r in rows}
    assert by_area["EPARKEN"] == (
        2021, 2022, "parallelsamfund", "omdannelse", True, 1, 150, "parallelsamfund.non_western"
    )  # fmt: skip
    assert by_area["FPARKEN"][:2] == (2020, 2021)
    assert [a for a, row in by_area.items() if row[4]] == ["EPARKEN"]


def test_benchmarks_of_o_are_carried_forward_only_where_not_delivered(crafted):
    rows = query(
        crafted,
        "select area_id, year, criterion, threshold, benchmark_carried_from_year "
        "from marts.area_outlook_criteria "
        "where ruleset = 'law_2021' and category = 'udsat' and criterion in ('crime', 'income') "
        "order by area_id, criterion",
    )
    carried = {(a, c): (y, t, f) for a, y, c, t, f in rows}
    # 2022 has no benchmarks: 2021's stand for it (national crime 1.1 %, region DKK 300,000).
    assert carried["EPARKEN", "crime"] == (2022, pytest.approx(3 * 0.011), 2021)
    assert carried["EPARKEN", "income"] == (2022, pytest.approx(0.55 * 300_000), 2021)
    # Fparken's outlook year 2021 is delivered: (0.9 + 1.1) / 2 % and the region's 2021 value.
    assert carried["FPARKEN", "crime"] == (2021, pytest.approx(3 * 0.010), None)
    assert carried["FPARKEN", "income"] == (2021, pytest.approx(0.55 * 300_000), None)


def test_the_check_warns_with_the_escalating_areas(crafted, example):
    result = outlook_escalations(warehouse=WarehouseResource(path=str(crafted)))
    assert not result.passed
    assert result.severity.value == "WARN"
    assert [
        (e["area_id"], e["status_outlook"]) for e in result.metadata["escalating_json"].value
    ] == [("EPARKEN", "omdannelse")]
    assert result.description == (
        "Eparken: parallelsamfund in 2021, omdannelse in 2022 if nothing changes "
        "(law_2021; 150 persons to avoid it)"
    )
    assert outlook_escalations(warehouse=WarehouseResource(path=str(example))).passed
