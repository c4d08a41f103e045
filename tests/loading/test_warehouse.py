"""Per-file raw loading: idempotent, incremental by content hash, and atomic on bad input."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from boligsocial.loading import warehouse
from boligsocial.loading.warehouse import RACY_NS, connect, file_sha256, ingest
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.errors import SourceError

INCIDENTS = SOURCES_BY_NAME["police_incidents"]
LEDGER = SOURCES_BY_NAME["vandalism_ledger"]


def snapshot(con, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


def test_loading_twice_changes_nothing(example_sources: Path, warehouse_file: Path):
    with connect(warehouse_file) as con:
        first = ingest(INCIDENTS, example_sources, con)
        before = snapshot(con, INCIDENTS.table)
        second = ingest(INCIDENTS, example_sources, con)
        assert first.files_loaded == first.files
        assert first.row_count == first.rows_loaded > 0
        assert second.files_loaded == [] and second.files_removed == []
        assert snapshot(con, INCIDENTS.table) == before


def test_lineage_names_file_hash_and_line(example_sources: Path, warehouse_file: Path):
    with connect(warehouse_file) as con:
        ingest(INCIDENTS, example_sources, con)
        file, row = con.execute(
            "select _source_file, min(_source_row) from raw.police_incidents "
            "group by all order by 1 limit 1"
        ).fetchone()
    assert file.startswith("police/incidents_") and file.endswith(".csv")
    assert row == 2  # the header is line 1


def test_new_changed_and_removed_files(example_sources: Path, warehouse_file: Path):
    ledgers = sorted((example_sources / "vandalism").glob("*.csv"))
    with connect(warehouse_file) as con:
        ingest(LEDGER, example_sources, con)
        total = con.execute("select count(*) from raw.vandalism_ledger").fetchone()[0]
        gone = ledgers[0]
        gone_rows = con.execute(
            "select count(*) from raw.vandalism_ledger where _source_file = ?",
            [f"vandalism/{gone.name}"],
        ).fetchone()[0]
        gone.unlink()
        changed = ledgers[1]
        # Appending a copy of the last line under a new line number changes the file's hash.
        text = changed.read_bytes()
        result = ingest(LEDGER, example_sources, con)
        assert result.files_removed == [f"vandalism/{gone.name}"]
        assert result.files_loaded == []
        assert result.row_count == total - gone_rows
        changed.write_bytes(text + text.splitlines(keepends=True)[-1])
        result = ingest(LEDGER, example_sources, con)
        assert result.files_loaded == [f"vandalism/{changed.name}"]


def test_bad_file_leaves_raw_table_unchanged(example_sources: Path, warehouse_file: Path):
    with connect(warehouse_file) as con:
        ingest(INCIDENTS, example_sources, con)
        before = snapshot(con, INCIDENTS.table)
        bad = sorted((example_sources / "police").glob("incidents_*.csv"))[-1]
        original = bad.read_bytes()
        bad.write_bytes(original + b"X-1;31-02-2020;Ringparken;Vold\n")
        with pytest.raises(SourceError) as error:
            ingest(INCIDENTS, example_sources, con)
        assert bad.name in error.value.file
        assert error.value.row == original.count(b"\n") + 1
        assert snapshot(con, INCIDENTS.table) == before


def test_missing_required_source_is_an_error(example_sources: Path, warehouse_file: Path):
    (example_sources / "reference" / "areas.csv").unlink()
    with connect(warehouse_file) as con, pytest.raises(SourceError, match="areas"):
        ingest(SOURCES_BY_NAME["areas"], example_sources, con)


def test_csv_and_xlsx_effort_registers_together_are_an_error(
    example_sources: Path, warehouse_file: Path
):
    (example_sources / "efforts" / "indsatser.xlsx").write_bytes(b"")
    with connect(warehouse_file) as con, pytest.raises(SourceError, match="only one of"):
        ingest(SOURCES_BY_NAME["efforts"], example_sources, con)


def _hashing(monkeypatch) -> list[str]:
    """The files hashed from now on (every call of warehouse.file_sha256)."""
    hashed: list[str] = []

    def counting(path):
        hashed.append(Path(path).name)
        return file_sha256(path)

    monkeypatch.setattr(warehouse, "file_sha256", counting)
    return hashed


def _clock_after(monkeypatch, seconds: float) -> None:
    """The hashing's clock, `seconds` past now: files written now are that much older."""
    offset = int(seconds * 1e9)
    real = time.time_ns
    monkeypatch.setattr(warehouse.time, "time_ns", lambda: real() + offset)


def test_unchanged_files_are_not_hashed_again(example_sources, warehouse_file, monkeypatch):
    """A file's hash is kept with its stat; a file whose stat is unchanged (and was not touched
    just before it was hashed) is not read again."""
    ledgers = sorted((example_sources / "vandalism").glob("*.csv"))
    hashed = _hashing(monkeypatch)
    with connect(warehouse_file) as con:
        # New files are hashed from the bytes their rows are parsed from, not read twice.
        ingest(LEDGER, example_sources, con)
        assert hashed == []
        # Written just now: within the racy window of their hash, so hashed again.
        hashed.clear()
        ingest(LEDGER, example_sources, con)
        assert len(hashed) == len(ledgers)

        # A hash taken past the racy window of the files' times is kept.
        _clock_after(monkeypatch, RACY_NS / 1e9 + 0.1)
        hashed.clear()
        ingest(LEDGER, example_sources, con)
        # The last hashes were taken within the racy window of the files' times, so again.
        assert len(hashed) == len(ledgers)
        hashed.clear()
        ingest(LEDGER, example_sources, con)
        assert hashed == []


def test_a_changed_file_is_hashed_again_even_with_its_old_size_and_mtime(
    example_sources, warehouse_file, monkeypatch
):
    ledgers = sorted((example_sources / "vandalism").glob("*.csv"))
    _clock_after(monkeypatch, RACY_NS / 1e9 + 0.1)  # the copies are older than the racy window
    hashed = _hashing(monkeypatch)
    with connect(warehouse_file) as con:
        ingest(LEDGER, example_sources, con)
        hashed.clear()
        assert ingest(LEDGER, example_sources, con).files_loaded == []
        assert hashed == []

        # Same size, mtime put back: only the ctime (and the content) tell.
        changed = ledgers[3]
        before = changed.stat()
        text = changed.read_bytes()
        last = text.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
        header = text.split(b"\n", 1)[0].lower().split(b";")
        fields = last.split(b";")
        column = next(i for i, name in enumerate(header) if name.startswith(b"tekst"))
        fields[column] = fields[column].swapcase()  # the line's free text
        edited = text.replace(last, b";".join(fields))
        assert len(edited) == len(text) and edited != text
        changed.write_bytes(edited)
        os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))
        result = ingest(LEDGER, example_sources, con)
    assert hashed == [changed.name]
    assert result.files_loaded == [f"vandalism/{changed.name}"]


def test_a_sources_files_are_the_matching_files_in_path_order(tmp_path: Path):
    folder = tmp_path / "vandalism"
    folder.mkdir()
    for name in ("SAB_2024-02.csv", "FOB_2024-01.csv", ".hidden_2024-01.csv", "notes.txt"):
        (folder / name).write_text("x")
    # A folder named like an export is listed, not left out: its reader says it is a folder.
    (folder / "ABC_2024-03.csv").mkdir()
    (folder / "FOB_2024-04.csv").symlink_to(folder / "FOB_2024-01.csv")
    spec = SOURCES_BY_NAME["vandalism_ledger"]
    files = warehouse.source_files(spec, tmp_path)
    assert list(files) == [
        "vandalism/ABC_2024-03.csv",
        "vandalism/FOB_2024-01.csv",
        "vandalism/FOB_2024-04.csv",
        "vandalism/SAB_2024-02.csv",
    ]
    assert files["vandalism/SAB_2024-02.csv"] == folder / "SAB_2024-02.csv"
    assert list(files) == [p.relative_to(tmp_path).as_posix() for p in spec.files(tmp_path)]


def test_the_kept_hashes_follow_the_delivered_files(example_sources, warehouse_file):
    """FILE_STATS holds one row per delivered file of the source, with its current hash: a
    removed file's row goes, a new or changed file's row is replaced."""
    ledgers = sorted((example_sources / "vandalism").glob("*.csv"))

    def kept(con) -> dict[str, str]:
        return dict(
            con.execute(
                f"select file, sha256 from {warehouse.FILE_STATS} where source = ?", [LEDGER.name]
            ).fetchall()
        )

    def delivered() -> dict[str, str]:
        return {
            f"vandalism/{p.name}": file_sha256(p)
            for p in sorted((example_sources / "vandalism").glob("*.csv"))
        }

    with connect(warehouse_file) as con:
        ingest(LEDGER, example_sources, con)
        assert kept(con) == delivered()
        ledgers[0].unlink()
        ledgers[1].write_bytes(ledgers[1].read_bytes() + ledgers[2].read_bytes().split(b"\n", 1)[1])
        result = ingest(LEDGER, example_sources, con)
        assert result.files_removed == [f"vandalism/{ledgers[0].name}"]
        assert result.files_loaded == [f"vandalism/{ledgers[1].name}"]
        assert kept(con) == delivered()
