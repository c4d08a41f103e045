"""Reader of the effort register (efforts/indsatser.csv or the first sheet of indsatser.xlsx)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.derived import has_columns
from boligsocial.sources.errors import SourceError

if TYPE_CHECKING:
    from boligsocial.validation.reference import Reference


EFFORT_COLUMNS = SOURCES_BY_NAME["efforts"].headers
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


# --- derived columns (boligsocial.sources.derived) ----------------------------------------


def derive_efforts(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    import pandas as pd

    if has_columns(frame, "budget_kr"):
        frame["_budget_kr_amount"] = pd.to_numeric(frame["budget_kr"], errors="coerce")
    if has_columns(frame, "aarsvaerk"):
        frame["_aarsvaerk_number"] = pd.to_numeric(frame["aarsvaerk"], errors="coerce")
    return frame
