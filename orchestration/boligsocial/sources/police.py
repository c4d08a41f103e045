"""Readers of the police files: the safety index and the yearly incident extracts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.compute as pc

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.derived import file_year, has_columns, iso_year, name_key

if TYPE_CHECKING:
    from boligsocial.validation.reference import Reference


TRYGHEDSINDEKS_COLUMNS = SOURCES_BY_NAME["tryghedsindeks"].headers
INCIDENT_COLUMNS = SOURCES_BY_NAME["police_incidents"].headers


@_csv.bounded
def read_tryghedsindeks(path: Path) -> pd.DataFrame:
    """police/tryghedsindeks.csv; indeks has a decimal comma and is never suppressed."""
    t = _csv.read_csv(path, TRYGHEDSINDEKS_COLUMNS)
    values = {
        "aar": _csv.integer(t, "aar"),
        "omraade": _csv.text(t, "omraade"),
        "indeks": _csv.decimal(t, "indeks"),
    }
    return _csv.to_frame(t, "tryghedsindeks", values)


@_csv.bounded
def read_police_incidents(path: Path) -> pd.DataFrame:
    """police/incidents_<YYYY>.csv; every dato must fall in the file name's year."""
    year = SOURCES_BY_NAME["police_incidents"].name_parts(path)["year"]
    t = _csv.read_csv(path, INCIDENT_COLUMNS)
    dato = _csv.dk_date(t, "dato")
    t.check("dato", pc.invert(pc.starts_with(dato, year)), "date_outside_file_year", year=year)
    values = {
        "anmeldelse_id": _csv.text(t, "anmeldelse_id"),
        "dato": dato,
        "omraade": _csv.text(t, "omraade"),
        "kategori": _csv.text(t, "kategori"),
    }
    return _csv.to_frame(t, "police_incidents", values)


# --- derived columns (boligsocial.sources.derived) ----------------------------------------


def derive_tryghedsindeks(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if has_columns(frame, "omraade"):
        frame["_omraade_key"] = frame["omraade"].map(name_key, na_action="ignore")
    return frame


def derive_police_incidents(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    frame["_file_year"] = file_year(frame, SOURCES_BY_NAME["police_incidents"])
    if has_columns(frame, "dato"):
        frame["_dato_year"] = iso_year(frame["dato"])
    return frame
