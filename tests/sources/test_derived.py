"""The helper columns the row rules check, on rows whose index is not 0..n-1 (a frame can
come filtered or concatenated) and with missing values where the readers allow none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from boligsocial.sources.catalog import SOURCES_BY_NAME, maal_codes
from boligsocial.validation.reference import Reference

DEPARTMENTS = pd.DataFrame(
    {
        "housing_org": ["FOB", "FOB", "SAB"],
        "department_no": [1, 1, 2],
        "area_id": ["RINGPARKEN", "RINGPARKEN", "SYDBYEN"],
        "valid_from": pd.to_datetime(["2015-01-01", "2021-01-01", "2020-01-01"]),
        "valid_to": pd.to_datetime(["2019-12-31", None, "2020-06-30"]),
    }
)
REFERENCE = Reference(departments=DEPARTMENTS)
INDEX = [10, 3, 7, 0, 42, 5]


def _values(series: pd.Series) -> list:
    return [v if isinstance(v, tuple) or not pd.isna(v) else None for v in series.tolist()]


def test_ledger_lines_department_periods_and_file_name_parts():
    frame = pd.DataFrame(
        {
            "selskab": ["FOB", "FOB", "FOB", "SAB", "SAB", "XYZ"],
            "afdeling": pd.array([1, 1, 1, 2, None, 9], dtype="Int64"),
            "dato": ["2018-05-01", "2020-06-01", "2022-01-01", "2020-07-01", "2020-01-01", None],
            "_source_file": [
                "vandalism/FOB_2018-05.csv",
                "vandalism/FOB_2020-06.csv",
                "vandalism/FOB_2022-01.csv",
                "vandalism/SAB_2020-07.csv",
                "vandalism/SAB_2020-01.csv",
                "vandalism/odd name.csv",
            ],
        },
        index=INDEX,
    )
    derived = SOURCES_BY_NAME["vandalism_ledger"].derive_columns(frame, REFERENCE)
    assert list(derived.index) == INDEX
    assert _values(derived["_department_key"]) == [
        "FOB/1", "FOB/1", "FOB/1", "SAB/2", None, "XYZ/9"
    ]  # fmt: skip
    # Between FOB/1's two periods, after SAB/2's only one; an unknown department is in no area.
    assert _values(derived["_department_outside_area"]) == [
        None, ("FOB/1", "2020-06-01"), None, ("SAB/2", "2020-07-01"), None, None
    ]  # fmt: skip
    assert _values(derived["_file_org"]) == ["FOB", "FOB", "FOB", "SAB", "SAB", None]
    assert _values(derived["_file_period"])[:2] == ["2018-05", "2020-06"]


def test_statistics_missing_codes_per_department_and_year():
    codes = maal_codes("area_statistics")
    assert len(codes) > 3
    complete = [("FOB", 1, 2020, code) for code in codes]
    partial = [("FOB", 1, 2021, code) for code in codes if code not in (codes[1], codes[3])]
    rows = [*complete, *partial, ("SAB", None, 2021, codes[0])]
    frame = pd.DataFrame(
        {
            "boligorganisation": [r[0] for r in rows],
            "afdeling": pd.array([r[1] for r in rows], dtype="Int64"),
            "tid": pd.array([r[2] for r in rows], dtype="Int64"),
            "maal": [r[3] for r in rows],
            "_source_file": [f"statistics/area_statistics_{r[2]}.csv" for r in rows],
        },
        index=np.arange(len(rows))[::-1] * 2,
    )
    derived = SOURCES_BY_NAME["area_statistics"].derive_columns(frame, REFERENCE)
    missing = _values(derived["_missing_maal"])
    assert missing[: len(complete)] == [None] * len(complete)
    assert set(missing[len(complete) : -1]) == {f"{codes[1]}, {codes[3]}"}
    assert missing[-1] == ", ".join(codes[1:])
    assert _values(derived["_department_key"])[-2:] == ["FOB/1", None]
    assert _values(derived["_file_year"]) == [r[2] for r in rows]


def test_incident_years_from_the_date_and_the_file_name():
    frame = pd.DataFrame(
        {
            "dato": ["2019-03-01", "2020-12-31", None],
            "_source_file": [
                "police/incidents_2019.csv",
                "police/incidents_2019.csv",
                "police/incidents.csv",
            ],
        },
        index=[5, 1, 9],
    )
    derived = SOURCES_BY_NAME["police_incidents"].derive_columns(frame, REFERENCE)
    assert _values(derived["_dato_year"]) == [2019, 2020, None]
    assert _values(derived["_file_year"]) == [2019, 2019, None]
