"""The table-scope rules (`meta.scope: "table"`): the GX expectation types a rule over a whole
raw table uses, re-implemented in SQL over the rows raw holds after the swap, with outcomes
like a GX result's."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from boligsocial.sources.catalog import SourceSpec
from boligsocial.sources.derived import department_key, name_key
from boligsocial.validation.report import (
    SAMPLE_SIZE,
    Outcome,
    column_of,
    header_of,
    plain,
)
from boligsocial.validation.suites import (
    ERROR,
    is_table_scope,
    load_suite,
)

if TYPE_CHECKING:
    import pandas as pd


# In-set rules on a key derived from raw columns: the key is derived in Python, as the row
# rules derive it, but only for the distinct values of those columns.
Derive = Callable[["pd.DataFrame"], "pd.Series"]


def _department_key_of(org: str, number: str) -> tuple[tuple[str, ...], Derive]:
    return (org, number), lambda d: department_key(d[org], d[number])


_OMRAADE_KEY: tuple[tuple[str, ...], Derive] = (
    ("omraade",),
    lambda d: d["omraade"].map(name_key, na_action="ignore"),
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


def rows_sql(spec: SourceSpec) -> str:
    """raw.<name>'s contract and lineage columns in the validation's types."""
    items = [
        *((n, _sql_type(t)) for n, t in spec.columns),
        ("_source_file", "VARCHAR"),
        ("_source_row", "INTEGER"),
    ]
    columns = ", ".join(f'cast("{n}" as {t}) as "{n}"' for n, t in items)
    return f"select {columns} from {spec.table}"


def is_reference_rule(expectation: Mapping[str, Any]) -> bool:
    """An in-set rule whose set comes from other raw tables (areas, departments)."""
    values = expectation["kwargs"].get("value_set")
    return isinstance(values, Mapping) and values.get("$PARAMETER") != "delivered_files"


def table_outcomes(
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
    column = column_of(kwargs)
    outcome = Outcome(
        expectation=kind,
        column=column,
        header=header_of(suite, kwargs, expectation.get("meta", {}), column),
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
        outcome.samples.append({"file": file, "row": plain(row), "value": plain(value)})
    return outcome
