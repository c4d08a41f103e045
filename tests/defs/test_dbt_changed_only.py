"""A refresh (`make run`'s job, for real: its process, dbt, DuckDB) builds in dbt only what
changed since the last successful build of its warehouse and what depends on it, and its marts
are those of a build of everything on the same files."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterEventType, DagsterInstance

from boligsocial.configuration import settings
from boligsocial.defs.dbt.assets import UNCHANGED, dbt_models, dbt_project
from tests.dbt.conftest import dbt_build

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MANIFEST = json.loads(dbt_project.manifest_path.read_text())
LEDGER = "source.boligsocial.vandalism.vandalism_ledger"
SEED = "seed.boligsocial.allocation_targets"


def _descendants(unique_id: str) -> set[str]:
    """The names of the models and seeds downstream of a dbt node, itself included."""
    found, todo = set(), [unique_id]
    while todo:
        node = todo.pop()
        if node not in found:
            found.add(node)
            todo += MANIFEST["child_map"][node]
    return {n.split(".")[-1] for n in found if n.split(".")[0] in ("model", "seed")}


def _refresh(root: Path, succeeds: bool = True) -> tuple[set[str], set[str], str]:
    """`python -m boligsocial.runs.refresh` on root's sources and warehouse (a Dagster home of
    its own): the models and seeds dbt built, those it left unchanged, and the terminal."""
    home = root / f"home{len(list(root.glob('home*')))}"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "boligsocial.runs.refresh"],
        cwd=settings.PROJECT_ROOT,
        env={
            **os.environ,
            "DAGSTER_HOME": str(home),
            "BOLIGSOCIAL_SOURCES_DIR": str(root / "sources"),
            "BOLIGSOCIAL_WAREHOUSE": str(root / "wh.duckdb"),
            "BOLIGSOCIAL_PUBLISH_DIR": str(root / "publish"),
        },
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert (done.returncode == 0) == succeeds, done.stdout[-3000:] + done.stderr[-3000:]
    built, unchanged = set(), set()
    with DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            event = record.dagster_event
            if event.asset_key in dbt_models.keys:
                metadata = event.step_materialization_data.materialization.metadata
                (unchanged if UNCHANGED in metadata else built).add(event.asset_key.path[-1])
    return built, unchanged, done.stdout


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        ).fetchall()
        return {
            t: con.execute(f"select * from marts.{t} order by all").fetchall() for (t,) in tables
        }


def _full_build_marts(root: Path, work: Path) -> dict[str, list[tuple]]:
    """The marts of a build of everything on the raw tables root's warehouse holds."""
    work.mkdir()
    copy = work / "wh.duckdb"
    shutil.copyfile(root / "wh.duckdb", copy)
    dbt_build(copy, work, exclude="test_type:unit")
    return _marts(copy)


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> tuple[Path, set[str], set[str]]:
    """The bundled example refreshed once into an empty warehouse."""
    root = tmp_path_factory.mktemp("changed_only")
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, root / "sources")
    built, unchanged, _ = _refresh(root)
    return root, built, unchanged


@pytest.fixture
def again(first, tmp_path) -> Path:
    """A copy of the first refresh's sources, warehouse and dbt state, to refresh again."""
    root = first[0]
    shutil.copytree(root / "sources", tmp_path / "sources")
    shutil.copyfile(root / "wh.duckdb", tmp_path / "wh.duckdb")
    shutil.copytree(root / "wh.duckdb.dbt-state", tmp_path / "wh.duckdb.dbt-state")
    return tmp_path


def test_the_first_refresh_of_an_empty_warehouse_builds_everything(first):
    _, built, unchanged = first
    assert built == {key.path[-1] for key in dbt_models.keys} and unchanged == set()


def test_an_unchanged_refresh_builds_no_model_and_keeps_the_marts(first, again):
    before = _marts(again / "wh.duckdb")
    built, unchanged, terminal = _refresh(again)
    assert built == set()
    assert unchanged == {key.path[-1] for key in dbt_models.keys}
    assert f"0 models and seeds built, {len(unchanged)} skipped as unchanged" in terminal
    assert _marts(again / "wh.duckdb") == before
    # The publication still runs: its files are those of the marts.
    assert (again / "publish" / "current").exists()


def test_a_changed_ledger_file_rebuilds_what_depends_on_the_ledger(again, tmp_path):
    ledger = sorted((again / "sources" / "vandalism").glob("*.csv"))[0]
    lines = ledger.read_bytes().splitlines(keepends=True)
    ledger.write_bytes(b"".join(lines[:-1]))  # its last line gone
    built, _, _ = _refresh(again)
    assert built == _descendants(LEDGER)
    assert _marts(again / "wh.duckdb") == _full_build_marts(again, tmp_path / "full")


def test_a_removed_ledger_file_rebuilds_what_depends_on_the_ledger(again, tmp_path):
    sorted((again / "sources" / "vandalism").glob("*.csv"))[0].unlink()
    built, _, _ = _refresh(again)
    assert built == _descendants(LEDGER)
    assert _marts(again / "wh.duckdb") == _full_build_marts(again, tmp_path / "full")


def test_a_changed_seed_rebuilds_the_seed_and_what_depends_on_it(again):
    # The seed as the last build saw it differs from the project's (dbt compares the two: a
    # seed edited since that build reads the same), without editing the project's seed.
    manifest = again / "wh.duckdb.dbt-state" / "manifest.json"
    state = json.loads(manifest.read_text())
    state["nodes"][SEED]["checksum"]["checksum"] = "0" * 64
    manifest.write_text(json.dumps(state))
    built, _, _ = _refresh(again)
    assert built == _descendants(SEED)
    assert {"allocation_targets", "allocation_8020"} <= built


def test_a_failed_build_keeps_the_last_good_state(again, tmp_path):
    """A build that fails leaves the state of the last good one: the next refresh builds again
    what changed since that one."""
    state = {p.name: p.read_bytes() for p in (again / "wh.duckdb.dbt-state").iterdir()}
    departments = again / "sources" / "reference" / "departments.csv"
    good = departments.read_bytes()
    # Every department joins its area only in 2099: marts.area_metrics comes out empty, and
    # its error-level test (has_rows) fails the build.
    header, *lines = good.decode("utf-8").splitlines()
    departments.write_text(
        "\n".join([header, *(";".join([*line.split(";")[:5], "2099-01-01", ""]) for line in lines)])
        + "\n",
        encoding="utf-8",
    )
    _refresh(again, succeeds=False)
    assert {p.name: p.read_bytes() for p in (again / "wh.duckdb.dbt-state").iterdir()} == state
    departments.write_bytes(good)
    built, _, _ = _refresh(again)
    assert {"stg_reference__departments", "area_metrics"} <= built
    assert _marts(again / "wh.duckdb") == _full_build_marts(again, tmp_path / "full")


def test_a_state_of_an_earlier_year_builds_everything(again):
    """int_department_area_years reaches to the current year: on the first refresh of a new
    year everything is built, though no file changed."""
    manifest = again / "wh.duckdb.dbt-state" / "manifest.json"
    last_year = datetime.datetime.now() - datetime.timedelta(days=366)
    os.utime(manifest, (last_year.timestamp(), last_year.timestamp()))
    built, unchanged, _ = _refresh(again)
    assert built == {key.path[-1] for key in dbt_models.keys} and unchanged == set()
