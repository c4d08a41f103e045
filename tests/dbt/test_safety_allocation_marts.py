"""Safety and resource-allocation marts built by real dbt runs on the bundled example.

The figures checked against the example are the ones its generator documents (arson,
vandalism and tryghedsindeks for 2014-2015); the scenario test changes the sources and
checks that the marts follow (a later ledger export wins, credit lines reduce the cost, a
FÆLLES effort in a year without statistics is split equally).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.dbt.conftest import dbt_build, load_sources, query

pytestmark = pytest.mark.slow

MARTS = "+area_safety +resource_allocation +allocation_8020 +allocation_recommendation"


@pytest.fixture(scope="module")
def example_warehouse(example_built: tuple[Path, dict]) -> tuple[Path, dict]:
    return example_built


def test_example_safety_figures(example_warehouse):
    warehouse, _ = example_warehouse
    totals = dict(
        (year, rest)
        for year, *rest in query(
            warehouse,
            "select year, sum(arson_incidents), sum(vandalism_cases), sum(vandalism_cost_dkk) "
            "from marts.area_safety where year in (2014, 2015) group by year",
        )
    )
    assert totals[2014][0] == 31
    assert totals[2015] == [15, 123, Decimal("228968.00")]
    index = dict(
        query(
            warehouse,
            "select area_id, tryghedsindeks from marts.area_safety where year = 2015",
        )
    )
    assert index["MOTALAVEJ"] == pytest.approx(70.2)
    assert index["RINGPARKEN"] == pytest.approx(61.4)
    assert query(
        warehouse,
        "select distinct national_index, udsatte_average_index "
        "from marts.area_safety where year = 2015",
    ) == [(pytest.approx(88.7), pytest.approx(72.7))]


def test_example_spine_is_every_area_times_every_year(example_warehouse):
    warehouse, _ = example_warehouse
    [(rows, areas, years)] = query(
        warehouse,
        "select count(*), count(distinct area_id), count(distinct year) from marts.area_safety",
    )
    assert areas == 4 and rows == areas * years


def test_lines_without_area_are_left_out_and_warned(example_warehouse):
    warehouse, run_results = example_warehouse
    [(unattributed,)] = query(
        warehouse,
        "select count(*) from intermediate.int_vandalism_lines_by_area where area_id is null",
    )
    # SAB 1 left Ringparken on 2020-05-31: its later lines belong to no area.
    assert unattributed > 0
    warn_test = "test.boligsocial.not_null_int_vandalism_lines_by_area_area_id."
    [warning] = [r for r in run_results["results"] if r["unique_id"].startswith(warn_test)]
    assert warning["status"] == "warn" and warning["failures"] == unattributed


def test_example_allocation_adds_up(example_warehouse):
    """The ALLE row of every effort year holds that year's whole budget from raw.efforts."""
    warehouse, _ = example_warehouse
    by_year = dict(query(warehouse, "select aar, sum(budget_kr) from raw.efforts group by all"))
    alle = dict(
        query(
            warehouse,
            "select year, budget_total_dkk from marts.allocation_8020 where area_id = 'ALLE'",
        )
    )
    assert by_year and set(alle) == set(by_year)
    assert all(
        alle[year] == pytest.approx(float(budget), abs=1e-6) for year, budget in by_year.items()
    )
    shares = query(
        warehouse,
        "select year, sum(need_share), sum(actual_share) "
        "from marts.allocation_recommendation group by year",
    )
    assert shares and all(n == pytest.approx(1) and a == pytest.approx(1) for _, n, a in shares)


def test_sources_changes_reach_the_marts(tmp_path: Path, example_sources: Path):
    warehouse = tmp_path / "wh.duckdb"
    load_sources(example_sources, warehouse)
    # A BK line of 2015 as it stands after de-duplication (its latest export).
    [(department, case, line, date, amount)] = query(
        warehouse,
        """
        select afdeling, sagsnr, linje, dato, beloeb from raw.vandalism_ledger
        where selskab = 'BK' and year(dato) = 2015
        qualify row_number() over (partition by sagsnr, linje order by export_period desc) = 1
        order by sagsnr, linje limit 1
        """,
    )
    day = date.strftime("%d-%m-%Y")
    (example_sources / "vandalism" / "BK_2099-12.csv").write_text(
        "Selskab;Afdeling;Sagsnr;Linje;Dato;Kategori;Tekst;Beløb\n"
        f"BK;{department};{case};{line};{day};Hærværk;rettet beløb;"
        f"{str(amount + 1000).replace('.', ',')}\n"
        f"BK;{department};{case};9999;{day};Hærværk;forsikring;-500,00\n",
        encoding="utf-8",
    )
    with (example_sources / "efforts" / "indsatser.csv").open("a", encoding="utf-8") as f:
        f.write("F-TEST;Fælles test;Tryghed og trivsel;drift;FÆLLES;2030;2,0;400.000,00\n")
    load_sources(example_sources, warehouse, ["vandalism_ledger", "efforts"])
    dbt_build(warehouse, tmp_path, MARTS)

    [(cases, cost)] = query(
        warehouse,
        "select sum(vandalism_cases), sum(vandalism_cost_dkk) "
        "from marts.area_safety where year = 2015",
    )
    assert (cases, cost) == (123, Decimal("228968.00") + 1000 - 500)

    equal = query(
        warehouse,
        "select area_id, budget_dkk, budget_shared_dkk from marts.resource_allocation "
        "where year = 2030 order by area_id",
    )
    assert [a for a, *_ in equal] == ["MOTALAVEJ", "PARKVEJ", "RINGPARKEN", "SYDBYEN"]
    assert all(b == pytest.approx(100_000) and s == b for _, b, s in equal)
    recommendation = query(
        warehouse,
        "select need_score, need_share, recommended_budget_dkk, actual_share "
        "from marts.allocation_recommendation where year = 2030",
    )
    assert len(recommendation) == 4
    assert all(r[:3] == (None, None, None) and r[3] == pytest.approx(0.25) for r in recommendation)
