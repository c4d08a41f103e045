"""Reader of the housing organisations' vandalism ledger exports (vandalism/<org>_<YYYY-MM>.csv)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.derived import department_key, file_name_parts, has_columns, in_area

if TYPE_CHECKING:
    from boligsocial.validation.reference import Reference


LEDGER_COLUMNS = SOURCES_BY_NAME["vandalism_ledger"].headers


@_csv.bounded
def read_vandalism_ledger(path: Path) -> pd.DataFrame:
    """One export; UTF-8 or, as ERP systems write them, Windows-1252.

    Selskab must be the file name's <org> exactly; export_period is its <YYYY-MM>.
    """
    org, period = _file_org_period(path)
    t = _csv.read_csv(path, LEDGER_COLUMNS, cp1252=True)
    return _frame(t, pa.scalar(org), t.constant(period))


@_csv.bounded
def read_many_vandalism_ledger(paths: list[Path]) -> pd.DataFrame:
    """Many exports at once (see `_csv.read_many`): the rows `read_vandalism_ledger` gives
    for each, plus `_file_index`, the position of the row's file in `paths`."""
    names = {str(p): _file_org_period(p) for p in paths}

    def convert(t: _csv.BatchTable) -> pd.DataFrame:
        orgs, periods = zip(*(names[f] for f in t.files), strict=True)
        return _frame(
            t,
            pa.array(orgs, pa.string()).take(t.file_index),
            pa.array(periods, pa.string()).take(t.file_index),
        )

    return _csv.read_many(
        paths, LEDGER_COLUMNS, cp1252=True, convert=convert, read_one=read_vandalism_ledger
    )


def _file_org_period(path: Path) -> tuple[str, str]:
    parts = SOURCES_BY_NAME["vandalism_ledger"].name_parts(path)
    return parts["organisation"], parts["period"]


def _frame(t: _csv.Table, org: pa.Scalar | pa.Array, period: pa.Array) -> pd.DataFrame:
    """The reader's columns; `org` and `period` come from the file name (per row in a batch)."""
    selskab = _csv.text(t, "selskab")
    differs = pc.not_equal(t.cells["selskab"], org)
    if pc.any(differs).as_py():
        expected = org if isinstance(org, pa.Scalar) else org[pc.index(differs, True).as_py()]
        t.check("selskab", differs, "selskab_differs_from_file_name", org=expected.as_py())
    values = {
        "selskab": selskab,
        "afdeling": _csv.integer(t, "afdeling"),
        "sagsnr": _csv.text(t, "sagsnr"),
        "linje": _csv.integer(t, "linje"),
        "dato": _csv.dk_date(t, "dato"),
        "kategori": _csv.text(t, "kategori"),
        "tekst": _csv.text(t, "tekst"),
        "beloeb": _csv.amount(t, "beloeb"),
        "export_period": period,
    }
    return _csv.to_frame(t, "vandalism_ledger", values)


# --- derived columns (boligsocial.sources.derived) ----------------------------------------


def derive_vandalism_ledger(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    parts = file_name_parts(frame, SOURCES_BY_NAME["vandalism_ledger"])
    frame["_file_org"], frame["_file_period"] = parts["organisation"], parts["period"]
    if not has_columns(frame, "selskab", "afdeling", "dato"):
        return frame
    key = frame["_department_key"] = department_key(frame["selskab"], frame["afdeling"])
    outside = np.flatnonzero(~in_area(key, frame["dato"], reference.departments))
    # Known department without an area on the line's date: (<org>/<no>, date), worded in each
    # language by messages.VALUE_FORMS; a line without either is the not-null rules' to report.
    outside = outside[(key.iloc[outside].notna() & frame["dato"].iloc[outside].notna()).to_numpy()]
    described = np.full(len(frame), None, dtype=object)
    dato = frame["dato"].iloc[outside].astype(str)
    described[outside] = list(zip(key.iloc[outside], dato, strict=True))
    frame["_department_outside_area"] = pd.Series(described, index=frame.index, dtype=object)
    return frame
