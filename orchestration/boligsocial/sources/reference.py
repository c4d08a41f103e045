"""Readers of the reference files: housing areas, the departments that belong to them, and the
official lists the areas were on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.compute as pc

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.derived import has_columns, name_key

if TYPE_CHECKING:
    from boligsocial.validation.reference import Reference


AREA_COLUMNS = SOURCES_BY_NAME["areas"].headers
DEPARTMENT_COLUMNS = SOURCES_BY_NAME["departments"].headers
OFFICIAL_LIST_COLUMNS = SOURCES_BY_NAME["official_list"].headers


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


# --- derived columns (boligsocial.sources.derived) ----------------------------------------


def derive_areas(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if has_columns(frame, "area_name"):
        frame["_area_name_key"] = frame["area_name"].map(name_key, na_action="ignore")
    return frame


def derive_departments(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if not has_columns(frame, "housing_org", "department_no", "valid_from", "valid_to"):
        return frame
    # A department belongs to one area at a time: its validity periods must not overlap.
    ordered = frame.sort_values(["housing_org", "department_no", "valid_from"], kind="stable")
    previous_end = ordered.groupby(["housing_org", "department_no"], dropna=False)[
        "valid_to"
    ].shift(1)
    previous_start = ordered.groupby(["housing_org", "department_no"], dropna=False)[
        "valid_from"
    ].shift(1)
    overlap = previous_start.notna() & (
        previous_end.isna() | (previous_end.astype("string") >= ordered["valid_from"])
    )
    frame["_overlaps_previous_period"] = overlap.reindex(frame.index).astype(bool)
    return frame


def _rulesets_in_force() -> list[list]:
    """Per ruleset: first year, last year (None: open) and its category codes; the suite's
    copy of the seed ruleset_categories (`make generate`), so that a delivery is checked
    before dbt has loaded the seeds into the warehouse."""
    from boligsocial.validation.suites import load_suite

    return load_suite("official_list")["meta"]["rulesets_in_force"]


def _kategori_not_in_force(year: Any, kategori: Any) -> str | None:
    """None when `kategori` is a category of a ruleset in force in `year`; else `kategori` with
    the codes that are."""
    if pd.isna(year) or pd.isna(kategori):
        return None  # the not-null rules report these
    in_force = sorted(
        {
            code
            for first, last, codes in _rulesets_in_force()
            if first <= year and (last is None or year <= last)
            for code in codes
        }
    )
    if kategori in in_force:
        return None
    # The codes in force that year, or "-" (no ruleset): read beside the rule's description.
    return f"{kategori} ({year}: {', '.join(in_force) or '-'})"


def derive_official_list(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if has_columns(frame, "omraade"):
        frame["_omraade_key"] = frame["omraade"].map(name_key, na_action="ignore")
    if has_columns(frame, "aar", "kategori"):
        frame["_kategori_not_in_force"] = [
            _kategori_not_in_force(year, kategori)
            for year, kategori in zip(frame["aar"], frame["kategori"], strict=True)
        ]
    return frame
