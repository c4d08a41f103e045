"""Great Expectations validation of raw rows and marts (pure: no Dagster imports).

Suites are GX Core 1.x JSON files, `expectations/<name>.json`, one per raw table and one per
mart. A DataFrame is validated as one whole-dataframe batch of an ephemeral pandas datasource,
with result format COMPLETE and the lineage columns `_source_file`/`_source_row` as the
unexpected-index columns, so every failure names the file and the row. Rules a plain
expectation cannot express are turned into derived helper columns first (`_department_key`,
`_missing_maal`, `_dato_year` ...), and facts from other tables (the known departments and
areas, the delivered files) come in as suite parameters (`{"$PARAMETER": ...}`).

`great_expectations` takes ~10 s to import, so it is imported inside the functions that need
it: the Dagster code location imports this module without paying for it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from orchestration import settings
from orchestration.warehouse import Incoming
from sources.catalog import SourceSpec

ERROR = "critical"  # GX severity of the blocking expectations
WARNING = "warning"
LINEAGE_INDEX = ("_source_file", "_source_row")
SAMPLE_SIZE = 10
# Benchmark rows of tryghedsindeks that are not areas (compared case-insensitively).
SAFETY_BENCHMARK_ROWS = ("hele landet", "alle udsatte områder")
SHARED_AREA = "FÆLLES"  # efforts shared by all areas
ALL_AREAS = "ALLE"  # the all-areas row of allocation_8020


def results_root() -> Path:
    """Where each run's validation results go: BOLIGSOCIAL_GX_RESULTS or ./gx_results."""
    value = os.environ.get("BOLIGSOCIAL_GX_RESULTS", "").strip()
    return Path(value).expanduser().resolve() if value else settings.PROJECT_ROOT / "gx_results"


DATA_DOCS_DIR = settings.PROJECT_ROOT / "build" / "gx_data_docs"


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


def _gx_suite(suite: Mapping[str, Any]):
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    gx_suite = gx.ExpectationSuite(name=suite["name"], meta=dict(suite.get("meta", {})))
    for order, expectation in enumerate(suite["expectations"]):
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


def _batch_definition():
    context = _context()
    try:
        source = context.data_sources.get("frames")
    except (KeyError, ValueError):
        source = context.data_sources.add_pandas("frames")
    try:
        asset = source.get_asset("frame")
    except LookupError:
        asset = source.add_dataframe_asset("frame")
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


# --- derived helper columns ------------------------------------------------------------------


AREA_COLUMNS = ["area_id", "area_name"]
DEPARTMENT_COLUMNS = ["housing_org", "department_no", "area_id", "valid_from", "valid_to"]


@dataclass(frozen=True)
class Reference:
    """What the raw sources are checked against: the warehouse's areas and departments."""

    areas: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AREA_COLUMNS))
    departments: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DEPARTMENT_COLUMNS)
    )

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
            else pd.DataFrame(columns=AREA_COLUMNS)
        )
        departments = (
            con.execute(f"select {', '.join(DEPARTMENT_COLUMNS)} from raw.departments").df()
            if "departments" in tables
            else pd.DataFrame(columns=DEPARTMENT_COLUMNS)
        )
        return cls(areas=areas, departments=departments)

    def parameters(self) -> dict[str, list[str]]:
        area_ids = sorted(self.areas["area_id"].dropna().astype(str))
        area_names = sorted({_name_key(n) for n in self.areas["area_name"].dropna()})
        keys = self.departments[["housing_org", "department_no"]].dropna()
        return {
            "area_ids": area_ids,
            "area_ids_or_shared": [*area_ids, SHARED_AREA],
            "area_ids_or_all": [*area_ids, ALL_AREAS],
            "area_names": area_names,
            "area_names_or_benchmarks": [*area_names, *SAFETY_BENCHMARK_ROWS],
            "department_keys": sorted(set(_department_key(keys.iloc[:, 0], keys.iloc[:, 1]))),
        }


def _name_key(value: str) -> str:
    return " ".join(str(value).split()).casefold()


def _department_key(org: pd.Series, number: pd.Series) -> pd.Series:
    number = pd.to_numeric(number, errors="coerce").astype("Int64").astype(str)
    return (org.astype(str) + "/" + number).where(org.notna() & number.ne("<NA>"))


def _file_year(frame: pd.DataFrame) -> pd.Series:
    year = frame["_source_file"].astype(str).str.extract(r"_([0-9]{4})\.[A-Za-z]+$")[0]
    return pd.to_numeric(year, errors="coerce").astype("Int64")


def _iso_year(dates: pd.Series) -> pd.Series:
    return pd.to_numeric(dates.astype("string").str.slice(0, 4), errors="coerce").astype("Int64")


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
    frame["_file_year"] = _file_year(frame)
    if not _has(frame, "boligorganisation", "afdeling", "maal", "tid"):
        return frame
    frame["_department_key"] = _department_key(frame["boligorganisation"], frame["afdeling"])
    suite = load_suite("area_statistics")
    codes = suite["meta"]["maal_codes"]
    present = frame.groupby(["_department_key", "tid"], dropna=False)["maal"].agg(set)
    missing = present.map(lambda found: ", ".join(c for c in codes if c not in found) or None)
    frame["_missing_maal"] = [
        missing.get((k, t)) for k, t in zip(frame["_department_key"], frame["tid"], strict=True)
    ]
    if _has(frame, "indhold"):
        residents = frame.loc[frame["maal"] == "BEF", ["_department_key", "tid", "indhold"]]
        previous = (
            residents.assign(tid=residents["tid"] + 1)
            .rename(columns={"indhold": "_previous"})
            .drop_duplicates(["_department_key", "tid"])  # duplicates fail the key check
        )
        joined = frame[["_department_key", "tid"]].merge(
            previous, on=["_department_key", "tid"], how="left"
        )
        change = (
            frame["indhold"].to_numpy(dtype=float, na_value=math.nan)
            / joined["_previous"].to_numpy(dtype=float, na_value=math.nan)
        ) - 1
        frame["_residents_change"] = pd.Series(change, index=frame.index).where(
            (frame["maal"] == "BEF") & (joined["_previous"].to_numpy(na_value=0) > 0)
        )
    return frame


def _derive_benchmarks(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "niveau", "kode"):
        frame["_niveau_kode"] = frame["niveau"].astype(str) + ":" + frame["kode"].astype(str)
    return frame


def _derive_tryghedsindeks(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "omraade"):
        frame["_omraade_key"] = frame["omraade"].map(_name_key, na_action="ignore")
    return frame


def _derive_police_incidents(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    frame["_file_year"] = _file_year(frame)
    if _has(frame, "dato"):
        frame["_dato_year"] = _iso_year(frame["dato"])
    return _derive_tryghedsindeks(frame, reference)


_LEDGER_FILE = r"(?:^|/)([A-Za-z0-9]+)_([0-9]{4}-[0-9]{2})\.csv$"


def _derive_vandalism_ledger(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    parts = frame["_source_file"].astype(str).str.extract(_LEDGER_FILE)
    frame["_file_org"], frame["_file_period"] = parts[0], parts[1]
    if not _has(frame, "selskab", "afdeling", "dato"):
        return frame
    frame["_department_key"] = _department_key(frame["selskab"], frame["afdeling"])
    departments = reference.departments.assign(
        _department_key=_department_key(
            reference.departments["housing_org"], reference.departments["department_no"]
        ),
        valid_from=pd.to_datetime(reference.departments["valid_from"]),
        valid_to=pd.to_datetime(reference.departments["valid_to"]),
    )
    lines = pd.DataFrame(
        {
            "_line": range(len(frame)),
            "_department_key": frame["_department_key"].to_numpy(),
            "dato": pd.to_datetime(frame["dato"], errors="coerce").to_numpy(),
        }
    )
    matched = lines.merge(departments, on="_department_key", how="inner")
    valid = (matched["valid_from"] <= matched["dato"]) & (
        matched["valid_to"].isna() | (matched["dato"] <= matched["valid_to"])
    )
    in_area = pd.Series(False, index=range(len(frame)))
    in_area[matched.loc[valid, "_line"].unique()] = True
    # Known department without an area on the line's date: "<org>/<no> on <date>".
    outside = frame["_department_key"] + " on " + frame["dato"].astype("string")
    frame["_department_outside_area"] = outside.where(~in_area.to_numpy()).astype(object)
    return frame


def _derive_efforts(frame: pd.DataFrame, reference: Reference) -> pd.DataFrame:
    if _has(frame, "budget_kr"):
        frame["_budget_kr_amount"] = pd.to_numeric(frame["budget_kr"], errors="coerce")
    return frame


DERIVED: dict[str, Callable[[pd.DataFrame, Reference], pd.DataFrame]] = {
    "areas": _derive_areas,
    "departments": _derive_departments,
    "area_statistics": _derive_area_statistics,
    "benchmarks": _derive_benchmarks,
    "tryghedsindeks": _derive_tryghedsindeks,
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
    samples: list[dict[str, Any]] = field(default_factory=list)  # value, file, row (or keys)

    def summary(self) -> str:
        where = []
        if self.samples:
            first = self.samples[0]
            if first.get("file"):
                where.append(str(first["file"]))
            if first.get("row") is not None:
                where.append(f"row {first['row']}")
            where += [f"{k} {v}" for k, v in first.get("keys", {}).items()]
        if self.header:
            where.append(f"column {self.header}")
        text = f"{', '.join(where)}: {self.description}" if where else self.description
        if self.samples and "value" in self.samples[0]:
            text += f" (value {self.samples[0]['value']!r})"
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
        }


def _samples(
    result: Mapping[str, Any],
    column: str | None,
    index_columns: Sequence[str],
    first_files: set[str],
) -> list[dict[str, Any]]:
    samples = []
    for item in result.get("unexpected_index_list") or []:
        if not isinstance(item, Mapping):
            continue
        sample: dict[str, Any] = {}
        if list(index_columns) == list(LINEAGE_INDEX):
            sample["file"] = _plain(item.get("_source_file"))
            sample["row"] = _plain(item.get("_source_row"))
        else:
            sample["keys"] = {c: _plain(item.get(c)) for c in index_columns}
        values = {k: _plain(v) for k, v in item.items() if k not in index_columns}
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


def _outcome(
    gx_result: Any, suite: Mapping[str, Any], index_columns: Sequence[str], first_files: set[str]
) -> Outcome:
    config = gx_result.expectation_config
    kwargs = dict(config.kwargs)
    column = (
        kwargs.get("column")
        or ", ".join(
            kwargs.get("column_list")
            or [c for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c]
        )
        or None
    )
    meta = dict(config.meta or {})
    headers = suite.get("meta", {}).get("headers", {})
    columns = kwargs.get("column_list")
    header = meta.get("header") or (
        ", ".join(headers.get(c, c) for c in columns)
        if columns
        else headers.get(column or "", column)
    )
    result = dict(gx_result.result or {})
    exception = (gx_result.exception_info or {}).get("exception_message")
    description = config.description or meta.get("description") or config.type
    if exception:
        description += f" (GX error: {exception.splitlines()[0]})"
    samples = (
        []
        if gx_result.success
        else _samples(result, kwargs.get("column"), index_columns, first_files)
    )
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
    )


# --- validating ------------------------------------------------------------------------------


def validate_frame(
    name: str,
    frame: pd.DataFrame,
    parameters: Mapping[str, Any] | None = None,
    *,
    reference: Reference | None = None,
    index_columns: Sequence[str] = LINEAGE_INDEX,
    run_id: str | None = None,
    results_dir: Path | None = None,
    first_files: set[str] = frozenset(),
) -> ValidationReport:
    """Validate `frame` against expectations/<name>.json; keep the GX result as JSON.

    Samples from `first_files` (the new or changed files) are listed first: a key that is now
    duplicated is reported where the new row is, not where the old one was."""
    started = time.perf_counter()
    suite = load_suite(name)
    reference = reference or Reference()
    parameters = {**reference.parameters(), **(parameters or {})}
    frame = frame.copy()
    if name in DERIVED:
        frame = DERIVED[name](frame, reference)
    for column in index_columns:
        if column not in frame.columns:
            frame[column] = None
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(
        _gx_suite(suite),
        expectation_parameters=_plain(parameters),
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": list(index_columns),
        },
    )
    outcomes = [_outcome(r, suite, index_columns, first_files) for r in result.results]
    report = ValidationReport(name, outcomes, len(frame), time.perf_counter() - started)
    if run_id:
        report.result_path = save_result(result, name, run_id, results_dir or results_root())
    return report


def save_result(result: Any, name: str, run_id: str, root: Path) -> Path:
    """Write the GX validation result (its own JSON form) to <root>/<run_id>/<name>.json."""
    path = root / run_id / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = result.to_json_dict()
    document.setdefault("meta", {})["run_id"] = run_id
    document["meta"]["validated_at"] = datetime.now(UTC).isoformat()
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(_plain(document), ensure_ascii=False, indent=1), "utf-8")
    temporary.replace(path)
    return path


class ValidationFailed(Exception):
    """Error-level expectations failed: the load is rejected before the swap."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(f"{report.suite}: {report.message(ERROR)}")
        self.report = report


def validate_raw(
    spec: SourceSpec, incoming: Incoming, *, run_id: str | None = None
) -> ValidationReport:
    """Validate the rows raw.<name> would hold after the swap: the incoming files' rows plus
    the rows of the files kept as they are (so keys are unique across files and years)."""
    kept = _kept_rows(incoming.con, spec, incoming.kept_files)
    # An empty frame has object columns: concatenating it would lose the readers' dtypes.
    frames = [f for f in (incoming.rows, kept) if len(f)] or [incoming.rows]
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return validate_frame(
        spec.name,
        rows,
        {"delivered_files": incoming.files},
        reference=Reference.from_warehouse(incoming.con),
        run_id=run_id,
        first_files=set(incoming.files) - set(incoming.kept_files),
    )


def raw_validator(
    spec: SourceSpec, reports: list[ValidationReport], *, run_id: str | None = None
) -> Callable[[Incoming], None]:
    """The ingest hook: validate, keep the report in `reports`, raise on error-level failures."""

    def validate(incoming: Incoming) -> None:
        report = validate_raw(spec, incoming, run_id=run_id)
        reports.append(report)
        if not report.passed:
            raise ValidationFailed(report)

    return validate


_PANDAS_TYPES = {"INTEGER": "Int64", "DOUBLE": "Float64", "BOOLEAN": "boolean"}


def _kept_rows(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, files: Sequence[str]
) -> pd.DataFrame:
    """Rows already in raw, in the readers' types (dates and decimals as ISO/plain text)."""
    columns = spec.columns
    if not files:
        return pd.DataFrame()
    select = ", ".join(
        f'cast("{n}" as varchar) as "{n}"' if t.startswith(("DATE", "DECIMAL")) else f'"{n}"'
        for n, t in columns
    )
    frame = con.execute(
        f"select {select}, _source_row, _source_file from {spec.table} "
        "where _source_file in (select unnest(?))",
        [list(files)],
    ).df()
    for n, t in columns:
        frame[n] = frame[n].astype(_PANDAS_TYPES.get(t, object))
        if t not in _PANDAS_TYPES:
            frame[n] = frame[n].where(frame[n].notna(), None)
    frame["_source_row"] = frame["_source_row"].astype("Int64")
    return frame


# --- Data Docs -------------------------------------------------------------------------------


def build_data_docs(results: Path | None = None, site: Path = DATA_DOCS_DIR) -> Path:
    """Render every kept validation result (and every suite) as a static GX Data Docs site."""
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        expectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
    )
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    results = results or results_root()
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites={
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(site),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    for path in sorted(settings.EXPECTATIONS_DIR.glob("*.json")):
        context.suites.add(_gx_suite(json.loads(path.read_text(encoding="utf-8"))))
    for path in sorted(results.glob("*/*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        run_id = document.get("meta", {}).get("run_id", path.parent.name)
        validated_at = document.get("meta", {}).get("validated_at")
        run_time = datetime.fromisoformat(validated_at) if validated_at else None
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=path.stem),
            run_id=RunIdentifier(run_name=run_id, run_time=run_time),
            batch_identifier="frame",
        )
        context.validation_results_store.set(
            key, expectationSuiteValidationResultSchema.load(document)
        )
    context.build_data_docs()
    return site / "index.html"


def main() -> None:
    """uv run python -m orchestration.validation: build the Data Docs site."""
    print(build_data_docs())


if __name__ == "__main__":
    main()
