"""Reader of the housing organisations' vandalism ledger exports (vandalism/<org>_<YYYY-MM>.csv)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from sources import _csv

LEDGER_COLUMNS = {
    "selskab": "Selskab",
    "afdeling": "Afdeling",
    "sagsnr": "Sagsnr",
    "linje": "Linje",
    "dato": "Dato",
    "kategori": "Kategori",
    "tekst": "Tekst",
    "beloeb": "Beløb",
}
# <org> is letters and digits (no '_'); the period's month is 01-12.
_LEDGER_FILE = re.compile(r"([^\W_]+)_([0-9]{4}-(?:0[1-9]|1[0-2]))\.csv")


def read_vandalism_ledger(path: Path) -> pd.DataFrame:
    """One export; UTF-8 or, as ERP systems write them, Windows-1252.

    Selskab must be the file name's <org> exactly; export_period is its <YYYY-MM>.
    """
    org, period = _csv.match_file_name(path, _LEDGER_FILE, "<org>_<YYYY-MM>.csv").groups()
    t = _csv.read_csv(path, LEDGER_COLUMNS, cp1252=True)
    selskab = _csv.text(t, "selskab")
    t.check(
        "selskab",
        pc.not_equal(t.cells["selskab"], org),
        lambda v: f"{v!r} differs from the organisation in the file name, {org!r}",
    )
    values = {
        "selskab": selskab,
        "afdeling": _csv.integer(t, "afdeling"),
        "sagsnr": _csv.text(t, "sagsnr"),
        "linje": _csv.integer(t, "linje"),
        "dato": _csv.dk_date(t, "dato"),
        "kategori": _csv.text(t, "kategori"),
        "tekst": _csv.text(t, "tekst"),
        "beloeb": _csv.amount(t, "beloeb"),
        "export_period": t.constant(period),
    }
    return _csv.to_frame(t, "vandalism_ledger", values)
