"""Shared helpers of the dbt tests: load a sources directory into a fresh warehouse, run
`dbt build` into it with the test's own target and log paths, and query the result.

dbt runs in the test's process (`dbtRunner`) with the manifest parsed once per project and
warehouse file name: a dbt process of its own would import and parse dbt again each time, for
a result the test reads from the warehouse and `run_results.json`."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from boligsocial.configuration import settings
from boligsocial.loading.warehouse import Validator, connect, ingest
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME, SourceSpec

if TYPE_CHECKING:  # dbt is imported by the tests that run it, not at collection
    from dbt.cli.main import dbtRunnerResult
    from dbt.contracts.graph.manifest import Manifest


def load_sources(
    sources_dir: Path,
    warehouse: Path,
    names: list[str] | None = None,
    validator: Callable[[SourceSpec], Validator] | None = None,
) -> None:
    """Ingest the catalog's sources (all, or `names`) from `sources_dir` into raw.

    `validator(spec)`, when given, returns the ingest hook that validates each source."""
    specs = [SOURCES_BY_NAME[n] for n in names] if names else list(SOURCES)
    with connect(warehouse) as con:
        for spec in specs:
            ingest(spec, sources_dir, con, validate=validator(spec) if validator else None)


def dbt_command(*args: str, work: Path, project_dir: Path = settings.DBT_PROJECT_DIR) -> list[str]:
    """The venv's dbt with `args` on the project, with target and logs in `work`."""
    return [
        str(settings.DBT_EXECUTABLE), *args,
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip


# The manifest names every table's database after the warehouse file (its name without the
# suffix), so one parsed manifest serves every warehouse of that name.
_manifests: dict[tuple[Path, str], Manifest] = {}


@contextmanager
def _warehouse_env(warehouse: Path) -> Iterator[None]:
    before = os.environ.get("BOLIGSOCIAL_WAREHOUSE")
    os.environ["BOLIGSOCIAL_WAREHOUSE"] = str(warehouse)
    try:
        yield
    finally:
        if before is None:
            del os.environ["BOLIGSOCIAL_WAREHOUSE"]
        else:
            os.environ["BOLIGSOCIAL_WAREHOUSE"] = before
        # dbt-duckdb keeps its connection to the file for the life of the process; the test
        # (and the next dbt call, on another file) opens the file after dbt.
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        DuckDBConnectionManager.close_all_connections()


def invoke_dbt(
    *args: str, work: Path, warehouse: Path, project_dir: Path = settings.DBT_PROJECT_DIR
) -> dbtRunnerResult:
    """dbt `args` on `warehouse` in this process, target and logs in `work`."""
    from dbt.cli.main import dbtRunner

    paths = [
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    key = (project_dir, warehouse.stem)
    with _warehouse_env(warehouse):
        if args[0] == "parse" or key not in _manifests:
            parsed = dbtRunner().invoke(["--quiet", "parse", *paths])
            assert parsed.success, parsed.exception
            _manifests[key] = parsed.result
            if args[0] == "parse":
                return parsed
        return dbtRunner(manifest=_manifests[key]).invoke(["--quiet", *args, *paths])


def run_dbt(
    *args: str, work: Path, warehouse: Path, project_dir: Path = settings.DBT_PROJECT_DIR
) -> dbtRunnerResult:
    """`invoke_dbt`; fail the test with dbt's error if dbt fails."""
    result = invoke_dbt(*args, work=work, warehouse=warehouse, project_dir=project_dir)
    assert result.success, result.exception or _failures(work)
    return result


def _failures(work: Path) -> list[str]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return [
        f"{r['unique_id']}: {r['message']}" for r in results if r["status"] in ("fail", "error")
    ]


def dbt_build(
    warehouse: Path,
    work: Path,
    select: str | None = None,
    *,
    exclude: str | None = None,
    project_dir: Path = settings.DBT_PROJECT_DIR,
) -> dict:
    """`dbt build` into `warehouse` (all nodes, or `select` with cautious indirect selection);
    target and logs go to `work`. Returns run_results.json."""
    selection = ["--select", select, "--indirect-selection", "cautious"] if select else []
    exclusion = ["--exclude", exclude] if exclude else []
    run_dbt(
        "build", *selection, *exclusion, work=work, warehouse=warehouse, project_dir=project_dir
    )
    return json.loads((work / "target" / "run_results.json").read_text())


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def overlay(base: Path, extra: Path, target: Path) -> Path:
    """A copy of the sources folder `base` with the files of `extra` added: a file that exists
    in both gets extra's rows after its own (same header), a new file is copied."""
    shutil.copytree(base, target)
    for source in sorted(p for p in extra.rglob("*") if p.is_file()):
        destination = target / source.relative_to(extra)
        if destination.exists():
            header, *rows = source.read_text(encoding="utf-8").splitlines(keepends=True)
            existing = destination.read_text(encoding="utf-8")
            assert existing.splitlines()[0] == header.strip(), destination
            destination.write_text(existing + "".join(rows), encoding="utf-8")
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    return target
