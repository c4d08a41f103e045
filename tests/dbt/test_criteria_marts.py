"""Criteria marts (area_metrics, area_criteria, area_status, area_list_status) built by real
dbt runs on the bundled example.

The example reproduces the application's combined 2015 figures and the public list history
(sources/example/README.md); the ruleset test adds a ruleset to a copy of the seeds and checks
that the marts follow without any change to the SQL, including a base chain four levels deep.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from configuration import settings
from tests.dbt.conftest import dbt_build, load_sources, query, run_dbt

pytestmark = pytest.mark.slow

MARTS = "+area_metrics +area_criteria +area_status +area_list_status"


@pytest.fixture(scope="module")
def example_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("criteria")
    warehouse = work / "wh.duckdb"
    load_sources(settings.EXAMPLE_SOURCES_DIR, warehouse)
    dbt_build(warehouse, work, MARTS)
    return warehouse


def test_combined_figures_of_the_application(example_warehouse):
    """DOMAIN.md: 42 %, 56 %, 44 %, 31.6 per 1,000 in 2015 and DKK 146,626 in 2014."""
    rows = query(
        example_warehouse,
        "select metric, sum(numerator) / sum(denominator) from marts.area_metrics "
        "where (year = 2015 and metric <> 'income_15_64') "
        "or (year = 2014 and metric = 'income_15_64') "
        "group by metric having metric <> 'residents'",
    )
    combined = dict(rows)
    assert round(combined["unemployment_18_64"], 2) == 0.42
    assert round(combined["basic_education_30_59"], 2) == 0.56
    assert round(combined["non_western"], 2) == 0.44
    assert round(combined["crime_18plus"] * 1000, 1) == 31.6
    assert round(combined["income_15_64"]) == 146626


def test_sub_2013_list_in_2015(example_warehouse):
    rows = query(
        example_warehouse,
        "select area_id from marts.area_list_status "
        "where ruleset = 'sub_2013' and year = 2015 and status <> 'none' order by area_id",
    )
    assert [r[0] for r in rows] == ["MOTALAVEJ", "RINGPARKEN"]


def test_official_list_history(example_warehouse):
    """The status under the ruleset in force each year, as in sources/example/README.md."""
    rows = query(
        example_warehouse,
        "select year, area_id, status from marts.area_list_status "
        "where in_force order by year, area_id",
    )
    history = {(year, area): status for year, area, status in rows}
    expected = {
        2013: ("none", "none"),
        2015: ("saerligt_udsat", "saerligt_udsat"),
        2018: ("ghetto", "ghetto"),
        2019: ("haardt_ghetto", "haardt_ghetto"),
        2020: ("udsat", "haardt_ghetto"),
        2022: ("forebyggelse", "forebyggelse"),
        2023: ("parallelsamfund", "forebyggelse"),
    }
    for year, (motalavej, ringparken) in expected.items():
        assert history[(year, "MOTALAVEJ")] == motalavej, year
        assert history[(year, "RINGPARKEN")] == ringparken, year
    assert {s for (_, area), s in history.items() if area in ("SYDBYEN", "PARKVEJ")} == {"none"}


def test_ringparken_2019_against_three_times_the_national_rate(example_warehouse):
    rows = query(
        example_warehouse,
        "select criterion, value, threshold, met, margin, persons_to_exit from marts.area_criteria "
        "where area_id = 'RINGPARKEN' and year = 2019 and ruleset = 'law_2018'",
    )
    by_criterion = {r[0]: r[1:] for r in rows}
    crime_value, crime_threshold, crime_met, crime_margin, crime_exit = by_criterion["crime"]
    assert round(crime_value * 100, 2) == 2.07
    assert round(crime_threshold * 100, 2) == 2.03
    assert crime_met and crime_margin == pytest.approx(crime_value - crime_threshold)
    assert crime_exit >= 1
    assert round(by_criterion["non_western"][0], 2) == 0.57
    assert round(by_criterion["education"][0], 3) == 0.702
    assert by_criterion["income"][4] is None


def test_rows_only_for_area_years_with_statistics(example_warehouse):
    area_years = query(
        example_warehouse, "select count(distinct (area_id, year)) from marts.area_metrics"
    )[0][0]
    counts = query(
        example_warehouse,
        "select (select count(*) from marts.area_metrics), "
        "(select count(*) from marts.area_criteria), "
        "(select count(*) from marts.area_status), "
        "(select count(*) from marts.area_list_status), "
        "(select count(*) from rulesets.ruleset_criteria), "
        "(select count(*) from rulesets.ruleset_categories), "
        "(select count(distinct ruleset) from rulesets.ruleset_categories)",
    )[0]
    metrics, criteria, status, lists, n_criteria, n_categories, n_rulesets = counts
    assert metrics == area_years * 6
    assert criteria == area_years * n_criteria
    assert status == area_years * n_categories
    assert lists == area_years * n_rulesets


def test_a_new_ruleset_needs_no_code_change(tmp_path: Path):
    """A ruleset whose chain is four levels deep, two of them 'N years in a row'."""
    project = tmp_path / "dbt_project"
    shutil.copytree(
        settings.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    with (project / "seeds" / "ruleset_categories.csv").open("a", encoding="utf-8") as f:
        f.write(
            "x_2030,base,Basis,1,,1,1000,,2030,,test\n"
            "x_2030,level2,Niveau 2,2,base,,1000,,2030,,test\n"
            "x_2030,level3,Niveau 3,3,level2,,1000,2,2030,,test\n"
            "x_2030,level4,Niveau 4,4,level3,,1000,2,2030,,test\n"
        )
    with (project / "seeds" / "ruleset_criteria.csv").open("a", encoding="utf-8") as f:
        f.write("x_2030,base,unemployment,unemployment_18_64,count,>,0.42,absolute,1\n")
    warehouse = tmp_path / "wh.duckdb"
    load_sources(settings.EXAMPLE_SOURCES_DIR, warehouse)
    dbt_build(warehouse, tmp_path, MARTS, project_dir=project)

    rows = query(
        warehouse,
        "select area_id, year, category, qualifies, consecutive_years_qualified "
        "from marts.area_status where ruleset = 'x_2030' order by area_id, year",
    )
    status = {(a, y, c): (q, n) for a, y, c, q, n in rows}
    base_runs = {(a, y): n for (a, y, c), (_, n) in status.items() if c == "base"}
    assert any(n >= 3 for n in base_runs.values()) and any(n == 0 for n in base_runs.values())
    for (area, year), run in base_runs.items():
        # level3: base 2 years in a row; level4: level3 2 years in a row = base 3 years in a row.
        assert status[(area, year, "level2")][0] == (run >= 1)
        assert status[(area, year, "level3")][0] == (run >= 2)
        assert status[(area, year, "level4")][0] == (run >= 3)
    lists = query(
        warehouse,
        "select status, count(*) from marts.area_list_status where ruleset = 'x_2030' "
        "group by status",
    )
    assert {s for s, _ in lists} <= {"none", "level2", "level4", "level3"}
    assert dict(lists).get("level4", 0) == sum(1 for n in base_runs.values() if n >= 3)
    in_force = "select 1 from marts.area_list_status where ruleset = 'x_2030' and in_force"
    assert not query(warehouse, in_force)


def test_dbt_docs_generate_documents_every_mart(example_warehouse, tmp_path):
    run_dbt("docs", "generate", work=tmp_path, warehouse=example_warehouse)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    undocumented = [
        f"{m['name']}.{c}"
        for m in models
        for c, column in m["columns"].items()
        if not column.get("description")
    ] + [m["name"] for m in models if not m.get("description")]
    assert undocumented == []
    assert (tmp_path / "target" / "index.html").exists()
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    assert "model.boligsocial.area_list_status" in catalog["nodes"]
