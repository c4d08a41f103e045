"""What the raw sources' rules look up: the warehouse's areas and departments, handed to the
suites as parameters (`{"$PARAMETER": ...}`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import duckdb

from boligsocial.sources.derived import department_key, name_key

if TYPE_CHECKING:
    import pandas as pd


# Benchmark rows of tryghedsindeks that are not areas (compared case-insensitively).
SAFETY_BENCHMARK_ROWS = ("hele landet", "alle udsatte områder")


SHARED_AREA = "FÆLLES"  # efforts shared by all areas


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
        area_names = sorted({name_key(n) for n in self.areas["area_name"].dropna()})
        keys = self.departments[["housing_org", "department_no"]].dropna()
        return {
            "area_ids": area_ids,
            "area_ids_or_shared": [*area_ids, SHARED_AREA],
            "area_names": area_names,
            "area_names_or_benchmarks": [*area_names, *SAFETY_BENCHMARK_ROWS],
            "department_keys": sorted(set(department_key(keys.iloc[:, 0], keys.iloc[:, 1]))),
        }
