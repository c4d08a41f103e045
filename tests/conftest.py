"""Shared fixtures: a private copy of the bundled example and a private warehouse per test."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from tests.support.marts_fixture import build_marts

_dbt_target: tempfile.TemporaryDirectory | None = None


def pytest_configure(config: pytest.Config) -> None:
    """dbt's target folder (the manifest the code location loads, dagster-dbt's run folders) is
    the session's own, never the repo's dbt_project/target/: set before any test module
    imports the code location, and inherited by the processes the tests start."""
    global _dbt_target
    _dbt_target = tempfile.TemporaryDirectory(prefix="boligsocial-dbt-target-")
    os.environ["DBT_TARGET_PATH"] = _dbt_target.name


def pytest_unconfigure(config: pytest.Config) -> None:
    if _dbt_target is not None:
        _dbt_target.cleanup()


@pytest.fixture
def example_sources(tmp_path: Path) -> Path:
    """A copy of the bundled example sources directory that a test may change freely."""
    target = tmp_path / "sources"
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, target)
    return target


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "test.duckdb"


@pytest.fixture(scope="session")
def marts_editions(tmp_path_factory) -> dict[int, Path]:
    """Edition 1 and edition 2 (one more data year, every value moved) of the marts."""
    base = tmp_path_factory.mktemp("marts")
    return {
        edition: build_marts(base / f"edition{edition}.duckdb", edition=edition)
        for edition in (1, 2)
    }


@pytest.fixture
def marts_warehouse(marts_editions, tmp_path) -> Path:
    """A private warehouse file holding edition 1 of the marts."""
    path = tmp_path / "warehouse" / "boligsocial.duckdb"
    path.parent.mkdir()
    shutil.copyfile(marts_editions[1], path)
    return path
