"""One table of every environment variable the code reads (docs/configuration.md), compared
with the code: the package's names of variables, the dbt profile's `env_var`, the Dagster
instance files' `env:` and the Makefile's; the deploy recipe's environment files list every
variable an operator sets."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from boligsocial.configuration import reference, settings

ROOT = settings.PROJECT_ROOT
NAME = re.compile(r"^(BOLIGSOCIAL|DAGSTER|DBT)_[A-Z0-9_]+$")
# Set by the pipeline for its own processes: in the table, not in an operator's files.
SET_BY_THE_PIPELINE = {
    "BOLIGSOCIAL_RUN_PROCESS",
    "BOLIGSOCIAL_DUCKDB_MEMORY_LIMIT",
    "BOLIGSOCIAL_DUCKDB_THREADS",
}


def _table() -> set[str]:
    text = reference.PAGE.read_text("utf-8").split("## Environment variables", 1)[1]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, re.MULTILINE))


def _in_python() -> set[str]:
    """Every string constant of the package that is a variable's name (`os.environ.get(...)`,
    `EnvVar(...)`, a `..._VARIABLE` constant, settings.IN_HOME's keys)."""
    found = set()
    for path in (ROOT / "orchestration" / "boligsocial").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and NAME.match(str(node.value)):
                found.add(node.value)
    return found


def _in_files() -> set[str]:
    found = set()
    for path in [ROOT / "dbt_project" / "profiles.yml", ROOT / "dbt_project" / "dbt_project.yml"]:
        found |= set(re.findall(r"env_var\(\s*['\"]([A-Z0-9_]+)['\"]", path.read_text("utf-8")))
    for path in ROOT.glob("dagster*.yaml"):
        found |= set(re.findall(r"\{env: ([A-Z0-9_]+)\}", path.read_text("utf-8")))
    makefile = (ROOT / "Makefile").read_text("utf-8")
    found |= set(re.findall(r"^export ([A-Z0-9_]+)", makefile, re.MULTILINE))
    # The make variables that are the environment's (make's own are DBT_FILES and the like).
    found |= set(re.findall(r"\$\(((?:BOLIGSOCIAL|DAGSTER)_[A-Z0-9_]+)\)", makefile))
    return found


def test_the_table_has_every_variable_the_code_reads_and_no_other():
    code = _in_python() | _in_files()
    assert "BOLIGSOCIAL_PUBLISH_POSTGRES_URL" in code and "DAGSTER_PG_DB" in code  # it sees them
    table = _table()
    assert code - table == set(), "read by the code, not in docs/configuration.md"
    assert table - code == set(), "in docs/configuration.md, read by no code"


def _listed(path: Path) -> set[str]:
    """The variables of an environment file, set or shown commented out (`# NAME=`)."""
    return set(re.findall(r"^#? ?([A-Z0-9_]+)=", path.read_text("utf-8"), re.MULTILINE))


def test_the_deploy_environment_files_list_every_variable_an_operator_sets():
    listed = _listed(ROOT / "deploy" / "boligsocial.env.example")
    secrets = _listed(ROOT / "deploy" / "secrets.env.example")
    assert _table() - SET_BY_THE_PIPELINE - listed - secrets == set()
    assert not (listed | secrets) & SET_BY_THE_PIPELINE
    assert {n for n in listed | secrets if NAME.match(n)} <= _table()
    # Where to publish, and the place for it when its URL holds a password.
    assert "BOLIGSOCIAL_PUBLISH_POSTGRES_URL" in listed & secrets
