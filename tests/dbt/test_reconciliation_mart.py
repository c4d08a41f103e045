"""marts.area_list_reconciliation built by real dbt runs on the hand-made sources
(tests/fixtures/hand/, statistics for 2020 and 2021) plus an area without departments and an
official list:

- Aparken 2020: officially a ghettoområde, computed `none` from incomplete data (the two-year
  windows reach back to 2019, which has no statistics): a disagreement, computed_complete false;
- Bparken 2020: no row in a covered year (a gap), so officially `none`, as computed;
- Aparken 2021: udsat on both (its row spelled ` aparken `: names match ignoring case and
  blanks); Bparken 2021: officially udsat, computed `none` (400 residents): a planted
  disagreement on complete data;
- Cparken: in areas.csv without departments, so without statistics: computed NULL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from boligsocial.defs.dbt.official_list import official_list_disagreements
from boligsocial.defs.resources import WarehouseResource
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.validation.validate import raw_validator
from tests.dbt.conftest import dbt_build, load_sources, query

pytestmark = pytest.mark.slow

HAND_SOURCES = Path(__file__).resolve().parents[1] / "fixtures" / "hand"
OFFICIAL_LIST = (
    "år;område;kategori\n"
    "2020;Aparken;ghetto\n"
    "2021; aparken ;udsat\n"
    "2021;Bparken;udsat\n"
    "2021;CPARKEN;forebyggelse\n"
)
RECONCILIATION = "select * from marts.area_list_reconciliation order by year, area_id"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("reconciliation")
    sources = work / "sources"
    shutil.copytree(HAND_SOURCES, sources)
    with (sources / "reference" / "areas.csv").open("a", encoding="utf-8") as f:
        f.write("CPARKEN;Cparken;Korsør;330;1085\n")
    (sources / "reference" / "official_list.csv").write_text(OFFICIAL_LIST, encoding="utf-8")
    warehouse = work / "wh.duckdb"
    reports = []  # every load is validated, the official list against areas.csv and the rulesets
    load_sources(sources, warehouse, validator=lambda spec: raw_validator(spec, reports))
    assert all(r.passed for r in reports)
    dbt_build(warehouse, work, "+area_list_reconciliation")
    return {"work": work, "sources": sources, "warehouse": warehouse}


def test_agreements_disagreements_gaps_and_an_area_without_statistics(built):
    assert query(built["warehouse"], RECONCILIATION) == [
        ("APARKEN", "Aparken", 2020, "law_2018", "none", "ghetto", False, False),
        ("BPARKEN", "Bparken", 2020, "law_2018", "none", "none", False, True),
        ("CPARKEN", "Cparken", 2020, "law_2018", None, "none", None, None),
        ("APARKEN", "Aparken", 2021, "law_2021", "udsat", "udsat", True, True),
        ("BPARKEN", "Bparken", 2021, "law_2021", "none", "udsat", True, False),
        ("CPARKEN", "Cparken", 2021, "law_2021", None, "forebyggelse", None, None),
    ]


def test_the_warning_check_lists_the_disagreements(built):
    result = official_list_disagreements(warehouse=WarehouseResource(path=str(built["warehouse"])))
    assert not result.passed
    assert result.severity.value == "WARN"
    assert result.metadata["area_years_compared"].value == 4
    assert [(d["area_id"], d["year"]) for d in result.metadata["disagreeing_json"].value] == [
        ("APARKEN", 2020),
        ("BPARKEN", 2021),
    ]
    assert result.description == (
        "the computed status differs from the official list: "
        "Aparken 2020: computed none, official ghetto (computed from incomplete data); "
        "Bparken 2021: computed none, official udsat"
    )


def test_without_the_file_the_mart_is_empty(built, tmp_path):
    """Removing the optional file empties raw.official_list and the mart; nothing fails (dbt's
    tests on the mart and the staging model included). On copies: the module's build stays."""
    sources, warehouse = tmp_path / "sources", tmp_path / "wh.duckdb"
    shutil.copytree(built["sources"], sources)
    shutil.copyfile(built["warehouse"], warehouse)
    (sources / "reference" / "official_list.csv").unlink()
    reports = []
    spec = SOURCES_BY_NAME["official_list"]
    load_sources(sources, warehouse, [spec.name], lambda s: raw_validator(s, reports))
    assert [r.passed for r in reports] == [True]
    assert query(warehouse, "select count(*) from raw.official_list") == [(0,)]
    dbt_build(warehouse, tmp_path, "stg_reference__official_list+")
    assert query(warehouse, RECONCILIATION) == []
    result = official_list_disagreements(warehouse=WarehouseResource(path=str(warehouse)))
    assert result.passed
