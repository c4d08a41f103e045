"""Publication as one set: same data and types as the warehouse, one atomic switch."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from boligsocial.publication.publish import (
    CURRENT,
    MANIFEST,
    RECORD,
    SETS,
    PublicationError,
    begin_set,
    current_set,
    postgres_type,
    redact_url,
    staged_set,
    switch_to,
    write_duckdb_copy,
    write_manifest,
    write_parquet,
)
from tests.publication.conftest import checksum, duckdb_checksums
from tests.support.marts_fixture import MARTS

ARTEFACTS = ("parquet", "boligsocial_marts.duckdb", "report.html")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [
        (row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()
    ]


def publish_set(warehouse: Path, publish_dir: Path, run_id: str) -> Path:
    """A whole publication, as the publish assets do it."""
    staged = begin_set(publish_dir, run_id)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        write_parquet(con, MARTS, staged / "parquet")
        write_duckdb_copy(con, MARTS, staged / "boligsocial_marts.duckdb")
    (staged / "report.html").write_text(f"report of {run_id}", encoding="utf-8")
    write_manifest(staged, run_id, None)
    switch_to(publish_dir, staged, ARTEFACTS)
    return staged


def verify(set_dir: Path) -> str:
    """The set's run id, after checking every file against its manifest."""
    manifest = json.loads((set_dir / MANIFEST).read_text(encoding="utf-8"))
    on_disk = sorted(str(p.relative_to(set_dir)) for p in set_dir.rglob("*") if p.is_file())
    assert on_disk == sorted([*manifest["files"], MANIFEST])
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((set_dir / name).read_bytes()).hexdigest() == entry["sha256"], name
    return manifest["run_id"]


def test_parquet_file_per_mart_with_the_marts_rows_and_types(marts_warehouse: Path, tmp_path):
    target = tmp_path / "parquet"
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        files = write_parquet(con, MARTS, target)
        expected = duckdb_checksums(con)
        for published in files:
            mart = published.path.stem
            parquet = f"read_parquet('{published.path}')"
            assert _columns(con, parquet) == _columns(con, f"marts.{mart}"), mart
            rows = con.execute(f"select * from {parquet}").fetchall()
            assert (len(rows), checksum(rows)) == expected[mart], mart
            assert published.rows == {mart: expected[mart][0]}
            assert published.bytes == published.path.stat().st_size > 0
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{m}.parquet" for m in MARTS)


def test_duckdb_copy_has_the_marts_with_identical_types_and_no_wal(marts_warehouse, tmp_path):
    target = tmp_path / "set" / "boligsocial_marts.duckdb"
    target.parent.mkdir()
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        copy = write_duckdb_copy(con, MARTS, target)
        expected = duckdb_checksums(con)
        warehouse_types = {m: _columns(con, f"marts.{m}") for m in MARTS}
    assert sorted(p.name for p in target.parent.iterdir()) == ["boligsocial_marts.duckdb"]
    assert copy.rows == {m: rows for m, (rows, _) in expected.items()}
    with duckdb.connect(str(target), read_only=True) as reader:
        assert duckdb_checksums(reader) == expected
        assert {m: _columns(reader, f"marts.{m}") for m in MARTS} == warehouse_types
        tables = reader.execute(
            "select schema_name, table_name from duckdb_tables() order by 2"
        ).fetchall()
        assert tables == [("marts", m) for m in sorted(MARTS)]


def test_the_switch_is_one_rename_of_current_and_the_previous_set_stays_until_then(
    marts_warehouse, marts_editions, tmp_path
):
    publish_dir = tmp_path / "publish"
    first = publish_set(marts_warehouse, publish_dir, "run-1")
    assert (publish_dir / CURRENT).is_symlink() and current_set(publish_dir) == first
    assert verify(publish_dir / CURRENT) == "run-1"
    for name in ARTEFACTS:  # the stable paths lead through `current`
        assert os.readlink(publish_dir / name) == f"{CURRENT}/{name}"
    old_inodes = {p: p.stat().st_ino for p in first.rglob("*")}
    link_inode = (publish_dir / CURRENT).lstat().st_ino

    staged = begin_set(publish_dir, "run-2")
    with duckdb.connect(str(marts_editions[2]), read_only=True) as con:
        write_parquet(con, MARTS, staged / "parquet")
        write_duckdb_copy(con, MARTS, staged / "boligsocial_marts.duckdb")
    (staged / "report.html").write_text("report of run-2", encoding="utf-8")
    write_manifest(staged, "run-2", None)
    # Staged but not switched: readers still see the first set, untouched.
    assert current_set(publish_dir) == first
    assert {p: p.stat().st_ino for p in first.rglob("*")} == old_inodes
    with (publish_dir / "parquet" / "area_metrics.parquet").open("rb") as handle:
        switch_to(publish_dir, staged, ARTEFACTS)
        # A file opened before the switch still reads the complete old file.
        old = pq.read_table(first / "parquet" / "area_metrics.parquet").num_rows
        assert pq.read_table(handle).num_rows == old
    # The switch replaced the symlink (a new inode), nothing else; the first set stays.
    assert (publish_dir / CURRENT).lstat().st_ino != link_inode
    assert current_set(publish_dir) == staged and verify(publish_dir / CURRENT) == "run-2"
    assert {p: p.stat().st_ino for p in first.rglob("*")} == old_inodes
    copy = publish_dir / "boligsocial_marts.duckdb"
    with (
        duckdb.connect(str(copy), read_only=True) as reader,
        duckdb.connect(str(marts_editions[2]), read_only=True) as con,
    ):
        assert duckdb_checksums(reader) == duckdb_checksums(con)
    # The next publication removes the previous set, and only that.
    begin_set(publish_dir, "run-3")
    assert sorted(p.name for p in (publish_dir / SETS).iterdir()) == ["run-2", "run-3"]


def test_readers_during_switches_always_see_one_whole_set(marts_editions, tmp_path):
    """A reader resolving `current` in a loop always finds a complete set matching its manifest."""
    publish_dir = tmp_path / "publish"
    publish_set(marts_editions[1], publish_dir, "run-0")
    stop, problems, seen = threading.Event(), [], set()

    def read_forever() -> None:
        while not stop.is_set():
            resolved = None
            try:
                resolved = (publish_dir / CURRENT).resolve(strict=True)
                seen.add(verify(resolved))
            except Exception as error:
                # A slow reader may still hold a set when the publication after next removes it
                # (only the current set is kept then); an error on the current set is the bug.
                if resolved is not None and resolved == (publish_dir / CURRENT).resolve():
                    problems.append(repr(error))

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        for round_ in range(1, 9):
            publish_set(marts_editions[1 + round_ % 2], publish_dir, f"run-{round_}")
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert len(seen) > 1
    assert verify(publish_dir / CURRENT) == "run-8"


def test_a_failed_publication_leaves_the_current_set(marts_warehouse, marts_editions, tmp_path):
    publish_dir = tmp_path / "publish"
    first = publish_set(marts_warehouse, publish_dir, "run-1")
    staged = begin_set(publish_dir, "run-2")
    with duckdb.connect(str(marts_editions[2]), read_only=True) as con:
        with pytest.raises(duckdb.CatalogException, match="no_such_mart"):
            write_parquet(con, [*MARTS, "no_such_mart"], staged / "parquet")
        with pytest.raises(duckdb.CatalogException, match="no_such_mart"):
            write_duckdb_copy(con, ["area_metrics", "no_such_mart"], staged / "copy.duckdb")
    assert current_set(publish_dir) == first and verify(publish_dir / CURRENT) == "run-1"
    with pytest.raises(PublicationError, match="run-1 is already the published set"):
        begin_set(publish_dir, "run-1")


def test_leftovers_of_an_interrupted_publication_are_removed(marts_warehouse, tmp_path):
    publish_dir = tmp_path / "publish"
    first = publish_set(marts_warehouse, publish_dir, "run-1")
    # Killed while staging, and killed between creating the new link and renaming it.
    staged = begin_set(publish_dir, "run-2")
    (staged / "parquet").mkdir()
    (staged / "parquet" / "area_metrics.parquet").write_text("half")
    (publish_dir / f".{CURRENT}.tmp-run-2").symlink_to(Path(SETS) / "run-2")
    with pytest.raises(PublicationError, match="no set staged by run run-3"):
        staged_set(publish_dir, ["run-3"])
    begin_set(publish_dir, "run-3")
    assert sorted(p.name for p in (publish_dir / SETS).iterdir()) == ["run-1", "run-3"]
    assert sorted(p.name for p in publish_dir.iterdir()) == sorted(
        [CURRENT, SETS, RECORD, *ARTEFACTS]
    )
    assert verify(first) == "run-1"


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("VARCHAR", "text"),
        ("INTEGER", "integer"),
        ("BIGINT", "bigint"),
        ("DOUBLE", "double precision"),
        ("DECIMAL(18,2)", "numeric(18,2)"),
        ("BOOLEAN", "boolean"),
        ("DATE", "date"),
        ("HUGEINT", "numeric(39,0)"),
    ],
)
def test_postgres_types(duckdb_type, expected):
    assert postgres_type(duckdb_type) == expected


def test_unknown_type_is_named():
    with pytest.raises(ValueError, match="INTEGER\\[\\]"):
        postgres_type("INTEGER[]")


def test_the_postgres_password_stays_out_of_logs_and_metadata():
    url = "postgresql://bi:s3cret@db.example:6543/boligsocial?sslmode=require"
    assert redact_url(url) == "postgresql://bi@db.example:6543/boligsocial"
    assert "s3cret" not in redact_url("host=db user=bi password=s3cret dbname=x")
    assert "ZZ" not in redact_url("postgresql://bi:pa%ZZss@db.example:6543/boligsocial")
