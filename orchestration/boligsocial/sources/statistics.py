"""Readers of the Danmarks Statistik tabulations: per department, and the benchmarks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME

AREA_STATISTICS_COLUMNS = {
    "boligorganisation": "BOLIGORGANISATION",
    "afdeling": "AFDELING",
    "maal": "MÅL",
    "tid": "TID",
    "indhold": "INDHOLD",
}
BENCHMARK_COLUMNS = {
    "tid": "TID",
    "niveau": "NIVEAU",
    "kode": "KODE",
    "maal": "MÅL",
    "indhold": "INDHOLD",
}


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
