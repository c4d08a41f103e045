"""One row of every mart, every column checked against a value computed by hand.

The sources are the tiny hand-made directory tests/fixtures/hand/ (validated against the
source contract while loading). Two areas in Slagelse kommune (330), Region Sjælland (1085):

- APARKEN (Aparken): FOB 1 (120 dwellings) and FOB 2 (80) since the 1970s; FOB 9 (50) joins
  on 2021-06-01, so it belongs to no area on 1 January 2021 (not in 2021's dwellings) and
  only its ledger lines dated from June 2021 count for Aparken.
- BPARKEN (Bparken): FOB 3 (150 dwellings), 400 residents (below the 1,000 of the lists).

Statistics (2020 | 2021) per department; FOB 3 is the same both years:

| MÅL              | FOB 1 2020 | FOB 2 2020 | FOB 1 2021 | FOB 2 2021 | FOB 3     |
|------------------|-----------:|-----------:|-----------:|-----------:|----------:|
| BEF              |        700 |        500 |        700 |        500 |       400 |
| BEF_18_64        |        400 |        300 |        400 |        300 |       200 |
| UDENFOR_18_64    |        180 |        100 |      190,5 |      159,5 |       120 |
| BEF_30_59        |        300 |        200 |        300 |        200 |       100 |
| GRUNDSKOLE_30_59 |        150 |         .. |        150 |         90 |        90 |
| BEF_18PLUS       |        450 |        350 |        450 |        350 |       300 |
| DOEMTE_18PLUS    |         15 |          9 |         22 |         14 |        27 |
| IKKEVEST         |        350 |        250 |        360 |        240 |       100 |
| INDK_PERS_15_64  |        300 |        200 |        300 |        200 |       100 |
| INDK_SUM_15_64   |   57 mio.  |   38 mio.  |   60 mio.  |   40 mio.  | 8,25 mio. |

Aparken 2020 | 2021: residents 1,200 | 1,200; unemployment 280/700 = 0.40 | 350/700 = 0.50;
crime 24/800 = 0.03 | 36/800 = 0.045; basic education 150/300 = 0.50 (FOB 2 suppressed) |
240/500 = 0.48; non-western 600/1,200 = 0.50 both years; income 95 mio./500 = 190,000 |
100 mio./500 = 200,000. Bparken both years: 400; 0.60; 0.09; 0.90; 0.25; 82,500.

Benchmarks: national DOEMTE_PCT_18PLUS 0.9 % (2020) and 1.1 % (2021), so "3 × the national
average over 2 years" is 3 × 0.01 = 0.03 in 2021: Aparken's 2020 crime rate sits exactly on it.
Region 1085 income 290,000 | 300,000; kommune 330 DOEMTE_PCT 1.2 | 1.5 and income
250,000 | 260,000 (no other kommune MÅL); a row for kommune 999 is ignored.

Efforts 2021 (DKK): Aparken drift 1,000,000 (2.0 FTE, Uddannelse og beskæftigelse) and
400,000 (1.0, Tryghed og trivsel), projekt 300,000 (0.5, Uddannelse og beskæftigelse); Bparken
projekt 150,000 (0.5, Tryghed og trivsel); FÆLLES drift 400,000 (1.0, Tryghed og trivsel),
spread by residents 1,200 : 400 = 0.75 : 0.25.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from boligsocial.validation.report import ValidationReport
from boligsocial.validation.suites import WARNING
from boligsocial.validation.validate import raw_validator
from tests.dbt.conftest import dbt_build, load_sources

pytestmark = pytest.mark.slow

HAND_SOURCES = Path(__file__).resolve().parents[1] / "fixtures" / "hand"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("hand")
    warehouse = work / "wh.duckdb"
    reports: list[ValidationReport] = []
    load_sources(HAND_SOURCES, warehouse, validator=lambda spec: raw_validator(spec, reports))
    assert reports and all(r.passed for r in reports)
    # The one warning: FOB 9's March line, dated before the department joined Aparken.
    ledger = next(r for r in reports if r.suite == "vandalism_ledger")
    assert "FOB/9 on 2021-03-01" in ledger.message(WARNING)
    results = dbt_build(warehouse, work, exclude="test_type:unit")
    warned = [r["unique_id"].split(".")[2] for r in results["results"] if r["status"] == "warn"]
    assert warned == ["not_null_int_vandalism_lines_by_area_area_id"]
    return warehouse


def mart_row(warehouse: Path, mart: str, **key: object) -> dict[str, object]:
    """The one row of marts.<mart> with the given key, as {column: value}."""
    where = " and ".join(f"{column} = ?" for column in key)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(f"select * from marts.{mart} where {where}", list(key.values()))
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description]
    assert len(rows) == 1, rows
    return dict(zip(columns, rows[0], strict=True))


def assert_row(actual: dict[str, object], expected: dict[str, object]) -> None:
    """Every column of the row, no more and no less; doubles within 1e-9, the rest exactly."""
    assert sorted(actual) == sorted(expected)
    mismatches = {}
    for column, want in expected.items():
        got = actual[column]
        if isinstance(want, float):
            number = isinstance(got, float | int) and not isinstance(got, bool)
            ok = number and got == pytest.approx(want, abs=1e-9)
        elif want is None or isinstance(want, bool):
            ok = got is want
        else:
            ok = got == want and type(got) is type(want)
        if not ok:
            mismatches[column] = (want, got)
    assert not mismatches, f"column: (expected, actual) {mismatches}"


def test_area_metrics_crime_2021(warehouse):
    assert_row(
        mart_row(warehouse, "area_metrics", area_id="APARKEN", year=2021, metric="crime_18plus"),
        {
            "area_id": "APARKEN",
            "area_name": "Aparken",
            "year": 2021,
            "metric": "crime_18plus",
            "numerator": 36.0,  # DOEMTE_18PLUS 22 + 14
            "denominator": 800.0,  # BEF_18PLUS 450 + 350
            "value": 0.045,  # 36 / 800
            "has_suppressed": False,
            "municipality_value": 0.015,  # kommune 330 DOEMTE_PCT_18PLUS 1,5 % / 100
            "national_value": 0.011,  # DK DOEMTE_PCT_18PLUS 1,1 % / 100
        },
    )


def test_area_metrics_suppressed_cell_2020(warehouse):
    row = mart_row(
        warehouse, "area_metrics", area_id="APARKEN", year=2020, metric="basic_education_30_59"
    )
    assert_row(
        row,
        {
            "area_id": "APARKEN",
            "area_name": "Aparken",
            "year": 2020,
            "metric": "basic_education_30_59",
            "numerator": 150.0,  # FOB 1 only: FOB 2's GRUNDSKOLE_30_59 is `..`
            "denominator": 300.0,  # FOB 1 only: FOB 2 leaves both sums
            "value": 0.5,  # 150 / 300
            "has_suppressed": True,
            "municipality_value": None,  # kommune 330 has no GRUNDSKOLE_PCT_30_59
            "national_value": 0.25,  # DK GRUNDSKOLE_PCT_30_59 25 % / 100
        },
    )


def test_area_criteria_crime_two_year_window(warehouse):
    row = mart_row(
        warehouse, "area_criteria",
        area_id="APARKEN", year=2021, ruleset="law_2021", category="udsat", criterion="crime",
    )  # fmt: skip
    assert_row(
        row,
        {
            "area_id": "APARKEN",
            "year": 2021,
            "ruleset": "law_2021",
            "category": "udsat",
            "criterion": "crime",
            "role": "count",
            "metric": "crime_18plus",
            "value": 0.0375,  # (0.03 + 0.045) / 2
            "operator": ">=",
            "threshold": 0.03,  # 3 × (0.009 + 0.011) / 2
            "met": True,  # 0.0375 >= 0.03
            "margin": 0.0075,  # 0.0375 - 0.03
            # x = n - d·(w·t - S) = 36 - 800·(2·0.03 - 0.03) = 36 - 24 = 12; `>=`: ⌊12⌋ + 1.
            # (12 leaving: 24/800 = 0.03, mean 0.03 >= 0.03 still met; 13: 23/800, not met.)
            "persons_to_exit": 13,
        },
    )


def test_area_criteria_unemployment_fractional_persons(warehouse):
    row = mart_row(
        warehouse, "area_criteria",
        area_id="APARKEN", year=2021, ruleset="law_2021", category="udsat",
        criterion="unemployment",
    )  # fmt: skip
    assert_row(
        row,
        {
            "area_id": "APARKEN",
            "year": 2021,
            "ruleset": "law_2021",
            "category": "udsat",
            "criterion": "unemployment",
            "role": "count",
            "metric": "unemployment_18_64",
            "value": 0.45,  # (280/700 + (190.5 + 159.5)/700) / 2 = (0.40 + 0.50) / 2
            "operator": ">",
            "threshold": 0.40,  # absolute
            "met": True,  # 0.45 > 0.40
            "margin": 0.05,  # 0.45 - 0.40
            # x = 350 - 700·(2·0.40 - 0.40) = 350 - 280 = 70; `>`: ⌈70⌉ = 70 (mean then 0.40).
            "persons_to_exit": 70,
        },
    )


def test_area_status_udsat_2021(warehouse):
    row = mart_row(
        warehouse, "area_status",
        area_id="APARKEN", year=2021, ruleset="law_2021", category="udsat",
    )  # fmt: skip
    assert_row(
        row,
        {
            "area_id": "APARKEN",
            "year": 2021,
            "ruleset": "law_2021",
            "category": "udsat",
            "residents": 1200.0,  # 700 + 500
            "eligible": True,  # 1,200 >= 1,000
            # unemployment 0.45 > 0.40 and crime 0.0375 >= 0.03 met; education 0.48 > 0.60
            # and income 200,000 < 0.55 × 300,000 = 165,000 not met.
            "criteria_met": 2,
            "criteria_required": 2,
            "gate_met": True,  # udsat has no gate criteria
            "qualifies": True,  # eligible, 2 >= 2, gates met
            # 2020 does not qualify: the 2-year windows lack 2019 (NULL), education 0.50 and
            # income 190,000 vs 0.55 × 290,000 = 159,500 not met.
            "consecutive_years_qualified": 1,
            "in_force": True,  # 2021 <= 2021, no last_year
            "complete": True,  # no NULL value among udsat's 4 criteria
        },
    )


def test_area_status_parallelsamfund_takes_its_roots_count(warehouse):
    row = mart_row(
        warehouse, "area_status",
        area_id="APARKEN", year=2021, ruleset="law_2021", category="parallelsamfund",
    )  # fmt: skip
    assert_row(
        row,
        {
            "area_id": "APARKEN",
            "year": 2021,
            "ruleset": "law_2021",
            "category": "parallelsamfund",
            "residents": 1200.0,  # 700 + 500
            "eligible": True,  # 1,200 >= 1,000
            "criteria_met": 2,  # those of its root udsat
            "criteria_required": 2,  # those of its root udsat
            "gate_met": False,  # non-western 600 / 1,200 = 0.50 > 0.50 is false (on the line)
            "qualifies": False,  # base udsat qualifies, but the gate is not met
            "consecutive_years_qualified": 0,
            "in_force": True,
            "complete": True,  # udsat's 4 criteria and the gate all have values
        },
    )


def test_area_list_status(warehouse):
    # law_2021 2021: forebyggelse (severity 0: gate 0.50 > 0.30; unemployment 0.45 > 0.30,
    # crime 0.0375 >= 2 × 0.01) and udsat (severity 1) qualify; the most severe is listed.
    assert_row(
        mart_row(warehouse, "area_list_status", area_id="APARKEN", year=2021, ruleset="law_2021"),
        {
            "area_id": "APARKEN",
            "year": 2021,
            "ruleset": "law_2021",
            "status": "udsat",
            "status_label_da": "Udsat boligområde",
            "in_force": True,  # 2021 <= 2021, open
        },
    )
    # law_2018 2020: udsat has only education (0.50 > 0.60) and income (190,000 < 159,500)
    # with values, neither met: not on any list.
    assert_row(
        mart_row(warehouse, "area_list_status", area_id="APARKEN", year=2020, ruleset="law_2018"),
        {
            "area_id": "APARKEN",
            "year": 2020,
            "ruleset": "law_2018",
            "status": "none",
            "status_label_da": "Ikke på listen",
            "in_force": True,  # 2018 <= 2020 <= 2020
        },
    )


def test_area_safety(warehouse):
    assert_row(
        mart_row(warehouse, "area_safety", area_id="APARKEN", year=2021),
        {
            "area_id": "APARKEN",
            "area_name": "Aparken",
            "year": 2021,
            "tryghedsindeks": 62.5,  # `2021;Aparken;62,5`
            "national_index": 88.0,  # `2021;Hele landet;88`
            "udsatte_average_index": 72.5,  # `2021;Alle udsatte områder;72,5`
            "police_incidents": 3,  # H-2021-1, -2 (` APARKEN `, trimmed, any case) and -3
            "arson_incidents": 1,  # H-2021-1 `Påsat brand` (H-2021-4 is Bparken's)
            # S1 (FOB 1), S2 (FOB 2) and S4 (FOB 9, July, after it joined on 2021-06-01);
            # S3 (FOB 9, March: no area yet) is left out.
            "vandalism_cases": 3,
            # S1: 1,000 + 600 (line 2 as re-exported in 2021-12, not 500) - 300 (credit)
            # + S2: 2,000 (only in the 2021-06 export) + S4: 1,200 = 4,500
            "vandalism_cost_dkk": Decimal("4500.00"),
            "dwellings": 200,  # FOB 1 120 + FOB 2 80 (FOB 9 not there on 1 January)
            "vandalism_cost_per_dwelling_dkk": 22.5,  # 4,500 / 200
        },
    )


def test_resource_allocation_with_a_faelles_share(warehouse):
    row = mart_row(
        warehouse, "resource_allocation",
        year=2021, area_id="APARKEN", effort_area="Tryghed og trivsel", track="drift",
    )  # fmt: skip
    assert_row(
        row,
        {
            "year": 2021,
            "area_id": "APARKEN",
            "effort_area": "Tryghed og trivsel",
            "track": "drift",
            "fte": Decimal("1.7500"),  # D2 1.0 + F1 1.0 × 1,200 / (1,200 + 400)
            "budget_dkk": Decimal("700000.00"),  # D2 400,000 + F1 400,000 × 0.75
            "fte_shared": Decimal("0.7500"),  # F1 1.0 × 0.75
            "budget_shared_dkk": Decimal("300000.00"),  # F1 400,000 × 0.75
        },
    )


def test_allocation_8020(warehouse):
    assert_row(
        mart_row(warehouse, "allocation_8020", year=2021, area_id="APARKEN"),
        {
            "year": 2021,
            "area_id": "APARKEN",
            "budget_drift_dkk": Decimal("1700000.00"),  # D1 1,000,000 + D2 400,000 + F1 300,000
            "budget_projekt_dkk": Decimal("300000.00"),  # P1
            "budget_total_dkk": Decimal("2000000.00"),  # 1,700,000 + 300,000
            "fte_drift": Decimal("3.7500"),  # 2.0 + 1.0 + 0.75
            "fte_projekt": Decimal("0.5000"),  # P1
            "share_drift": 0.85,  # 1,700,000 / 2,000,000
            "target_share_drift": 0.80,
            "deviation_pp": 5.0,  # (0.85 - 0.80) × 100
            "within_tolerance": True,  # |5| <= 5, exactly on the tolerance
        },
    )
    assert_row(
        mart_row(warehouse, "allocation_8020", year=2021, area_id="ALLE"),
        {
            "year": 2021,
            "area_id": "ALLE",
            "budget_drift_dkk": Decimal("1800000.00"),  # 1,700,000 + Bparken's F1 share 100,000
            "budget_projekt_dkk": Decimal("450000.00"),  # 300,000 + P2 150,000
            "budget_total_dkk": Decimal("2250000.00"),  # 1,800,000 + 450,000
            "fte_drift": Decimal("4.0000"),  # 3.75 + 0.25
            "fte_projekt": Decimal("1.0000"),  # 0.5 + 0.5
            "share_drift": 0.80,  # 1,800,000 / 2,250,000
            "target_share_drift": 0.80,
            "deviation_pp": 0.0,  # (0.80 - 0.80) × 100
            "within_tolerance": True,
        },
    )


def test_allocation_recommendation(warehouse):
    assert_row(
        mart_row(warehouse, "allocation_recommendation", year=2021, area_id="APARKEN"),
        {
            "year": 2021,
            "area_id": "APARKEN",
            "ruleset": "law_2021",  # in force in 2021
            "category": "udsat",
            "residents": 1200.0,
            # unemployment 0.45/0.40 = 1.125, crime 0.0375/0.03 = 1.25, education
            # 0.48/0.60 = 0.8, income (`<`) 165,000/200,000 = 0.825: (1.125+1.25+0.8+0.825)/4
            "mean_pressure": 1.0,
            "need_score": 1200.0,  # 1,200 × 1.0
            # Bparken: 400 × (0.60/0.40 + 0.09/0.03 + 0.90/0.60 + 165,000/82,500)/4
            #        = 400 × (1.5 + 3 + 1.5 + 2)/4 = 800; 1,200 / (1,200 + 800)
            "need_share": 0.6,
            "budget_dkk": Decimal("2000000.00"),  # drift 1,700,000 + projekt 300,000
            "total_budget_dkk": Decimal("2250000.00"),  # the ALLE row
            "actual_share": 2_000_000 / 2_250_000,  # = 8/9
            "recommended_budget_dkk": Decimal("1350000.00"),  # 0.6 × 2,250,000, to the øre
            "delta_budget_dkk": Decimal("-650000.00"),  # 1,350,000 - 2,000,000
        },
    )
