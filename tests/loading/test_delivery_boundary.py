"""What a delivery is, and that what is stored is what was read: hidden files are no part of it,
the sources folder is a boundary for symbolic links, and a file rewritten between its hashing
and its reading is never stored under the other version's hash."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from boligsocial.loading.warehouse import connect, file_sha256, ingest
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.errors import SourceError
from boligsocial.sources.police import read_police_incidents

INCIDENTS = SOURCES_BY_NAME["police_incidents"]
EFFORTS = SOURCES_BY_NAME["efforts"]
LEDGER = SOURCES_BY_NAME["vandalism_ledger"]
SECRET = "hemmelig-adgangskode-42"


def rows(con, table: str) -> list[tuple]:
    return con.execute(f"select * exclude (_loaded_at) from {table} order by all").fetchall()


def test_hidden_files_are_no_part_of_a_delivery(example_sources: Path, tmp_path: Path):
    """macOS copies and folder files, Excel's lock file: ignored, the source loads as without."""
    with connect(tmp_path / "clean.duckdb") as con:
        for spec in (LEDGER, EFFORTS):
            ingest(spec, example_sources, con)
        clean = {spec.table: rows(con, spec.table) for spec in (LEDGER, EFFORTS)}

    apple_double = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02"
    (example_sources / "vandalism" / "._FOB_2021-12.csv").write_bytes(apple_double)
    (example_sources / "vandalism" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (example_sources / "efforts" / "~$indsatser.xlsx").write_bytes(b"\x0cowner\x00" * 20)
    (example_sources / "efforts" / ".~lock.indsatser.csv#").write_text("x")
    with connect(tmp_path / "hidden.duckdb") as con:
        for spec in (LEDGER, EFFORTS):
            result = ingest(spec, example_sources, con)
            assert not any(Path(f).name.startswith((".", "~$")) for f in result.files)
            assert rows(con, spec.table) == clean[spec.table]


def _outside_file(tmp_path: Path) -> Path:
    """A file outside the sources folder that a reader would reject, quoting a value of it."""
    target = tmp_path / "outside" / "incidents_2015.csv"
    target.parent.mkdir()
    target.write_text(f"anmeldelse_id;dato;område;kategori\nX;{SECRET};Parkvej;Tyveri\n")
    with pytest.raises(SourceError, match=SECRET):  # what a reader would show of it
        read_police_incidents(target)
    return target


def test_a_symlinked_file_leading_out_of_the_sources_folder_is_refused(
    example_sources: Path, warehouse_file: Path, tmp_path: Path
):
    link = example_sources / "police" / "incidents_2015.csv"
    link.unlink()
    link.symlink_to(_outside_file(tmp_path))
    with connect(warehouse_file) as con, pytest.raises(SourceError) as caught:
        ingest(INCIDENTS, example_sources, con)
    assert caught.value.file == str(link)
    assert "symbolic link to outside the sources folder" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_symlinked_folder_leading_out_of_the_sources_folder_is_refused(
    example_sources: Path, warehouse_file: Path, tmp_path: Path
):
    outside = _outside_file(tmp_path).parent
    shutil.rmtree(example_sources / "police")
    (example_sources / "police").symlink_to(outside)
    with connect(warehouse_file) as con, pytest.raises(SourceError) as caught:
        ingest(INCIDENTS, example_sources, con)
    assert caught.value.file == str(example_sources / "police")
    assert SECRET not in str(caught.value)


def test_a_symlink_that_stays_inside_the_sources_folder_is_read(
    example_sources: Path, warehouse_file: Path
):
    kept = example_sources / "archive" / "incidents_2015.csv"
    kept.parent.mkdir()
    link = example_sources / "police" / "incidents_2015.csv"
    link.rename(kept)
    link.symlink_to(Path("..") / "archive" / kept.name)
    with connect(warehouse_file) as con:
        assert "police/incidents_2015.csv" in ingest(INCIDENTS, example_sources, con).files_loaded


# The reader of the test below: a delivery still being copied when the run reads it (the file
# was hashed whole, then rewritten to its first half before the reader opens it).
def _read_while_rewritten(path: Path):
    whole = path.read_bytes()
    path.write_bytes(whole[: whole.index(b"\n", len(whole) // 2) + 1])
    try:
        return read_police_incidents(path)
    finally:
        path.write_bytes(whole)  # the copy completes: the same bytes as were hashed


def _only_incidents_2015(example_sources: Path) -> Path:
    for path in (example_sources / "police").glob("incidents_*.csv"):
        if path.name != "incidents_2015.csv":
            path.unlink()
    return example_sources / "police" / "incidents_2015.csv"


REWRITTEN = dataclasses.replace(
    INCIDENTS, reader=f"{__name__}:_read_while_rewritten", batch_reader=None
)


def test_a_file_rewritten_between_hashing_and_reading_is_not_stored_under_the_hash(
    example_sources: Path, warehouse_file: Path
):
    path = _only_incidents_2015(example_sources)
    with connect(warehouse_file) as con:
        ingest(INCIDENTS, example_sources, con)
        before = con.execute(f"select * from {INCIDENTS.table} order by all").fetchall()
        # A changed file raw holds is hashed first (to tell it from an unchanged one).
        path.write_bytes(path.read_bytes().replace(b"Tyveri", b"Indbrud", 1))
        with pytest.raises(SourceError) as caught:
            ingest(REWRITTEN, example_sources, con)
        assert caught.value.file == str(path)
        assert caught.value.message.startswith("file changed while being read")
        assert con.execute(f"select * from {INCIDENTS.table} order by all").fetchall() == before


def test_a_new_file_is_stored_under_the_hash_of_the_bytes_read_and_loaded_again_when_complete(
    example_sources: Path, warehouse_file: Path
):
    path = _only_incidents_2015(example_sources)
    lines = path.read_bytes().count(b"\n") - 1
    with connect(warehouse_file) as con:
        # Not hashed before reading: its rows are stored under the hash of the half read.
        first = ingest(REWRITTEN, example_sources, con)
        assert first.rows_loaded < lines
        [(stored,)] = con.execute(
            f"select distinct _source_sha256 from {INCIDENTS.table}"
        ).fetchall()
        assert stored != file_sha256(path)
        # The copy has completed since (its stat changed): the next run loads the whole file.
        again = ingest(INCIDENTS, example_sources, con)
        assert again.files_loaded == ["police/incidents_2015.csv"]
        assert again.row_count == lines
        [(stored,)] = con.execute(
            f"select distinct _source_sha256 from {INCIDENTS.table}"
        ).fetchall()
        assert stored == file_sha256(path)
