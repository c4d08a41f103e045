"""Readers of the Danmarks Statistik tabulations: per department, and the benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.compute as pc

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME, maal_codes
from boligsocial.sources.derived import department_key, file_year, has_columns

if TYPE_CHECKING:
    from boligsocial.validation.reference import Reference


AREA_STATISTICS_COLUMNS = SOURCES_BY_NAME["area_statistics"].headers
BENCHMARK_COLUMNS = SOURCES_BY_NAME["benchmarks"].headers


@_csv.bounded
def read_area_statistics(path: Path) -> pd.DataFrame:
    """statistics/area_statistics_<YYYY>.csv; every TID must be the file name's year."""
    year = int(SOURCES_BY_NAME["area_statistics"].name_parts(path)["year"])
    t = _csv.read_csv(path, AREA_STATISTICS_COLUMNS)
    tid = _csv.integer(t, "tid")
    t.check("tid", pc.not_equal(tid, year), "tid_differs_from_file_name", year=year)
    indhold, suppressed = _csv.statistic(t, "indhold")
    values = {
        "boligorganisation": _csv.text(t, "boligorganisation"),
        "afdeling": _csv.integer(t, "afdeling"),
        "maal": _csv.text(t, "maal"),
        "tid": tid,
        "indhold": indhold,
        "indhold_suppressed": suppressed,
    }
    return _csv.to_frame(t, "area_statistics", values)


@_csv.bounded
def read_benchmarks(path: Path) -> pd.DataFrame:
    """statistics/benchmarks.csv: national, regional and municipal comparators."""
    t = _csv.read_csv(path, BENCHMARK_COLUMNS)
    indhold, suppressed = _csv.statistic(t, "indhold")
    values = {
        "tid": _csv.integer(t, "tid"),
        "niveau": _csv.text(t, "niveau"),
        "kode": _csv.text(t, "kode"),
        "maal": _csv.text(t, "maal"),
        "indhold": indhold,
        "indhold_suppressed": suppressed,
    }
    return _csv.to_frame(t, "benchmarks", values)


# --- derived columns (boligsocial.sources.derived) ----------------------------------------


def derive_area_statistics(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    import numpy as np

    frame["_file_year"] = file_year(frame, SOURCES_BY_NAME["area_statistics"])
    if not has_columns(frame, "boligorganisation", "afdeling", "maal", "tid"):
        return frame
    frame["_department_key"] = department_key(frame["boligorganisation"], frame["afdeling"])
    # Per department and year, the MÅL codes without a row (", "-joined in the suite's order),
    # from a group × code table of presence: no Python set per department-year.
    codes = maal_codes("area_statistics")
    groups = frame.groupby(["_department_key", "tid"], dropna=False, sort=False)
    group = groups.ngroup().to_numpy()
    present = np.zeros((len(codes), int(group.max()) + 1 if len(group) else 0), dtype=bool)
    for i, code in enumerate(codes):
        present[i, group[(frame["maal"] == code).to_numpy(dtype=bool, na_value=False)]] = True
    missing = np.full(present.shape[1], None, dtype=object)
    for g in np.flatnonzero(~present.all(axis=0)):
        missing[g] = ", ".join(c for c, has in zip(codes, present[:, g], strict=True) if not has)
    frame["_missing_maal"] = missing[group]
    return frame


def derive_benchmarks(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if has_columns(frame, "niveau", "kode"):
        frame["_niveau_kode"] = frame["niveau"].astype(str) + ":" + frame["kode"].astype(str)
    return frame
