"""Parquet and DuckDB-copy publication: same data and types as the warehouse, atomic swaps."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from publication import publish
from publication.publish import (
    postgres_type,
    publish_duckdb_copy,
    publish_parquet,
    redact_url,
    swap_directory,
)
from tests.publication.conftest import checksum, duckdb_checksums
from tests.support.marts_fixture import MARTS


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [
        (row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()
    ]


def _hidden_leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_parquet_file_per_mart_with_the_marts_rows_and_types(marts_warehouse: Path, tmp_path):
    target = tmp_path / "publish" / "parquet"
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        files = publish_parquet(con, MARTS, target)
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
    assert _hidden_leftovers(target.parent) == []


def test_duckdb_copy_has_the_marts_with_identical_types_and_no_wal(marts_warehouse, tmp_path):
    target = tmp_path / "publish" / "boligsocial_marts.duckdb"
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        copy = publish_duckdb_copy(con, MARTS, target)
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


def test_republishing_replaces_files_while_open_handles_keep_the_old_data(
    marts_warehouse, marts_editions, tmp_path
):
    parquet_dir, copy = tmp_path / "parquet", tmp_path / "boligsocial_marts.duckdb"
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        publish_parquet(con, MARTS, parquet_dir)
        publish_duckdb_copy(con, MARTS, copy)
    old_rows = pq.read_table(parquet_dir / "area_metrics.parquet").num_rows
    with (parquet_dir / "area_metrics.parquet").open("rb") as handle:
        with duckdb.connect(str(marts_editions[2]), read_only=True) as con:
            publish_parquet(con, MARTS, parquet_dir)
            publish_duckdb_copy(con, MARTS, copy)
            new = duckdb_checksums(con)
        # The handle opened before the swap still reads the complete old file.
        assert pq.read_table(handle).num_rows == old_rows
    assert pq.read_table(parquet_dir / "area_metrics.parquet").num_rows == new["area_metrics"][0]
    assert new["area_metrics"][0] != old_rows
    with duckdb.connect(str(copy), read_only=True) as reader:
        assert duckdb_checksums(reader) == new
    assert _hidden_leftovers(tmp_path) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "per-file"])
def test_readers_during_swaps_always_find_complete_files(
    marts_editions, tmp_path, monkeypatch, exchange
):
    """A reader opening the published files in a loop never misses one or reads half of one."""
    if not exchange:
        monkeypatch.setattr(publish, "_exchange", lambda first, second: False)
    target = tmp_path / "parquet"
    counts = {}
    for edition, path in marts_editions.items():
        with duckdb.connect(str(path), read_only=True) as con:
            counts[edition] = {m: publish.row_count(con, m) for m in MARTS}
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        publish_parquet(con, MARTS, target)

    stop, problems, reads = threading.Event(), [], []

    def read_forever() -> None:
        while not stop.is_set():
            for mart in MARTS:
                try:
                    # One open per read: a reader that opens a path twice (pyarrow's dataset
                    # API does) can pair the old file's footer with the new file's pages.
                    with (target / f"{mart}.parquet").open("rb") as handle:
                        rows = pq.read_table(handle).num_rows
                except Exception as error:  # any failure to open or parse is the bug
                    problems.append(f"{mart}: {error!r}")
                    continue
                if rows not in (counts[1][mart], counts[2][mart]):
                    problems.append(f"{mart}: {rows} rows")
                reads.append(mart)

    reader = threading.Thread(target=read_forever)
    reader.start()
    try:
        for round_ in range(12):
            edition = 2 if round_ % 2 == 0 else 1
            with duckdb.connect(str(marts_editions[edition]), read_only=True) as con:
                publish_parquet(con, MARTS, target)
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert len(reads) > len(MARTS) * 12
    assert _hidden_leftovers(tmp_path) == []


def test_swap_directory_per_file_fallback_drops_marts_that_are_gone(tmp_path, monkeypatch):
    monkeypatch.setattr(publish, "_exchange", lambda first, second: False)
    target, new = tmp_path / "parquet", tmp_path / ".parquet.tmp-1"
    target.mkdir()
    new.mkdir()
    (target / "old_mart.parquet").write_text("old")
    (target / "kept.parquet").write_text("old")
    (new / "kept.parquet").write_text("new")
    swap_directory(new, target)
    assert {p.name: p.read_text() for p in target.iterdir()} == {"kept.parquet": "new"}


def test_a_failed_publication_leaves_the_previous_one_and_no_leftovers(marts_warehouse, tmp_path):
    parquet_dir, copy = tmp_path / "parquet", tmp_path / "boligsocial_marts.duckdb"
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        publish_parquet(con, MARTS, parquet_dir)
        publish_duckdb_copy(con, MARTS, copy)
        before = duckdb_checksums(con)
        with pytest.raises(duckdb.CatalogException, match="no_such_mart"):
            publish_parquet(con, [*MARTS, "no_such_mart"], parquet_dir)
        with pytest.raises(duckdb.CatalogException, match="no_such_mart"):
            publish_duckdb_copy(con, ["area_metrics", "no_such_mart"], copy)
    assert sorted(p.name for p in parquet_dir.iterdir()) == sorted(f"{m}.parquet" for m in MARTS)
    with duckdb.connect(str(copy), read_only=True) as reader:
        assert duckdb_checksums(reader) == before
    assert _hidden_leftovers(tmp_path) == []


def test_leftovers_of_an_interrupted_publication_are_removed(marts_warehouse, tmp_path):
    (tmp_path / ".parquet.tmp-dead").mkdir()
    (tmp_path / ".parquet.tmp-dead" / "area_metrics.parquet").write_text("half")
    (tmp_path / ".boligsocial_marts.duckdb.tmp-dead").write_text("half")
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        publish_parquet(con, MARTS, tmp_path / "parquet")
        publish_duckdb_copy(con, MARTS, tmp_path / "boligsocial_marts.duckdb")
    assert _hidden_leftovers(tmp_path) == []


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
