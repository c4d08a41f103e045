"""A validation's outcome in the terms an error message needs: per expectation the rule, the
column as the file's header names it, the count and the first offending rows (file, row,
value), from a GX result or from a table-scope rule."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boligsocial.sources import messages
from boligsocial.validation.suites import (
    ERROR,
    WARNING,
)

if TYPE_CHECKING:
    pass


LINEAGE_INDEX = ("_source_file", "_source_row")


SAMPLE_SIZE = 10


def plain(value: Any) -> Any:
    """A JSON-safe Python value (GX hands back numpy scalars and pandas NA)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
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
        # The rule's GX type is in the result and the Data Docs; the sentence is for people.
        if self.unexpected_count:
            text += "; " + messages.render("count_validated", "en", count=self.unexpected_count)
        return text

    def to_json(self) -> dict[str, Any]:
        return plain(self.__dict__)


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(plain(value), ensure_ascii=False)
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
            "file": plain(item.get("_source_file")),
            "row": plain(item.get("_source_row")),
        }
        values = {k: plain(v) for k, v in item.items() if k not in LINEAGE_INDEX}
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


def domain_columns(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns an expectation checks, as GX lists them with an unexpected row."""
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_A"):
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list") or [])


def column_of(kwargs: Mapping[str, Any]) -> str | None:
    return ", ".join(domain_columns(kwargs)) or None


def header_of(
    suite: Mapping[str, Any], kwargs: Mapping[str, Any], meta: Mapping[str, Any], column: str | None
) -> str | None:
    headers = suite.get("meta", {}).get("headers", {})
    columns = kwargs.get("column_list")
    return meta.get("header") or (
        ", ".join(headers.get(c, c) for c in columns)
        if columns
        else headers.get(column or "", column)
    )


def outcome_of(gx_result: Any, suite: Mapping[str, Any], first_files: set[str]) -> Outcome:
    config = gx_result.expectation_config
    kwargs = dict(config.kwargs)
    column = column_of(kwargs)
    meta = dict(config.meta or {})
    header = header_of(suite, kwargs, meta, column)
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
        unexpected_count=plain(result.get("unexpected_count")),
        element_count=plain(result.get("element_count")),
        observed=plain(observed),
        samples=samples,
        description_da=meta.get("description_da"),
    )
