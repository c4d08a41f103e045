"""Great Expectations validation of raw rows (pure: no Dagster imports): the ingest's validator.

A chunk of rows is validated as one whole-dataframe batch of an ephemeral pandas datasource, by
a ValidationDefinition, with result format SUMMARY; the first unexpected rows it lists get their
lineage columns `_source_file`/`_source_row` (`_with_lineage`), so every failure names the file
and the row. Rules a plain expectation cannot express are turned into derived helper columns
first (the catalog's `derive`, beside each source's reader), and facts from other tables (the
known departments and areas, the delivered files) come in as suite parameters. The suites are
`validation.suites`, the table-scope rules `validation.table_rules`, the chunks' merge
`validation.merge`, the outcome `validation.report`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boligsocial.configuration import settings
from boligsocial.loading.warehouse import Incoming
from boligsocial.sources.catalog import SOURCES_BY_NAME, SourceSpec
from boligsocial.validation.merge import merged_outcome, merged_result
from boligsocial.validation.reference import Reference
from boligsocial.validation.report import (
    LINEAGE_INDEX,
    SAMPLE_SIZE,
    Outcome,
    ValidationReport,
    domain_columns,
    outcome_of,
    plain,
)
from boligsocial.validation.suites import (
    ERROR,
    batch_definition,
    gx_context,
    gx_suite,
    is_table_scope,
    load_suite,
)
from boligsocial.validation.table_rules import (
    is_reference_rule,
    rows_sql,
    table_outcomes,
)

if TYPE_CHECKING:
    import pandas as pd


def results_root() -> Path:
    """Where each run's validation results go: BOLIGSOCIAL_GX_RESULTS or the home's."""
    return settings.gx_results_dir()


def _numpy_numbers(frame: pd.DataFrame) -> None:
    """Nullable number columns as numpy's where numpy can hold them: GX checks ranges on numpy
    columns vectorised, on pandas' nullable ones row by row in Python. A
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
# Python, so a chunk whose every line fails a rule would cost many times one that passes.
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
        for c in [*domain_columns(gx_result.expectation_config.kwargs), *LINEAGE_INDEX]
        if c in frame.columns
    ]
    shown = {c: SHOWN_AS[c] if SHOWN_AS.get(c) in frame.columns else c for c in columns}
    rows = frame.iloc[list(positions)][list(dict.fromkeys(shown.values()))]
    result["partial_unexpected_index_list"] = [
        {c: plain(row[shown[c]]) for c in shown} for row in rows.to_dict("records")
    ]


def _validation_definition(name: str):
    """The GX ValidationDefinition of the source's row rules on a DataFrame. Its run builds
    the batch once, where `batch.validate` after `get_batch` builds it twice, and GX
    fingerprints every DataFrame it makes a batch of, which costs as much as many rules."""
    import great_expectations as gx

    context = gx_context()
    suite = context.suites.add_or_update(gx_suite(load_suite(name), rows_only=True))
    definition = gx.ValidationDefinition(name=name, data=batch_definition(name), suite=suite)
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
    frame = SOURCES_BY_NAME[name].derive_columns(frame, reference)
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
        expectation_parameters=plain({k: v for k, v in parameters.items() if k in used}),
        result_format=RESULT_FORMAT,
    )
    for gx_result in result.results:
        _with_lineage(gx_result, frame)
    return result, [outcome_of(r, suite, first_files) for r in result.results]


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
    temporary.write_text(json.dumps(plain(document), ensure_ascii=False, indent=1), "utf-8")
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
        self.result = merged_result(self.result, result.to_json_dict())
        for outcome in outcomes:
            order = outcome.order
            self.outcomes[order] = merged_outcome(self.outcomes.get(order), outcome)
        self.rows_validated += len(rows)
        self.seconds += time.perf_counter() - started

    def table(self, incoming: Incoming) -> None:
        started = time.perf_counter()
        _, parameters = self._parameters(incoming)
        table = table_outcomes(
            self.spec.name,
            incoming.con,
            rows_sql(self.spec),
            parameters,
            set(incoming.loaded_files),
            only=None if incoming.changed else is_reference_rule,
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


def raw_validator(
    spec: SourceSpec, reports: list[ValidationReport], *, run_id: str | None = None
) -> RawValidation:
    """The ingest's validator: keeps its report in `reports`, raises on error-level failures."""
    return RawValidation(spec, reports, run_id)
