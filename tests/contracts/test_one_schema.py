"""The source catalog is the one declaration of each source's columns and types: the dbt
source yml and the GX suite of every source must agree with it, column by column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from boligsocial.configuration import settings
from boligsocial.sources.catalog import LINEAGE_COLUMNS, SOURCES, SourceSpec

# A catalog (DuckDB) type, as dbt's source yml and GX's pandas type check spell it. Dates and
# exact amounts reach GX as the reader's text (ISO dates, decimal strings).
TYPES = {
    "VARCHAR": ("text", "str"),
    "INTEGER": ("integer", "int64"),
    "DATE": ("date", "str"),
    "DOUBLE": ("double precision", "float64"),
    "BOOLEAN": ("boolean", "bool"),
    "DECIMAL(18,2)": ("decimal(18,2)", "str"),
    "DECIMAL(18,4)": ("decimal(18,4)", "str"),
}
# The lineage columns GX sees (the others are added when the rows are written).
GX_LINEAGE = ["_source_file", "_source_row"]


def _dbt_source_tables() -> dict[str, tuple[Path, dict]]:
    found = {}
    for path in sorted((settings.DBT_PROJECT_DIR / "models").rglob("*.yml")):
        for source in (yaml.safe_load(path.read_text()) or {}).get("sources", []):
            for table in source.get("tables", []):
                key = table.get("meta", {}).get("dagster", {}).get("asset_key")
                if key and key[0] == "raw":
                    found[key[1]] = (path, table)
    return found


DBT_TABLES = _dbt_source_tables()


def _suite(spec: SourceSpec) -> dict[str, list[dict]]:
    suite = json.loads((settings.EXPECTATIONS_DIR / f"{spec.name}.json").read_text())
    by_type: dict[str, list[dict]] = {}
    for expectation in suite["expectations"]:
        by_type.setdefault(expectation["type"], []).append(expectation["kwargs"])
    return by_type


def test_every_raw_source_of_dbt_is_in_the_catalog():
    assert set(DBT_TABLES) == {spec.name for spec in SOURCES}


def test_every_catalog_type_has_a_dbt_and_a_gx_spelling():
    used = {column_type for spec in SOURCES for _, column_type in spec.columns}
    assert used <= set(TYPES), f"add {sorted(used - set(TYPES))} to TYPES"


@pytest.mark.parametrize("spec", SOURCES, ids=lambda spec: spec.name)
def test_dbt_source_columns_are_the_catalogs(spec: SourceSpec):
    path, table = DBT_TABLES[spec.name]
    declared = [(column["name"], column.get("data_type")) for column in table["columns"]]
    expected = [(name, TYPES[column_type][0]) for name, column_type in spec.columns]
    assert declared == expected, f"{path.name}: {table['name']}"


@pytest.mark.parametrize("spec", SOURCES, ids=lambda spec: spec.name)
def test_gx_suite_columns_are_the_catalogs(spec: SourceSpec):
    suite = _suite(spec)
    [column_set] = suite["expect_table_columns_to_match_set"]
    assert column_set["column_set"] == [name for name, _ in spec.columns] + GX_LINEAGE
    typed = {
        kwargs["column"]: kwargs["type_"] for kwargs in suite["expect_column_values_to_be_of_type"]
    }
    assert typed == {name: TYPES[column_type][1] for name, column_type in spec.columns}


def test_lineage_columns_gx_sees_are_the_catalogs():
    assert set(GX_LINEAGE) <= {name for name, _ in LINEAGE_COLUMNS}
