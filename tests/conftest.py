"""Shared fixtures: a private copy of the bundled example and a private warehouse per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from orchestration import settings


@pytest.fixture
def example_sources(tmp_path: Path) -> Path:
    """A copy of the bundled example sources directory that a test may change freely."""
    target = tmp_path / "sources"
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, target)
    return target


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "test.duckdb"
