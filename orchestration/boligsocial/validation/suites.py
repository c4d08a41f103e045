"""The GX suites: `expectations/<name>.json` (GX Core 1.x JSON), one per raw table, as JSON
and as GX objects on an ephemeral context. `great_expectations` (slow to import) is imported
inside the functions that need it: the code location imports this module without paying for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from boligsocial.configuration import settings

if TYPE_CHECKING:
    pass


ERROR = "critical"  # GX severity of the blocking expectations


WARNING = "warning"


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
def gx_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def batch_definition(name: str):
    """The whole-dataframe batch of the source `name`: the data asset is named after the source,
    so a result (and its Data Docs page) says which source it validated."""
    context = gx_context()
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
