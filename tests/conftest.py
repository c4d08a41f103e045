"""Shared fixtures: a private copy of the bundled example and a private warehouse per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from boligsocial.cli import launch
from boligsocial.configuration import settings
from tests.support.marts_fixture import build_marts

_dbt_target: tempfile.TemporaryDirectory | None = None
_home: tempfile.TemporaryDirectory | None = None
# The Makefile's manifest rule parses here again only when a dbt file or the profile's inputs
# changed; each session copies the result into a target folder of its own.
_MANIFEST_CACHE = settings.PROJECT_ROOT / "build" / "pytest-dbt-target"
_PARSED = ("manifest.json", "partial_parse.msgpack")


def pytest_configure(config: pytest.Config) -> None:
    """dbt's target folder (the manifest the code location loads, dagster-dbt's run folders) is
    the session's own, never the repo's dbt_project/target/: set before any test module
    imports the code location, and inherited by the processes the tests start. Importing the
    code location parses nothing, so the session prepares the manifest once, here."""
    global _dbt_target, _home
    # The session's installation home (with pytest-xdist, each worker's): the example's
    # configuration, and the state a test does not place itself (validation results, Data Docs,
    # Dagster's instance), neither in the checkout nor shared with a parallel worker.
    _home = tempfile.TemporaryDirectory(prefix="boligsocial-test-home-")
    os.environ[settings.HOME_VARIABLE] = _home.name
    for variable in settings.IN_HOME:
        os.environ.pop(variable, None)  # derived from the session's home
    shutil.copyfile(settings.PROJECT_ROOT / settings.CONFIG_FILE_NAME, settings.config_path())
    os.environ["DAGSTER_HOME"] = str(launch.dagster_home())  # as `boligsocial run` prepares it
    _dbt_target = tempfile.TemporaryDirectory(prefix="boligsocial-dbt-target-")
    os.environ["DBT_TARGET_PATH"] = _dbt_target.name
    done = subprocess.run(
        ["make", "-s", str(_MANIFEST_CACHE / "manifest.json")],
        cwd=settings.PROJECT_ROOT,
        # The checkout's home names the warehouse the manifest is parsed for, the same in every
        # session and worker, so the cache holds.
        env={
            **os.environ,
            "DBT_TARGET_PATH": str(_MANIFEST_CACHE),
            settings.HOME_VARIABLE: str(settings.PROJECT_ROOT),
        },
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.exit(f"dbt parse failed:\n{done.stdout}{done.stderr}", returncode=4)
    for name in _PARSED:
        shutil.copyfile(_MANIFEST_CACHE / name, Path(_dbt_target.name) / name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The modules with slow tests first, each module's tests together and in their order: the
    two workers (which take a module at a time) start on the long modules, and the short ones
    fill the end instead of one long module running alone."""
    slow_modules = {item.module for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module not in slow_modules)


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in (_dbt_target, _home):
        if folder is not None:
            folder.cleanup()


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
def example_built(tmp_path_factory) -> tuple[Path, dict]:
    """The bundled example loaded and built by `dbt build` (every seed, model and data test;
    the unit tests run in tests/dbt/test_unit_tests.py) once per session: its warehouse and
    `run_results.json`. Read only: a test that changes the warehouse takes a copy of it
    (`shutil.copyfile`, as `wh.duckdb`: dbt names the database after the file)."""
    from tests.dbt.conftest import dbt_build, load_sources

    work = tmp_path_factory.mktemp("example_built")
    warehouse = work / "wh.duckdb"
    load_sources(settings.EXAMPLE_SOURCES_DIR, warehouse)
    return warehouse, dbt_build(warehouse, work, exclude="test_type:unit")


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
