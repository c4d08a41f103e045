"""Reader of the effort register (efforts/indsatser.csv or the first sheet of indsatser.xlsx)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from boligsocial.sources import _csv
from boligsocial.sources.errors import SourceError

EFFORT_COLUMNS = {
    "indsats_id": "indsats_id",
    "navn": "navn",
    "indsatsomraade": "indsatsområde",
    "spor": "spor",
    "omraade": "område",
    "aar": "år",
    "aarsvaerk": "årsværk",
    "budget_kr": "budget_kr",
}
# Full-time equivalents are exact decimals (sums must not depend on the order of the rows):
# DECIMAL(18,4) in the catalog (0,0001 årsværk is about 12 minutes a year).
FTE_SCALE = 4


@_csv.bounded
def read_efforts(path: Path) -> pd.DataFrame:
    """The register as CSV, or as a workbook whose numbers may be real numbers or text."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        t = _csv.read_csv(path, EFFORT_COLUMNS)
    elif suffix == ".xlsx":
        t = _csv.read_xlsx(path, EFFORT_COLUMNS)
    else:
        raise SourceError(str(path), None, None, kind="effort_file_type")
    values = {
        "indsats_id": _csv.text(t, "indsats_id"),
        "navn": _csv.text(t, "navn"),
        "indsatsomraade": _csv.text(t, "indsatsomraade"),
        "spor": _csv.text(t, "spor"),
        "omraade": _csv.text(t, "omraade"),
        "aar": _csv.integer(t, "aar"),
        "aarsvaerk": _csv.decimal(t, "aarsvaerk", scale=FTE_SCALE),
        "budget_kr": _csv.amount(t, "budget_kr"),
    }
    return _csv.to_frame(t, "efforts", values)
