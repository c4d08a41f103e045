"""Python 3.11 through 3.14: requires-python says so, the lock is valid for it, the README says
the same, and CI runs the suite on the oldest and the fast tier on the newest it has."""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest
from packaging.specifiers import SpecifierSet

from boligsocial.configuration import settings

ROOT = settings.PROJECT_ROOT
SUPPORTED = ">=3.11,<3.15"


def test_requires_python_and_the_lock_allow_3_11_to_3_14():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert SpecifierSet(project["requires-python"]) == SpecifierSet(SUPPORTED)
    lock = tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))
    assert SpecifierSet(lock["requires-python"]) == SpecifierSet(SUPPORTED)
    uv = shutil.which("uv") or pytest.skip("uv is not on PATH")
    done = subprocess.run(
        [uv, "lock", "--check", "--offline"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_readme_states_the_versions():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "Python 3.11, 3.12, 3.13 or 3.14" in readme
    assert "≥ 3.11" not in readme


def test_ci_runs_the_oldest_and_the_newest_interpreter():
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "UV_PYTHON=3.11 make sync" in ci and "\nmake test\n" in ci
    assert 'newest="$(.ci/newest-python)"' in ci and 'pytest -m "not slow"' in ci
    newest = subprocess.run(
        [ROOT / ".ci" / "newest-python"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not newest:
        pytest.skip("no Python 3.12 or newer on this machine")
    version = subprocess.run(
        [newest, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert version in SpecifierSet(SUPPORTED) and version >= "3.12", newest
