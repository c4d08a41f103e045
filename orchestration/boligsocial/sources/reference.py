"""Readers of the reference files: housing areas, the departments that belong to them, and the
official lists the areas were on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from boligsocial.sources import _csv

AREA_COLUMNS = {
    "area_id": "area_id",
    "area_name": "area_name",
    "town": "town",
    "municipality_code": "municipality_code",
    "region_code": "region_code",
}
DEPARTMENT_COLUMNS = {
    "housing_org": "housing_org",
    "department_no": "department_no",
    "department_name": "department_name",
    "area_id": "area_id",
    "dwellings": "dwellings",
    "valid_from": "valid_from",
    "valid_to": "valid_to",
}
OFFICIAL_LIST_COLUMNS = {"aar": "år", "omraade": "område", "kategori": "kategori"}


@_csv.bounded
def read_areas(path: Path) -> pd.DataFrame:
    """reference/areas.csv. The codes stay text: their digits (and leading zeros) are codes."""
    t = _csv.read_csv(path, AREA_COLUMNS)
    return _csv.to_frame(t, "areas", {name: _csv.text(t, name) for name in AREA_COLUMNS})


@_csv.bounded
def read_departments(path: Path) -> pd.DataFrame:
    """reference/departments.csv; an empty valid_to means the department still belongs."""
    t = _csv.read_csv(path, DEPARTMENT_COLUMNS)
    values = {
        "housing_org": _csv.text(t, "housing_org"),
        "department_no": _csv.integer(t, "department_no"),
        "department_name": _csv.text(t, "department_name"),
        "area_id": _csv.text(t, "area_id"),
        "dwellings": _csv.integer(t, "dwellings"),
        "valid_from": _csv.iso_date(t, "valid_from"),
        "valid_to": _csv.iso_date(t, "valid_to", optional=True),
    }
    return _csv.to_frame(t, "departments", values)


@_csv.bounded
def read_official_list(path: Path) -> pd.DataFrame:
    """reference/official_list.csv; whether område and kategori are known is the suite's rule."""
    t = _csv.read_csv(path, OFFICIAL_LIST_COLUMNS)
    aar = t.cells["aar"]
    four_digits = pc.match_substring_regex(aar, r"^[0-9]{4}$")
    t.check("aar", pc.invert(four_digits), _csv.not_expected, expected="year")
    values = {
        "aar": _csv.integer(t, "aar"),
        "omraade": _csv.text(t, "omraade"),
        "kategori": _csv.text(t, "kategori"),
    }
    return _csv.to_frame(t, "official_list", values)
