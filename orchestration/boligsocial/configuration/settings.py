"""Where things are, from the environment.

One installation home, `BOLIGSOCIAL_HOME` (default: the checkout, the bundled example's home),
holds an installation's configuration and state: `boligsocial.toml`, the warehouse, the
validation results, the Data Docs site, Dagster's instance and the publications. Each is
derived from the home and still overridable by its own variable, so a municipality's runs and
the example's never share a run list, a warehouse or a Data Docs site. The sources folder is
not in the home: it is what is delivered, and nothing in it configures the installation.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The venv's dbt, so the code location works without dbt on PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
EXAMPLE_SOURCES_DIR = PROJECT_ROOT / "sources" / "example"

HOME_VARIABLE = "BOLIGSOCIAL_HOME"
CONFIG_VARIABLE = "BOLIGSOCIAL_CONFIG"
CONFIG_FILE_NAME = "boligsocial.toml"
# Each path's variable and its place in the home (the Makefile's defaults say the same:
# tests/configuration/test_home.py).
IN_HOME = {
    CONFIG_VARIABLE: CONFIG_FILE_NAME,
    "BOLIGSOCIAL_WAREHOUSE": "warehouse/boligsocial.duckdb",
    "BOLIGSOCIAL_PUBLISH_DIR": "publish",
    "BOLIGSOCIAL_GX_RESULTS": "gx_results",
    "BOLIGSOCIAL_DATA_DOCS_DIR": "build/gx_data_docs",
    "DAGSTER_HOME": ".dagster_home",
}


def _path_from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser().resolve() if value else default


def home() -> Path:
    return _path_from_env(HOME_VARIABLE, PROJECT_ROOT)


def in_home(variable: str) -> Path:
    """The path of `variable`: its value, else its place in the installation home."""
    return _path_from_env(variable, home() / IN_HOME[variable])


def sources_dir() -> Path:
    return _path_from_env("BOLIGSOCIAL_SOURCES_DIR", EXAMPLE_SOURCES_DIR)


def config_path() -> Path:
    return in_home(CONFIG_VARIABLE)


def warehouse_path() -> Path:
    return in_home("BOLIGSOCIAL_WAREHOUSE")


def publish_dir() -> Path:
    return in_home("BOLIGSOCIAL_PUBLISH_DIR")


def gx_results_dir() -> Path:
    """Each run's validation results, a folder per run."""
    return in_home("BOLIGSOCIAL_GX_RESULTS")


def data_docs_dir() -> Path:
    """The GX Data Docs site built from the validation results."""
    return in_home("BOLIGSOCIAL_DATA_DOCS_DIR")


def dagster_home() -> Path:
    """Dagster's instance folder (its runs, event logs and schedules with SQLite)."""
    return in_home("DAGSTER_HOME")
