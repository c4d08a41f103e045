"""Public APIs only: no tracked Python file (code or tests) imports a private module or name of
dagster, dagster_dbt, dbt, dbt_common or great_expectations (a leading underscore anywhere in
the dotted path, or an imported name with one)."""

from __future__ import annotations

import ast
import subprocess

from boligsocial.configuration import settings

LIBRARIES = ("dagster", "dagster_dbt", "dbt", "dbt_common", "great_expectations")


def _library(module: str) -> bool:
    return module.split(".")[0] in LIBRARIES


def _private(dotted: str) -> bool:
    return any(part.startswith("_") for part in dotted.split("."))


def private_imports(source: str) -> list[str]:
    """`import a._b`, `from a._b import c`, `from a import _c` of the libraries, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if _library(a.name) and _private(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and _library(node.module):
            names = [f"{node.module}.{a.name}" for a in node.names]
            found += [n for n in names if _private(n)]
    return found


def test_the_check_sees_every_form_of_private_import():
    source = (
        "import dagster._core.events\n"
        "from dagster_dbt.core._x import y\n"
        "from great_expectations import _private_name\n"
        "from dbt_common.events.functions import msg_to_dict\n"
        "def f():\n    from dbt.cli._main import run\n"
        "import dagster, pandas._libs\n"
        "from dagster import AssetKey\n"
    )
    assert private_imports(source) == [
        "dagster._core.events",
        "dagster_dbt.core._x.y",
        "great_expectations._private_name",
        "dbt.cli._main.run",
    ]


def test_no_tracked_python_file_imports_a_private_api():
    tracked = subprocess.run(
        ["git", "ls-files", "*.py"],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(tracked) > 50
    found = {
        path: imports
        for path in tracked
        if (imports := private_imports((settings.PROJECT_ROOT / path).read_text("utf-8")))
    }
    assert found == {}
