"""Tools of the derived columns the GX suites check (`_department_key`, `_file_year` ...): each
source's `derive_<name>` (beside its reader, named by the catalog's `derive`) adds them to a
chunk of rows before validation, for the rules a plain expectation cannot express.

pandas, numpy and pyarrow are imported inside the functions: the code location imports the
catalog, which names these modules, without paying for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from boligsocial.sources.catalog import SourceSpec


def name_key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def department_key(org: pd.Series, number: pd.Series) -> pd.Series:
    """The key "<org>/<number>" (the number as an integer), missing where either is; joined in
    Arrow, as pandas' string concatenation of 5M ledger lines took 0.5 s."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    number = pd.to_numeric(number, errors="coerce").astype("Int64")
    key = pc.binary_join_element_wise(
        pa.array(org, pa.string(), from_pandas=True), pa.array(number).cast(pa.string()), "/"
    )
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    return key.to_pandas(types_mapper={pa.string(): str_dtype}.get).set_axis(org.index)


def by_distinct(values: pd.Series, derive: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`derive` of each distinct value, per row: millions of rows hold a few thousand dates or
    files, and pandas' per-value work (to_numeric, regex extraction) is what costs."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values)
    derived = derive(pd.Series(uniques)).reset_index(drop=True)
    # Code -1 (a missing value) takes the extra missing row at the end.
    derived = pd.concat([derived, derived.iloc[:0].reindex([len(derived)])], ignore_index=True)
    taken = derived.take(np.where(codes < 0, len(derived) - 1, codes))
    taken.index = values.index
    return taken


def file_name_parts(frame: pd.DataFrame, spec: SourceSpec) -> pd.DataFrame:
    """The named parts of each row's file name (the catalog's), a column each, missing where
    the name is not the source's; extracted once per file (a load has up to ≈ 88,000 files
    but millions of rows)."""
    pattern = rf"(?:^|/){spec.name_regex.pattern}$"
    return by_distinct(frame["_source_file"].astype(str), lambda f: f.str.extract(pattern))


def file_year(frame: pd.DataFrame, spec: SourceSpec) -> pd.Series:
    import pandas as pd

    year = file_name_parts(frame, spec)["year"]
    return pd.to_numeric(year, errors="coerce").astype("Int64")


def iso_year(dates: pd.Series) -> pd.Series:
    import pandas as pd

    def year(distinct: pd.Series) -> pd.Series:
        text = distinct.astype("string").str.slice(0, 4)
        return pd.to_numeric(text, errors="coerce").astype("Int64")

    return by_distinct(dates, year)


def has_columns(frame: pd.DataFrame, *columns: str) -> bool:
    return all(c in frame.columns for c in columns)


def in_area(keys: pd.Series, dates: pd.Series, departments: pd.DataFrame) -> np.ndarray:
    """Per line, whether a period of its department (`department_key`) holds its date
    (valid_from ≤ date ≤ valid_to, open-ended without valid_to): a semi-join in DuckDB."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    lines = pa.table(
        {
            "line": np.arange(len(keys)),
            "department_key": pa.array(keys, pa.string(), from_pandas=True),
            "dato": pa.array(dates, pa.string(), from_pandas=True),
        }
    )
    periods = pa.table(
        {
            "department_key": pa.array(
                department_key(departments["housing_org"], departments["department_no"]),
                pa.string(),
                from_pandas=True,
            ),
            "valid_from": pa.array(pd.to_datetime(departments["valid_from"])),
            "valid_to": pa.array(pd.to_datetime(departments["valid_to"])),
        }
    )
    from boligsocial.loading.warehouse import connect

    with connect() as con:
        con.register("lines", lines)
        con.register("periods", periods)
        found = con.execute(
            "select l.line from (select line, department_key, try_cast(dato as timestamp) as day "
            "from lines) l semi join periods p on l.department_key = p.department_key "
            "and p.valid_from <= l.day and (p.valid_to is null or l.day <= p.valid_to)"
        ).fetchnumpy()["line"]
    in_area = np.zeros(len(keys), dtype=bool)
    in_area[found] = True
    return in_area
