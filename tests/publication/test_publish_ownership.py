"""The publication removes only what it wrote: on a share and on a BI database that others use
too, it refuses to start where something is not its own, says what and where, and leaves all of
it as it was (real folders, symbolic links, the local PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import psycopg
import pytest
from dagster import DagsterInstance, materialize

from boligsocial.defs.publication.assets import board_report, publication_set, published_marts
from boligsocial.defs.resources import WarehouseResource, from_environment
from boligsocial.publication.publish import (
    CURRENT,
    MANIFEST,
    OWNER_MARK,
    RECORD,
    SETS,
    PublicationError,
    begin_set,
    foreign_entries,
    publish_postgres,
)
from boligsocial.runs.findings import step_failure_reason
from tests.publication.test_publish_files import ARTEFACTS, publish_set, verify
from tests.support import postgres
from tests.support.marts_fixture import MARTS


def _tree(root: Path) -> dict[str, str]:
    """Every file under root (links not followed) with its SHA-256, every link with its target."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = str(path.relative_to(root))
        if path.is_symlink():
            found[name] = f"-> {path.readlink()}"
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


@pytest.fixture
def share(tmp_path) -> Path:
    """A share other teams use: a Parquet folder, a set of their own, a hand-kept report."""
    root = tmp_path / "share"
    (root / "parquet" / "economy").mkdir(parents=True)
    (root / "parquet" / "economy" / "budget_2023.parquet").write_bytes(b"PAR1 budget PAR1")
    (root / SETS / "2023-budget").mkdir(parents=True)
    (root / SETS / "2023-budget" / "notes.txt").write_text("kept by the economy team")
    (root / "bestyrelsesrapport.html").write_text("<p>written by hand</p>")
    return root


def test_a_share_holding_other_teams_files_is_refused_and_left_as_it_was(share):
    before = _tree(share)
    with pytest.raises(PublicationError) as refused:
        begin_set(share, "run-1")
    message = str(refused.value)
    assert message.startswith(f"{share} holds what the publication did not write: ")
    for what in ("bestyrelsesrapport.html", "parquet/", "sets/2023-budget"):
        assert what in message
    assert "BOLIGSOCIAL_PUBLISH_DIR" in message
    assert _tree(share) == before  # nothing written, nothing removed


def test_the_publish_assets_fail_on_the_share_and_leave_it_as_it_was(
    share, marts_warehouse, monkeypatch
):
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_DIR", str(share))
    monkeypatch.delenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", raising=False)
    before = _tree(share)
    result = materialize(
        [published_marts, board_report, publication_set],
        resources={**from_environment(), "warehouse": WarehouseResource(path=str(marts_warehouse))},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    assert "holds what the publication did not write" in step_failure_reason(failure)
    assert _tree(share) == before


def test_a_file_put_into_the_publication_folder_stops_the_next_publication(
    marts_warehouse, tmp_path
):
    publish_dir = tmp_path / "publish"
    first = publish_set(marts_warehouse, publish_dir, "run-1")
    (publish_dir / "noter.txt").write_text("a reader's notes")
    (publish_dir / SETS / "kopi").mkdir()
    (publish_dir / SETS / "kopi" / "area_metrics.parquet").write_bytes(b"a copy")
    before = _tree(publish_dir)
    with pytest.raises(PublicationError, match=r"did not write: noter\.txt, sets/kopi\."):
        begin_set(publish_dir, "run-2")
    assert _tree(publish_dir) == before
    assert verify(first) == "run-1"


def test_removing_an_old_set_follows_no_link_out_of_the_folder(marts_warehouse, tmp_path):
    outside = tmp_path / "outside"
    (outside / "team").mkdir(parents=True)
    (outside / "team" / "budget.parquet").write_bytes(b"their data")
    (outside / "one.parquet").write_bytes(b"their file")
    publish_dir = tmp_path / "publish"
    publish_set(marts_warehouse, publish_dir, "run-1")
    publish_set(marts_warehouse, publish_dir, "run-2")  # run-1 is removed at the next start
    old = publish_dir / SETS / "run-1"
    # Links planted in a set the publication made: to a folder and to a file outside.
    (old / "parquet" / "team").symlink_to(outside / "team", target_is_directory=True)
    (old / "one.parquet").symlink_to(outside / "one.parquet")
    before = _tree(outside)
    begin_set(publish_dir, "run-3")
    assert not old.exists()
    assert _tree(outside) == before
    # run-3 is staged (recorded, never switched to); replaced by a link to the folder outside,
    # the next start removes the link and nothing behind it.
    (publish_dir / SETS / "run-3").rmdir()
    (publish_dir / SETS / "run-3").symlink_to(outside, target_is_directory=True)
    begin_set(publish_dir, "run-4")
    assert sorted(p.name for p in (publish_dir / SETS).iterdir()) == ["run-2", "run-4"]
    assert _tree(outside) == before


def test_links_the_publication_did_not_make_are_refused_not_followed(marts_warehouse, tmp_path):
    outside = tmp_path / "outside"
    (outside / "run-9").mkdir(parents=True)
    (outside / "run-9" / "keep.txt").write_text("theirs")
    publish_dir = tmp_path / "publish"
    publish_set(marts_warehouse, publish_dir, "run-1")
    (publish_dir / SETS / "run-9").symlink_to(outside / "run-9", target_is_directory=True)
    before = _tree(outside)
    with pytest.raises(PublicationError, match=r"did not write: sets/run-9\."):
        begin_set(publish_dir, "run-2")
    (publish_dir / SETS / "run-9").unlink()
    # `sets` itself a link out of the folder: refused before anything is listed in it.
    moved = tmp_path / "moved"
    (publish_dir / SETS).rename(moved)
    (publish_dir / SETS).symlink_to(outside, target_is_directory=True)
    with pytest.raises(PublicationError, match=r"did not write: sets\."):
        begin_set(publish_dir, "run-2")
    assert _tree(outside) == before


def test_the_layout_before_the_record_is_adopted_set_by_set(marts_warehouse, tmp_path):
    publish_dir = tmp_path / "publish"
    publish_set(marts_warehouse, publish_dir, "run-1")
    publish_set(marts_warehouse, publish_dir, "run-2")
    (publish_dir / RECORD).unlink()  # as the version before the record left it
    assert foreign_entries(publish_dir) == []  # each set's manifest names it
    (publish_dir / SETS / "run-0").mkdir()  # a set without a manifest: not provably its own
    with pytest.raises(PublicationError, match=r"did not write: sets/run-0\."):
        begin_set(publish_dir, "run-3")
    (publish_dir / SETS / "run-0").rmdir()
    begin_set(publish_dir, "run-3")
    assert sorted(p.name for p in (publish_dir / SETS).iterdir()) == ["run-2", "run-3"]
    assert json.loads((publish_dir / RECORD).read_text())["sets"] == ["run-2", "run-3"]
    assert sorted(p.name for p in publish_dir.iterdir()) == sorted(
        [CURRENT, SETS, RECORD, *ARTEFACTS]
    )
    assert (publish_dir / SETS / "run-2" / MANIFEST).exists()


def test_the_data_docs_site_in_the_publication_folder_is_left_alone(marts_warehouse, tmp_path):
    publish_dir = tmp_path / "publish"
    publish_set(marts_warehouse, publish_dir, "run-1")
    site = publish_dir / "gx_data_docs"
    (site / "validations").mkdir(parents=True)
    (site / "index.html").write_text("<html></html>")
    assert foreign_entries(publish_dir) == ["gx_data_docs/"]
    begin_set(publish_dir, "run-2", keep=[site])
    assert (site / "index.html").read_text() == "<html></html>"


# --- PostgreSQL: a BI database others use too --------------------------------------------------

_postgres_marks = postgres.required(postgres.unreachable())


def needs_postgres(test):
    for mark in _postgres_marks:
        test = mark(test)
    return test


@pytest.fixture
def database():
    """A fresh database of the local server: (its URL, an autocommit connection)."""
    with postgres.fresh_database("publish_owner") as name:
        url = psycopg.conninfo.make_conninfo(dbname=name, **postgres.SERVER)
        with psycopg.connect(url, autocommit=True) as pg:
            yield url, pg


def _publish(warehouse: Path, url: str, run_id: str) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish_postgres(con, MARTS, url, run_id=run_id)


def _tables(pg: psycopg.Connection, schema: str) -> list[str]:
    rows = pg.execute(
        "select tablename from pg_tables where schemaname = %s order by 1", [schema]
    ).fetchall()
    return [r[0] for r in rows]


@needs_postgres
def test_a_bi_database_with_other_teams_marts_and_marts_new_is_refused(database, marts_warehouse):
    url, pg = database
    pg.execute("create schema marts")
    pg.execute("create table marts.budget_2023 as select 2023 as year, 1000.0 as amount")
    pg.execute("create schema marts_new")
    pg.execute("create table marts_new.plan as select 'udkast' as status")
    with pytest.raises(PublicationError) as refused:
        _publish(marts_warehouse, url, "run-1")
    message = str(refused.value)
    assert "holds what the publication did not make" in message
    for what in (
        "schema marts (not",
        "marts.budget_2023",
        "schema marts_new (not",
        "marts_new.plan",
    ):
        assert what in message
    assert "COMMENT ON SCHEMA" in message
    assert pg.execute("select * from marts.budget_2023").fetchall() == [(2023, 1000.0)]
    assert pg.execute("select status from marts_new.plan").fetchall() == [("udkast",)]
    # Handed over explicitly (and emptied), the schemas are the publication's.
    pg.execute("drop table marts.budget_2023")
    pg.execute("drop schema marts_new cascade")
    pg.execute(f"comment on schema marts is '{OWNER_MARK}'")
    _publish(marts_warehouse, url, "run-1")
    assert _tables(pg, "marts") == sorted([*MARTS, "publication"])


@needs_postgres
def test_a_table_added_to_the_published_schema_stops_the_next_publication(
    database, marts_warehouse, marts_editions
):
    url, pg = database
    _publish(marts_warehouse, url, "run-1")
    comment = pg.execute("select obj_description('marts.area_metrics'::regclass, 'pg_class')")
    assert comment.fetchone()[0] == f"{OWNER_MARK}: run run-1; replaced by the next publication"
    pg.execute("create table marts.budget_2023 as select 1 as x")
    pg.execute("create view marts.my_view as select * from marts.area_metrics")
    with pytest.raises(PublicationError, match=r"marts\.budget_2023, marts\.my_view"):
        _publish(marts_editions[2], url, "run-2")
    assert pg.execute("select run_id from marts.publication").fetchall() == [("run-1",)]
    assert pg.execute("select x from marts.budget_2023").fetchall() == [(1,)]
    assert pg.execute("select 1 from pg_namespace where nspname = 'marts_new'").fetchone() is None


@needs_postgres
def test_its_own_leftover_marts_new_and_the_schema_before_the_mark_are_replaced(
    database, marts_warehouse, marts_editions
):
    url, pg = database
    _publish(marts_warehouse, url, "run-1")
    # The schema as the version before the mark left it: no comments anywhere.
    pg.execute("comment on schema marts is null")
    for table in [*MARTS, "publication"]:
        pg.execute(f"comment on table marts.{table} is null")
    # A swap that failed leaves the loaded marts_new behind (marked as the publication's).
    pg.execute("alter schema marts rename to marts_keep")
    _publish(marts_warehouse, url, "run-0")
    pg.execute("alter schema marts rename to marts_new")
    pg.execute("alter schema marts_keep rename to marts")
    _publish(marts_editions[2], url, "run-2")
    assert pg.execute("select run_id from marts.publication").fetchall() == [("run-2",)]
    assert pg.execute("select 1 from pg_namespace where nspname = 'marts_new'").fetchone() is None
    assert _tables(pg, "marts") == sorted([*MARTS, "publication"])
