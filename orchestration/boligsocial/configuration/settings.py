"""Where things are, from the environment (with defaults for the bundled example)."""

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


def _path_from_env(variable: str, default: Path) -> Path:
    value = os.environ.get(variable, "").strip()
    return Path(value).expanduser().resolve() if value else default


def sources_dir() -> Path:
    return _path_from_env("BOLIGSOCIAL_SOURCES_DIR", EXAMPLE_SOURCES_DIR)


def warehouse_path() -> Path:
    default = PROJECT_ROOT / "warehouse" / "boligsocial.duckdb"
    return _path_from_env("BOLIGSOCIAL_WAREHOUSE", default)


def publish_dir() -> Path:
    return _path_from_env("BOLIGSOCIAL_PUBLISH_DIR", PROJECT_ROOT / "publish")
