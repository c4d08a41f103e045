"""Great Expectations validation of raw rows (pure: no Dagster imports).

Suites are GX Core 1.x JSON files, `expectations/<name>.json`, one per raw table (the marts'
rules are dbt tests of the models). A DataFrame is validated as one whole-dataframe batch of an
ephemeral pandas datasource, by a ValidationDefinition, with result format SUMMARY; the first
unexpected rows it lists get their lineage columns `_source_file`/`_source_row`
(`_with_lineage`), so every failure names the file and the row. Rules a plain expectation
cannot express are turned into derived helper columns first (`_department_key`,
`_missing_maal`, `_dato_year` ...), and facts from other tables (the known departments and
areas, the delivered files) come in as suite parameters (`{"$PARAMETER": ...}`).

`great_expectations` (~10 s to import) and pandas (~1 s) are imported inside the functions that
need them: the Dagster code location imports this module without paying for them.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import duckdb

from boligsocial.configuration import settings
from boligsocial.loading.warehouse import Incoming, connect
from boligsocial.sources import messages
from boligsocial.sources.catalog import SOURCES_BY_NAME, SourceSpec

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ERROR = "critical"  # GX severity of the blocking expectations
WARNING = "warning"
LINEAGE_INDEX = ("_source_file", "_source_row")
SAMPLE_SIZE = 10
# Benchmark rows of tryghedsindeks that are not areas (compared case-insensitively).
SAFETY_BENCHMARK_ROWS = ("hele landet", "alle udsatte områder")
SHARED_AREA = "FÆLLES"  # efforts shared by all areas


def results_root() -> Path:
    """Where each run's validation results go: BOLIGSOCIAL_GX_RESULTS or the home's."""
    return settings.gx_results_dir()


# --- suites ---------------------------------------------------------------------------------


def suite_path(name: str) -> Path:
    return settings.EXPECTATIONS_DIR / f"{name}.json"


@cache
def _suite_json(path: Path, mtime: float) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_suite(name: str) -> dict[str, Any]:
    """The suite as JSON (name, meta, expectations with type, kwargs, severity, meta)."""
    path = suite_path(name)
    return _suite_json(path, path.stat().st_mtime)


TABLE_SCOPE = "table"  # meta.scope of expectations checked in SQL over the whole raw table


def is_table_scope(expectation: Mapping[str, Any]) -> bool:
    return expectation.get("meta", {}).get("scope") == TABLE_SCOPE


def gx_suite(suite: Mapping[str, Any], *, rows_only: bool = False):
    """The suite as a GX suite; `rows_only`: without the table-scope expectations."""
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    gx_suite = gx.ExpectationSuite(name=suite["name"], meta=dict(suite.get("meta", {})))
    for order, expectation in enumerate(suite["expectations"]):
        if rows_only and is_table_scope(expectation):
            continue
        configuration = ExpectationConfiguration(
            type=expectation["type"],
            kwargs=dict(expectation["kwargs"]),
            # GX reorders results; the suite's order (structure, values, keys, references,
            # completeness) is the order in which failures explain each other.
            meta={**expectation.get("meta", {}), "order": order},
            description=expectation.get("description"),
            severity=expectation.get("severity", ERROR),
        )
        gx_suite.add_expectation(configuration.to_domain_obj())
    return gx_suite


@cache
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _batch_definition(name: str):
    """The whole-dataframe batch of the source `name`: the data asset is named after the source,
    so a result (and its Data Docs page) says which source it validated."""
    context = _context()
    try:
        source = context.data_sources.get("frames")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("frames")
    try:
        asset = source.get_asset(name)
    except LookupError:
        asset = source.add_dataframe_asset(name)
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


# --- derived helper columns ------------------------------------------------------------------


AREA_COLUMNS = ["area_id", "area_name"]
DEPARTMENT_COLUMNS = ["housing_org", "department_no", "area_id", "valid_from", "valid_to"]


def _empty(columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=columns)


@dataclass(frozen=True)
class Reference:
    """What the raw sources are checked against: the warehouse's areas and departments."""

    areas: pd.DataFrame = field(default_factory=lambda: _empty(AREA_COLUMNS))
    departments: pd.DataFrame = field(default_factory=lambda: _empty(DEPARTMENT_COLUMNS))

    @classmethod
    def from_warehouse(cls, con: duckdb.DuckDBPyConnection) -> Reference:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'raw'"
            ).fetchall()
        }
        areas = (
            con.execute(f"select {', '.join(AREA_COLUMNS)} from raw.areas").df()
            if "areas" in tables
            else _empty(AREA_COLUMNS)
        )
        departments = (
            con.execute(f"select {', '.join(DEPARTMENT_COLUMNS)} from raw.departments").df()
            if "departments" in tables
            else _empty(DEPARTMENT_COLUMNS)
        )
        return cls(areas=areas, departments=departments)

    # The suite parameters `parameters` gives, each from the raw table it is made of (a
    # source's `references` in the catalog are the tables of the parameters its suite uses).
    SOURCE_OF_PARAMETER: ClassVar[dict[str, str]] = {
        "area_ids": "areas",
        "area_ids_or_shared": "areas",
        "area_names": "areas",
        "area_names_or_benchmarks": "areas",
        "department_keys": "departments",
    }

    def parameters(self) -> dict[str, list[str]]:
        area_ids = sorted(self.areas["area_id"].dropna().astype(str))
        area_names = sorted({_name_key(n) for n in self.areas["area_name"].dropna()})
        keys = self.departments[["housing_org", "department_no"]].dropna()
        return {
            "area_ids": area_ids,
            "area_ids_or_shared": [*area_ids, SHARED_AREA],
            "area_names": area_names,
            "area_names_or_benchmarks": [*area_names, *SAFETY_BENCHMARK_ROWS],
            "department_keys": sorted(set(_department_key(keys.iloc[:, 0], keys.iloc[:, 1]))),
        }


def _name_key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def _department_key(org: pd.Series, number: pd.Series) -> pd.Series:
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


def _by_distinct(values: pd.Series, derive: Callable[[pd.Series], pd.Series]) -> pd.Series:
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


def _name_parts(frame: pd.DataFrame, spec: SourceSpec) -> pd.DataFrame:
    """The named parts of each row's file name (the catalog's), a column each, missing where
    the name is not the source's; extracted once per file (a load has up to ≈ 88,000 files
    but millions of rows)."""
    pattern = rf"(?:^|/){spec.name_regex.pattern}$"
    return _by_distinct(frame["_source_file"].astype(str), lambda f: f.str.extract(pattern))


def _file_year(frame: pd.DataFrame, spec: SourceSpec) -> pd.Series:
    import pandas as pd

    year = _name_parts(frame, spec)["year"]
    return pd.to_numeric(year, errors="coerce").astype("Int64")


def _iso_year(dates: pd.Series) -> pd.Series:
    import pandas as pd

    def year(distinct: pd.Series) -> pd.Series:
        text = distinct.astype("string").str.slice(0, 4)
        return pd.to_numeric(text, errors="coerce").astype("Int64")

    return _by_distinct(dates, year)


def _has(frame: pd.DataFrame, *columns: str) -> bool:
    return all(c in frame.columns for c in columns)


def _derive_areas(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "area_name"):
        frame["_area_name_key"] = frame["area_name"].map(_name_key, na_action="ignore")
    return frame


def _derive_departments(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if not _has(frame, "housing_org", "department_no", "valid_from", "valid_to"):
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


def _derive_area_statistics(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    import numpy as np

    frame["_file_year"] = _file_year(frame, SOURCES_BY_NAME["area_statistics"])
    if not _has(frame, "boligorganisation", "afdeling", "maal", "tid"):
        return frame
    frame["_department_key"] = _department_key(frame["boligorganisation"], frame["afdeling"])
    # Per department and year, the MÅL codes without a row (", "-joined in the suite's order),
    # from a group × code table of presence: no Python set per department-year.
    codes = load_suite("area_statistics")["meta"]["maal_codes"]
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


def _derive_benchmarks(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "niveau", "kode"):
        frame["_niveau_kode"] = frame["niveau"].astype(str) + ":" + frame["kode"].astype(str)
    return frame


def _derive_tryghedsindeks(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "omraade"):
        frame["_omraade_key"] = frame["omraade"].map(_name_key, na_action="ignore")
    return frame


@cache
def _rulesets_in_force() -> tuple[tuple[int, int | None, tuple[str, ...]], ...]:
    """Per ruleset of the seed ruleset_categories.csv: first year, last year (None: open) and
    its category codes."""
    import pandas as pd

    seed = pd.read_csv(settings.DBT_PROJECT_DIR / "seeds" / "ruleset_categories.csv", dtype=str)
    return tuple(
        (
            int(group["first_year"].astype(int).min()),
            None if group["last_year"].isna().any() else int(group["last_year"].astype(int).max()),
            tuple(group["category"]),
        )
        for _, group in seed.groupby("ruleset", sort=True)
    )


def _kategori_not_in_force(year: Any, kategori: Any) -> str | None:
    """None when `kategori` is a category of a ruleset in force in `year`; else `kategori` with
    the codes that are."""
    import pandas as pd

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


def _derive_official_list(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "omraade"):
        frame["_omraade_key"] = frame["omraade"].map(_name_key, na_action="ignore")
    if _has(frame, "aar", "kategori"):
        frame["_kategori_not_in_force"] = [
            _kategori_not_in_force(year, kategori)
            for year, kategori in zip(frame["aar"], frame["kategori"], strict=True)
        ]
    return frame


def _derive_police_incidents(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    frame["_file_year"] = _file_year(frame, SOURCES_BY_NAME["police_incidents"])
    if _has(frame, "dato"):
        frame["_dato_year"] = _iso_year(frame["dato"])
    return frame


def _derive_vandalism_ledger(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    parts = _name_parts(frame, SOURCES_BY_NAME["vandalism_ledger"])
    frame["_file_org"], frame["_file_period"] = parts["organisation"], parts["period"]
    if not _has(frame, "selskab", "afdeling", "dato"):
        return frame
    key = frame["_department_key"] = _department_key(frame["selskab"], frame["afdeling"])
    outside = np.flatnonzero(~_in_area(key, frame["dato"], reference.departments))
    # Known department without an area on the line's date: (<org>/<no>, date), worded in each
    # language by messages.VALUE_FORMS; a line without either is the not-null rules' to report.
    outside = outside[(key.iloc[outside].notna() & frame["dato"].iloc[outside].notna()).to_numpy()]
    described = np.full(len(frame), None, dtype=object)
    dato = frame["dato"].iloc[outside].astype(str)
    described[outside] = list(zip(key.iloc[outside], dato, strict=True))
    frame["_department_outside_area"] = pd.Series(described, index=frame.index, dtype=object)
    return frame


def _in_area(keys: pd.Series, dates: pd.Series, departments: pd.DataFrame) -> np.ndarray:
    """Per line, whether a period of its department (`_department_key`) holds its date
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
                _department_key(departments["housing_org"], departments["department_no"]),
                pa.string(),
                from_pandas=True,
            ),
            "valid_from": pa.array(pd.to_datetime(departments["valid_from"])),
            "valid_to": pa.array(pd.to_datetime(departments["valid_to"])),
        }
    )
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


def _derive_efforts(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    import pandas as pd

    if _has(frame, "budget_kr"):
        frame["_budget_kr_amount"] = pd.to_numeric(frame["budget_kr"], errors="coerce")
    if _has(frame, "aarsvaerk"):
        frame["_aarsvaerk_number"] = pd.to_numeric(frame["aarsvaerk"], errors="coerce")
    return frame


DERIVED: dict[str, Callable[[pd.DataFrame, Reference], pd.DataFrame]] = {
    "areas": _derive_areas,
    "departments": _derive_departments,
    "area_statistics": _derive_area_statistics,
    "benchmarks": _derive_benchmarks,
    "tryghedsindeks": _derive_tryghedsindeks,
    "official_list": _derive_official_list,
    "police_incidents": _derive_police_incidents,
    "vandalism_ledger": _derive_vandalism_ledger,
    "efforts": _derive_efforts,
}


# --- the report ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-safe Python value (GX hands back numpy scalars and pandas NA)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass
class Outcome:
    """One expectation's result, in the terms an error message needs."""

    expectation: str
    column: str | None  # raw (or derived) column, or columns joined by ', '
    header: str | None  # the column as the contract's file header names it
    severity: str
    success: bool
    description: str
    order: int  # position in the suite
    unexpected_count: int | None = None
    element_count: int | None = None
    observed: Any = None
    samples: list[dict[str, Any]] = field(default_factory=list)  # value, file, row
    description_da: str | None = None  # the suite's Danish form (meta.description_da)

    def summary(self) -> str:
        where = []
        if self.samples:
            first = self.samples[0]
            if first.get("file"):
                where.append(str(first["file"]))
            if first.get("row") is not None:
                where.append(f"row {first['row']}")
        if self.header:
            where.append(f"column {self.header}")
        text = f"{', '.join(where)}: {self.description}" if where else self.description
        if self.samples and "value" in self.samples[0]:
            text += f" (value {messages.shown(self.samples[0]['value'], 'en', self.column)})"
        elif self.observed is not None:
            text += f" (observed {_short(self.observed)})"
        if self.unexpected_count:
            text += f"; {self.unexpected_count} row(s) fail {self.expectation}"
        else:
            text += f"; fails {self.expectation}"
        return text

    def to_json(self) -> dict[str, Any]:
        return _plain(self.__dict__)


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(_plain(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class ValidationReport:
    suite: str
    outcomes: list[Outcome]
    rows: int
    seconds: float
    result_path: Path | None = None
    scope: str | None = None  # what was validated how (see RawValidation)

    def failures(self, severity: str) -> list[Outcome]:
        failed = [o for o in self.outcomes if not o.success and o.severity == severity]
        return sorted(failed, key=lambda o: o.order)

    @property
    def passed(self) -> bool:
        return not self.failures(ERROR)

    @property
    def warnings_passed(self) -> bool:
        return not self.failures(WARNING)

    def message(self, severity: str = ERROR) -> str:
        """One line per failed expectation of `severity`, in suite order; each names the first
        bad file, row and column."""
        return "\n".join(o.summary() for o in self.failures(severity))

    def metadata(self, severity: str) -> dict[str, Any]:
        chosen = [o for o in self.outcomes if o.severity == severity]
        failed = [o for o in chosen if not o.success]
        return {
            "suite": self.suite,
            "rows_validated": self.rows,
            "expectations": len(chosen),
            "failed_expectations": len(failed),
            "unexpected_rows": sum(o.unexpected_count or 0 for o in failed),
            "failures": [o.to_json() for o in failed],
            "gx_seconds": round(self.seconds, 3),
            "result_json": str(self.result_path) if self.result_path else None,
            "validated": self.scope,
        }


def _samples(
    result: Mapping[str, Any], column: str | None, first_files: set[str]
) -> list[dict[str, Any]]:
    samples = []
    for item in result.get("partial_unexpected_index_list") or []:
        sample: dict[str, Any] = {
            "file": _plain(item.get("_source_file")),
            "row": _plain(item.get("_source_row")),
        }
        values = {k: _plain(v) for k, v in item.items() if k not in LINEAGE_INDEX}
        if column in values:
            sample["value"] = values[column]
        elif values:
            sample["value"] = values
        samples.append(sample)
    samples.sort(
        key=lambda s: (
            s.get("file") not in first_files,
            str(s.get("file") or ""),
            s.get("row") or 0,
        )
    )
    # expect_column_distinct_values_to_contain_set: the values that never occur.
    for value in result.get("partial_missing_list") or []:
        samples.append(
            {"file": value, "value": value} if column == "_source_file" else {"value": value}
        )
    return samples[:SAMPLE_SIZE]


def _domain_columns(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns an expectation checks, as GX lists them with an unexpected row."""
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_A"):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def _column(kwargs: Mapping[str, Any]) -> str | None:
    return ", ".join(_domain_columns(kwargs)) or None


def _header(
    suite: Mapping[str, Any], kwargs: Mapping[str, Any], meta: Mapping[str, Any], column: str | None
) -> str | None:
    headers = suite.get("meta", {}).get("headers", {})
    columns = kwargs.get("column_list")
    return meta.get("header") or (
        ", ".join(headers.get(c, c) for c in columns)
        if columns
        else headers.get(column or "", column)
    )


def _outcome(gx_result: Any, suite: Mapping[str, Any], first_files: set[str]) -> Outcome:
    config = gx_result.expectation_config
    kwargs = dict(config.kwargs)
    column = _column(kwargs)
    meta = dict(config.meta or {})
    header = _header(suite, kwargs, meta, column)
    result = dict(gx_result.result or {})
    exception = (gx_result.exception_info or {}).get("exception_message")
    description = config.description or meta.get("description") or config.type
    if exception:
        description += f" (GX error: {exception.splitlines()[0]})"
    samples = [] if gx_result.success else _samples(result, kwargs.get("column"), first_files)
    observed = result.get("observed_value")
    if not gx_result.success and "details" in result:
        observed = result["details"]
    return Outcome(
        expectation=config.type,
        column=column,
        header=header,
        severity=str(getattr(config.severity, "value", config.severity)),
        success=bool(gx_result.success),
        description=description,
        order=int(meta.get("order", 0)),
        unexpected_count=_plain(result.get("unexpected_count")),
        element_count=_plain(result.get("element_count")),
        observed=_plain(observed),
        samples=samples,
        description_da=meta.get("description_da"),
    )


# --- table scope: cross-file rules in SQL ----------------------------------------------------
#
# An expectation with `meta.scope: "table"` holds for a raw table as a whole, not row by row
# within the files being loaded: keys unique across files (incident ids across years),
# references to raw.areas/raw.departments (which may change while a source's files do not),
# row counts, values computed across years. It runs in DuckDB over the rows raw.<name> holds
# after the swap (the kept rows in raw plus the incoming rows), and reports the offending
# rows' _source_file/_source_row in the same Outcome as a GX result.

# In-set rules on a key derived from raw columns: the key is derived in Python, as the row
# rules derive it, but only for the distinct values of those columns.
Derive = Callable[["pd.DataFrame"], "pd.Series"]


def _department_key_of(org: str, number: str) -> tuple[tuple[str, ...], Derive]:
    return (org, number), lambda d: _department_key(d[org], d[number])


_OMRAADE_KEY: tuple[tuple[str, ...], Derive] = (
    ("omraade",),
    lambda d: d["omraade"].map(_name_key, na_action="ignore"),
)
TABLE_KEYS: dict[str, dict[str, tuple[tuple[str, ...], Derive]]] = {
    "area_statistics": {"_department_key": _department_key_of("boligorganisation", "afdeling")},
    "vandalism_ledger": {"_department_key": _department_key_of("selskab", "afdeling")},
    "police_incidents": {"_omraade_key": _OMRAADE_KEY},
    "tryghedsindeks": {"_omraade_key": _OMRAADE_KEY},
    "official_list": {"_omraade_key": _OMRAADE_KEY},
}

# Values computed across files, as SQL over `rows`: _source_file, _source_row, value.
TABLE_VALUES: dict[tuple[str, str], str] = {
    # Residents (BEF) relative to the department's previous year (the previous year's file).
    ("area_statistics", "_residents_change"): """
        select b._source_file, b._source_row, b.indhold / p.previous - 1 as value
        from rows b
        join (
            select boligorganisation, afdeling, tid + 1 as tid, min(indhold) as previous
            from rows where maal = 'BEF' group by all
        ) p using (boligorganisation, afdeling, tid)
        where b.maal = 'BEF' and p.previous > 0
    """,
}


def _sql_type(duckdb_type: str) -> str:
    """Dates and decimals as the readers give them: ISO and plain decimal text."""
    return "VARCHAR" if duckdb_type.upper().startswith(("DATE", "DECIMAL")) else duckdb_type


def _select(spec: SourceSpec, relation: str, columns: Sequence[str] | None, cast: str) -> str:
    """`relation`'s contract and lineage columns in the validation's types (null if absent)."""
    present = set(columns) if columns is not None else None
    items = [
        *((n, _sql_type(t)) for n, t in spec.columns),
        ("_source_file", "VARCHAR"),
        ("_source_row", "INTEGER"),
    ]
    return ", ".join(
        f'{cast}("{n}" as {t}) as "{n}"'
        if present is None or n in present
        else f'cast(null as {t}) as "{n}"'
        for n, t in items
    )


@contextlib.contextmanager
def _frame_rows(spec: SourceSpec, con: duckdb.DuckDBPyConnection, frame: pd.DataFrame):
    """The SQL of `frame`'s rows in the validation's types, registered on `con` meanwhile."""
    con.register("_validation_frame", frame)
    try:
        select = _select(spec, "_validation_frame", list(frame.columns), "try_cast")
        yield f"select {select} from _validation_frame"
    finally:
        con.unregister("_validation_frame")


def _is_reference_rule(expectation: Mapping[str, Any]) -> bool:
    """An in-set rule whose set comes from other raw tables (areas, departments)."""
    values = expectation["kwargs"].get("value_set")
    return isinstance(values, Mapping) and values.get("$PARAMETER") != "delivered_files"


def _table_outcomes(
    name: str,
    con: duckdb.DuckDBPyConnection,
    rows_sql: str,
    parameters: Mapping[str, Any],
    first_files: set[str],
    only: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[Outcome]:
    suite = load_suite(name)
    chosen = [
        (order, e)
        for order, e in enumerate(suite["expectations"])
        if is_table_scope(e) and (only is None or only(e))
    ]
    if not chosen:
        return []
    cte = f"with rows as ({rows_sql})"
    [(total,)] = con.execute(f"{cte} select count(*) from rows").fetchall()
    first = sorted(first_files)
    return [
        _table_outcome(name, suite, order, e, con, cte, total, parameters, first)
        for order, e in chosen
    ]


def _table_outcome(
    name: str,
    suite: Mapping[str, Any],
    order: int,
    expectation: Mapping[str, Any],
    con: duckdb.DuckDBPyConnection,
    cte: str,
    total: int,
    parameters: Mapping[str, Any],
    first_files: list[str],
) -> Outcome:
    kind, kwargs = expectation["type"], expectation["kwargs"]
    column = _column(kwargs)
    outcome = Outcome(
        expectation=kind,
        column=column,
        header=_header(suite, kwargs, expectation.get("meta", {}), column),
        severity=expectation.get("severity", ERROR),
        success=True,
        description=expectation.get("description") or kind,
        order=order,
        element_count=total,
        description_da=expectation.get("meta", {}).get("description_da"),
    )
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if kind == "expect_table_row_count_to_be_between":
        outcome.observed = total
        outcome.success = (low is None or total >= low) and (high is None or total <= high)
        return outcome
    if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        columns = list(kwargs.get("column_list") or [kwargs["column"]])
        keys = ", ".join(f'"{c}"' for c in columns)
        bad = (
            f"select _source_file, _source_row, {keys} from rows semi join ("
            f"select {keys} from rows group by all having count(*) > 1) using ({keys})"
        )
        return _with_failures(outcome, con, cte, bad, columns, first_files)
    if kind == "expect_column_distinct_values_to_contain_set":
        present = {
            v for (v,) in con.execute(f'{cte} select distinct "{column}" from rows').fetchall()
        }
        missing = [v for v in _values(kwargs, parameters) if v not in present]
        outcome.success = not missing
        outcome.samples = [
            {"file": v, "value": v} if column == "_source_file" else {"value": v}
            for v in missing[:SAMPLE_SIZE]
        ]
        return outcome
    if kind == "expect_column_values_to_be_in_set":
        values = _values(kwargs, parameters)
        bases, derive = TABLE_KEYS.get(name, {}).get(column, ((column,), lambda d: d[column]))
        keys = ", ".join(f'"{c}"' for c in bases)
        distinct = con.execute(f"{cte} select distinct {keys} from rows").df()
        derived = derive(distinct)
        unknown = distinct.assign(value=derived.astype(object).to_numpy())[
            derived.notna().to_numpy() & ~derived.isin(set(values)).to_numpy()
        ]
        if unknown.empty:
            return outcome
        con.register("_validation_unknown", unknown)
        # A key of one column is shown as the file has it (a name's key is casefolded).
        shown = f'r."{bases[0]}"' if len(bases) == 1 else "u.value"
        try:
            bad = (
                f"select r._source_file, r._source_row, {shown} from rows r "
                f"join _validation_unknown u using ({keys})"
            )
            return _with_failures(outcome, con, cte, bad, ["value"], first_files)
        finally:
            con.unregister("_validation_unknown")
    if kind == "expect_column_values_to_be_between" and (name, column) in TABLE_VALUES:
        limits = [f"value < {low}"] * (low is not None) + [f"value > {high}"] * (high is not None)
        bad = (
            f"select * from ({TABLE_VALUES[name, column]}) "
            f"where value is not null and ({' or '.join(limits)})"
        )
        return _with_failures(outcome, con, cte, bad, ["value"], first_files)
    raise ValueError(f"{name}: no table-scope check for {kind} on {column}")


def _values(kwargs: Mapping[str, Any], parameters: Mapping[str, Any]) -> list[Any]:
    values = kwargs["value_set"]
    return parameters[values["$PARAMETER"]] if isinstance(values, Mapping) else values


def _with_failures(
    outcome: Outcome,
    con: duckdb.DuckDBPyConnection,
    cte: str,
    bad: str,
    value_columns: Sequence[str],
    first_files: list[str],
) -> Outcome:
    """The offending rows' count and the first SAMPLE_SIZE of them (new files first)."""
    found = con.execute(
        f"{cte}, bad as ({bad}) select count(*) over (), * from bad "
        "order by not list_contains(?, _source_file), _source_file, _source_row "
        f"limit {SAMPLE_SIZE}",
        [first_files],
    ).fetchall()
    if not found:
        return outcome
    outcome.success = False
    outcome.unexpected_count = found[0][0]
    for _, file, row, *values in found:
        value = (
            values[0]
            if list(value_columns) in (["value"], [outcome.column])
            else dict(zip(value_columns, values, strict=True))
        )
        outcome.samples.append({"file": file, "row": _plain(row), "value": _plain(value)})
    return outcome


# --- validating ------------------------------------------------------------------------------


def _numpy_numbers(frame: pd.DataFrame) -> None:
    """Nullable number columns as numpy's where numpy can hold them: GX checks ranges on numpy
    columns vectorised, on pandas' nullable ones row by row in Python (4 s on 5M lines). A
    float column's missing values become NaN, which GX counts as missing all the same; an
    integer column with a missing value stays nullable."""
    import numpy as np
    import pandas as pd

    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.Float64Dtype):
            frame[column] = frame[column].to_numpy("float64", na_value=np.nan)
        elif isinstance(dtype, pd.Int64Dtype) and not frame[column].hasnans:
            frame[column] = frame[column].to_numpy("int64")


# Per expectation, the first unexpected values and their positions in the frame: GX's SUMMARY.
# The counts are exact; COMPLETE would list every unexpected row, and GX keeps each run's
# result. The positions get their file and line afterwards (`_with_lineage`): given
# `unexpected_index_column_names`, GX looks both up for every unexpected row, one by one in
# Python (10 s for a 16 MiB chunk of ledger lines that all fail a rule, 0.4 s when none does).
RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 2 * SAMPLE_SIZE,
    "return_unexpected_index_query": False,  # a pandas query string of every unexpected row
}


# Keys compared case-insensitively, shown as the file has them (the column they are made of).
SHOWN_AS = {"_area_name_key": "area_name", "_omraade_key": "omraade"}


def _with_lineage(gx_result: Any, frame: pd.DataFrame) -> None:
    """Each of GX's partial unexpected positions in `frame` (a RangeIndex) as the row GX would
    give with `unexpected_index_column_names`: the checked values (a key as the file has it:
    `SHOWN_AS`), `_source_file`, `_source_row`."""
    result = gx_result.result or {}
    positions = result.get("partial_unexpected_index_list")
    if not positions:
        return
    columns = [
        c
        for c in [*_domain_columns(gx_result.expectation_config.kwargs), *LINEAGE_INDEX]
        if c in frame.columns
    ]
    shown = {c: SHOWN_AS[c] if SHOWN_AS.get(c) in frame.columns else c for c in columns}
    rows = frame.iloc[list(positions)][list(dict.fromkeys(shown.values()))]
    result["partial_unexpected_index_list"] = [
        {c: _plain(row[shown[c]]) for c in shown} for row in rows.to_dict("records")
    ]


def _validation_definition(name: str):
    """The GX ValidationDefinition of the source's row rules on a DataFrame. Its run builds
    the batch once, where `batch.validate` after `get_batch` builds it twice, and GX
    fingerprints every DataFrame it makes a batch of: 0.08 s a 16 MiB chunk of ledger
    exports, as long as half of the rules."""
    import great_expectations as gx

    context = _context()
    suite = context.suites.add_or_update(gx_suite(load_suite(name), rows_only=True))
    definition = gx.ValidationDefinition(name=name, data=_batch_definition(name), suite=suite)
    return context.validation_definitions.add_or_update(definition)


def _validate_rows(
    definition: Any,
    frame: pd.DataFrame,
    parameters: Mapping[str, Any],
    reference: Reference,
    first_files: set[str],
) -> tuple[Any, list[Outcome]]:
    """GX on `frame` with the suite's row-scope expectations (`_validation_definition`)."""
    name = definition.suite.name
    suite = load_suite(name)
    frame = frame.copy(deep=False)  # the derived columns are added to the copy only
    frame.index = range(len(frame))  # GX's unexpected indices are then positions
    if name in DERIVED:
        frame = DERIVED[name](frame, reference)
    for column in LINEAGE_INDEX:
        if column not in frame.columns:
            frame[column] = None
    _numpy_numbers(frame)
    # Only the parameters the row rules use: GX copies them into every expectation's result.
    used = {
        e["kwargs"]["value_set"]["$PARAMETER"]
        for e in suite["expectations"]
        if not is_table_scope(e) and isinstance(e["kwargs"].get("value_set"), Mapping)
    }
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=_plain({k: v for k, v in parameters.items() if k in used}),
        result_format=RESULT_FORMAT,
    )
    for gx_result in result.results:
        _with_lineage(gx_result, frame)
    return result, [_outcome(r, suite, first_files) for r in result.results]


def validate_frame(
    name: str,
    frame: pd.DataFrame,
    parameters: Mapping[str, Any] | None = None,
    *,
    reference: Reference | None = None,
    run_id: str | None = None,
    results_dir: Path | None = None,
    first_files: set[str] = frozenset(),
) -> ValidationReport:
    """Validate `frame` (all of a table's rows) against expectations/<name>.json: the row
    rules with GX, the table-scope rules in SQL over the frame; keep the GX result as JSON.

    Samples from `first_files` (the new or changed files) are listed first: a key that is now
    duplicated is reported where the new row is, not where the old one was."""
    started = time.perf_counter()
    reference = reference or Reference()
    parameters = {**reference.parameters(), **(parameters or {})}
    definition = _validation_definition(name)
    result, outcomes = _validate_rows(definition, frame, parameters, reference, first_files)
    table: list[Outcome] = []
    spec = SOURCES_BY_NAME[name]
    if any(is_table_scope(e) for e in load_suite(name)["expectations"]):
        with connect() as con, _frame_rows(spec, con, frame) as rows:
            table = _table_outcomes(name, con, rows, parameters, set(first_files))
    report = ValidationReport(name, outcomes + table, len(frame), time.perf_counter() - started)
    if run_id:
        files = sorted(frame["_source_file"].dropna().unique()) if "_source_file" in frame else []
        report.result_path = save_result(
            result.to_json_dict(), name, run_id, results_dir or results_root(), table, files
        )
    return report


def save_result(
    document: dict[str, Any],
    name: str,
    run_id: str,
    root: Path,
    table: Sequence[Outcome] = (),
    files: Sequence[str] = (),
) -> Path:
    """Write the GX validation result (its own JSON form, `to_json_dict()`) to
    <root>/<run_id>/<name>.json; the table-scope outcomes go in its meta (`table_scope`) and
    count in its `success`; `files` (the delivery's files whose rows GX validated) in its meta
    (`files`)."""
    path = root / run_id / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document.setdefault("meta", {})["run_id"] = run_id
    document["meta"]["files"] = list(files)
    document["meta"]["validated_at"] = datetime.now(UTC).isoformat()
    if table:
        document["meta"]["table_scope"] = [o.to_json() for o in table]
        document["success"] = bool(document.get("success")) and all(
            o.success for o in table if o.severity == ERROR
        )
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(_plain(document), ensure_ascii=False, indent=1), "utf-8")
    temporary.replace(path)
    return path


class ValidationFailed(Exception):
    """Error-level expectations failed: the load is rejected (its transaction rolled back)."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(f"{report.suite}: {report.message(ERROR)}")
        self.report = report


class RawValidation:
    """Validates a load (the `Validator` of `boligsocial.loading.warehouse.ingest`), per file:

    - row rules (types, value sets, ranges, formats, per-file keys and consistency) with GX on
      the rows of the new or changed files only, a chunk at a time (the kept files' rows passed
      them when they were loaded and have not changed: same content hash); the chunks'
      results are merged into one;
    - table-scope rules (`meta.scope: "table"`) in SQL over raw.<name> as the load would
      commit it (kept rows and every chunk, inside the load's transaction);
    - no new, changed or removed file: no GX and no transaction; only the reference rules run
      (in SQL), since raw.areas/raw.departments may have changed since the files were loaded.

    The report goes to `reports` when the table rules have run; error-level failures then
    raise ValidationFailed, which rolls the load back."""

    def __init__(
        self, spec: SourceSpec, reports: list[ValidationReport], run_id: str | None = None
    ) -> None:
        self.spec, self.reports, self.run_id = spec, reports, run_id
        self.seconds = 0.0
        self.rows_validated = 0
        self.outcomes: dict[int, Outcome] = {}
        self.result: dict[str, Any] | None = None  # the GX result, as JSON, of all chunks
        self._reference: tuple[Reference, dict[str, Any]] | None = None
        self._definition: Any = None  # the GX ValidationDefinition, made for the first chunk

    def _parameters(self, incoming: Incoming) -> tuple[Reference, dict[str, Any]]:
        if self._reference is None:
            reference = Reference.from_warehouse(incoming.con)
            parameters = {**reference.parameters(), "delivered_files": incoming.files}
            self._reference = reference, parameters
        return self._reference

    def rows(self, incoming: Incoming, rows: pd.DataFrame) -> None:
        started = time.perf_counter()
        reference, parameters = self._parameters(incoming)
        first_files = set(incoming.loaded_files)
        if self._definition is None:
            self._definition = _validation_definition(self.spec.name)
        result, outcomes = _validate_rows(
            self._definition, rows, parameters, reference, first_files
        )
        self.result = _merged_result(self.result, result.to_json_dict())
        for outcome in outcomes:
            order = outcome.order
            self.outcomes[order] = _merged_outcome(self.outcomes.get(order), outcome)
        self.rows_validated += len(rows)
        self.seconds += time.perf_counter() - started

    def table(self, incoming: Incoming) -> None:
        started = time.perf_counter()
        _, parameters = self._parameters(incoming)
        columns = _select(self.spec, self.spec.table, None, "cast")
        rows_sql = f"select {columns} from {self.spec.table}"
        table = _table_outcomes(
            self.spec.name,
            incoming.con,
            rows_sql,
            parameters,
            set(incoming.loaded_files),
            only=None if incoming.changed else _is_reference_rule,
        )
        self.seconds += time.perf_counter() - started
        report = ValidationReport(
            self.spec.name, [*self.outcomes.values(), *table], self.rows_validated, self.seconds
        )
        report.scope = (
            f"per file: GX on the {self.rows_validated} rows of {len(incoming.loaded_files)} new "
            f"or changed file(s) ({len(incoming.removed_files)} removed); table-scope rules in "
            "SQL over all rows after the swap"
            if incoming.changed
            else f"nothing changed: all {len(incoming.files)} file(s) were validated at load "
            "(same content hash); reference rules re-checked in SQL"
        )
        if self.run_id and self.result is not None:
            report.result_path = save_result(
                self.result,
                self.spec.name,
                self.run_id,
                results_root(),
                table,
                incoming.loaded_files,
            )
        self.reports.append(report)
        if not report.passed:
            raise ValidationFailed(report)


# Counts a GX result holds per expectation, summed over chunks; lists, concatenated up to a cap.
_RESULT_COUNTS = ("element_count", "unexpected_count", "missing_count")
_RESULT_LISTS = ("partial_unexpected_list", "partial_unexpected_index_list")
_RESULT_LIST_CAP = 1000


def _merged_result(merged: dict[str, Any] | None, chunk: dict[str, Any]) -> dict[str, Any]:
    """One GX validation result (JSON) for a load validated a chunk at a time: per expectation
    (the same suite, so the same order) success if every chunk's, counts summed, percentages
    from the sums, lists of unexpected values concatenated (at most _RESULT_LIST_CAP)."""
    if merged is None:
        return chunk
    for whole, part in zip(merged["results"], chunk["results"], strict=True):
        whole["success"] = bool(whole["success"]) and bool(part["success"])
        total, more = whole.get("result") or {}, part.get("result") or {}
        for key in _RESULT_COUNTS:
            if isinstance(total.get(key), int) and isinstance(more.get(key), int):
                total[key] += more[key]
        for key in _RESULT_LISTS:
            if isinstance(total.get(key), list) and isinstance(more.get(key), list):
                total[key] = (total[key] + more[key])[:_RESULT_LIST_CAP]
        if isinstance(total.get("partial_unexpected_counts"), list) and isinstance(
            more.get("partial_unexpected_counts"), list
        ):
            total["partial_unexpected_counts"] = _merged_counts(
                total["partial_unexpected_counts"], more["partial_unexpected_counts"]
            )
        elements, missing = total.get("element_count"), total.get("missing_count") or 0
        if isinstance(elements, int) and isinstance(total.get("unexpected_count"), int):
            unexpected = total["unexpected_count"]
            if "unexpected_percent" in total:
                present = elements - missing
                total["unexpected_percent"] = 100 * unexpected / present if present else None
            if "unexpected_percent_total" in total:
                total["unexpected_percent_total"] = (
                    100 * unexpected / elements if elements else None
                )
            if "missing_percent" in total:
                total["missing_percent"] = 100 * missing / elements if elements else None
        whole["result"] = total
    successes = sum(bool(r["success"]) for r in merged["results"])
    evaluated = len(merged["results"])
    merged["success"] = successes == evaluated
    merged["statistics"] = {
        **merged.get("statistics", {}),
        "evaluated_expectations": evaluated,
        "successful_expectations": successes,
        "unsuccessful_expectations": evaluated - successes,
        "success_percent": 100 * successes / evaluated if evaluated else None,
    }
    return merged


def _merged_counts(whole: list[dict], part: list[dict]) -> list[dict]:
    """GX's `partial_unexpected_counts` of two chunks as one: a value's counts summed, most
    frequent first."""
    counts: dict[str, dict] = {}
    for item in [*whole, *part]:
        key = json.dumps(_plain(item.get("value")), sort_keys=True)
        entry = counts.setdefault(key, {"value": item.get("value"), "count": 0})
        entry["count"] += item.get("count") or 0
    merged = sorted(counts.values(), key=lambda entry: -entry["count"])
    return merged[:_RESULT_LIST_CAP]


def _merged_outcome(whole: Outcome | None, part: Outcome) -> Outcome:
    """One expectation's outcome over the chunks so far: failed if any chunk failed, counts
    summed, the first SAMPLE_SIZE samples in file and row order."""
    if whole is None:
        return part
    if not part.success:
        whole.success = False
        whole.observed = whole.observed if whole.observed is not None else part.observed
    for name in ("unexpected_count", "element_count"):
        if getattr(part, name) is not None:
            setattr(whole, name, (getattr(whole, name) or 0) + getattr(part, name))
    samples = whole.samples + part.samples
    samples.sort(key=lambda s: (str(s.get("file") or ""), s.get("row") or 0))
    whole.samples = samples[:SAMPLE_SIZE]
    return whole


def raw_validator(
    spec: SourceSpec, reports: list[ValidationReport], *, run_id: str | None = None
) -> RawValidation:
    """The ingest's validator: keeps its report in `reports`, raises on error-level failures."""
    return RawValidation(spec, reports, run_id)
