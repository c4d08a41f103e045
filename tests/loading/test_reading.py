"""The reader process (`boligsocial.loading.reading`, a ProcessPoolExecutor of one): a file's
error found there names the file, row and column in the loader; a reader killed for real fails
the load and keeps raw as it was; a loader killed for real takes its reader with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boligsocial.loading import reading
from boligsocial.loading.reading import ReaderDied
from boligsocial.loading.warehouse import STAGING_SCHEMA, connect, ingest
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.errors import SourceError

LEDGER = SOURCES_BY_NAME["vandalism_ledger"]


@pytest.fixture
def small_chunks(monkeypatch, tmp_path: Path) -> None:
    """The example's ledger in many chunks: every chunk after the first is the reader's."""
    settings = tmp_path / "small-chunks.toml"
    settings.write_text("[limits]\nload_chunk_bytes = 4096\n")
    monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(settings))


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _readers(pid: int) -> list[int]:
    """The reader processes among `pid`'s children (a test run has other children too, and
    multiprocessing its resource tracker): the executor's spawned workers."""
    found = []
    for child in _children(pid):
        try:
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
                found.append(child)
        except FileNotFoundError:  # ended since it was listed
            pass
    return found


def _ended(pid: int) -> bool:
    """Gone, or a zombie no one has reaped yet (its parent was killed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _reference_data(con, sources: Path) -> None:
    for name in ("areas", "departments"):
        ingest(SOURCES_BY_NAME[name], sources, con)


def _raw_state(con) -> tuple[int, int]:
    rows = con.execute(f"select count(*) from {LEDGER.table}").fetchone()[0]
    staging = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ?", [STAGING_SCHEMA]
    ).fetchone()[0]
    return rows, staging


def test_a_reader_error_names_the_file_row_and_column(
    example_sources: Path, warehouse_file: Path, small_chunks
):
    last = sorted((example_sources / "vandalism").glob("*.csv"))[-1]
    lines = last.read_bytes().split(b"\n")
    header = lines[0].decode("utf-8-sig").split(";")
    column = next(i for i, name in enumerate(header) if name.strip().lower() == "beløb")
    fields = lines[1].split(b";")
    fields[column] = b"tolv kroner"
    last.write_bytes(b"\n".join([lines[0], b";".join(fields), *lines[2:]]))
    with connect(warehouse_file) as con:
        _reference_data(con, example_sources)
        with pytest.raises(SourceError) as raised:
            ingest(LEDGER, example_sources, con)
        assert _raw_state(con) == (0, 0)
    where = (raised.value.file, raised.value.row, raised.value.column)
    assert where == (str(last), 2, header[column].strip())  # the header as the file writes it
    assert "'tolv kroner' is not an amount" in raised.value.message
    assert not [pid for pid in _readers(os.getpid()) if not _ended(pid)]


class KillsTheReader:
    """A validator that kills the reader process, for real, at the first chunk."""

    def rows(self, incoming, rows) -> None:
        for pid in _readers(os.getpid()):
            os.kill(pid, signal.SIGKILL)

    def table(self, incoming) -> None:
        pass


@pytest.mark.slow  # a killed process
def test_a_killed_reader_fails_the_load_and_the_next_load_works(
    example_sources: Path, warehouse_file: Path, small_chunks
):
    with connect(warehouse_file) as con:
        _reference_data(con, example_sources)
        with pytest.raises(ReaderDied, match=r"vandalism_ledger's files ended"):
            ingest(LEDGER, example_sources, con, validate=KillsTheReader())
        assert _raw_state(con) == (0, 0)
        result = ingest(LEDGER, example_sources, con)
        assert _raw_state(con) == (result.row_count, 0) and result.row_count > 0


LOADER = """
import sys, time
from pathlib import Path
from boligsocial.loading.reading import read_chunks
from boligsocial.loading.warehouse import _chunks, delivered_paths
from boligsocial.sources.catalog import SOURCES_BY_NAME

spec = SOURCES_BY_NAME["vandalism_ledger"]
files = delivered_paths(spec, Path(sys.argv[1]))
chunks = read_chunks(spec, _chunks(files, dict.fromkeys(files, 4096), 4096))
next(chunks)
print("first chunk read", flush=True)
time.sleep(600)
"""


@pytest.mark.slow  # a killed process
def test_the_reader_ends_when_its_loader_is_killed(example_sources: Path):
    loader = subprocess.Popen(
        [sys.executable, "-c", LOADER, str(example_sources)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert loader.stdout.readline().strip() == "first chunk read"
        [reader] = _readers(loader.pid)
        loader.kill()
        loader.wait()
        deadline = time.monotonic() + 30
        while not _ended(reader) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ended(reader), "the reader outlived its loader"
    finally:
        loader.kill()


def test_one_chunk_is_read_in_process(example_sources: Path, warehouse_file: Path, monkeypatch):
    started = []
    monkeypatch.setattr(reading, "ProcessPoolExecutor", started.append)
    with connect(warehouse_file) as con:
        _reference_data(con, example_sources)
        assert ingest(LEDGER, example_sources, con).row_count > 0
    assert started == []
