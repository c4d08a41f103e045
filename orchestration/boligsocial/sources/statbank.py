"""Reader of cached StatBank API responses (statbank/<TABLE>.csv), in long format.

The HTTP client that writes these files is `sources/statbank_client.py`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from boligsocial.sources import _csv
from boligsocial.sources.catalog import SOURCES_BY_NAME

TIME = "TID"
VALUE = "INDHOLD"


@_csv.bounded
def read_statbank(path: Path) -> pd.DataFrame:
    """One StatBank table: table_id from the file name, every variable but TID in `dimensions`.

    Variables are keyed by their upper-cased header (StatBank writes them upper case), so a
    re-saved file with other header case keeps the same `dimensions`.
    """
    table_id = SOURCES_BY_NAME["statbank"].name_parts(path)["table"]
    t = _csv.read_csv_open(path, required=(TIME, VALUE))
    variables = [name for name in t.cells if name not in (TIME, VALUE)]
    for name in variables:
        _csv.text(t, name)
    indhold, suppressed = _csv.statistic(t, VALUE)
    values = {
        "table_id": t.constant(table_id),
        "dimensions": _csv.json_objects(t, variables),
        "tid": _csv.text(t, TIME),
        "indhold": indhold,
        "indhold_suppressed": suppressed,
    }
    return _csv.to_frame(t, "statbank", values)
