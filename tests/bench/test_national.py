"""The national generator writes a delivery the readers and the warehouse accept.

A tiny size (5 areas, 4 organisations, 2022–2025) with seed 9, whose ledger organisations
between them use UTF-8 with and without BOM, cp1252, CRLF and other header orders.
"""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from boligsocial.loading.warehouse import ingest
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME
from sources.synthetic import national

# The slow tier: a national delivery generated and loaded.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    return national.generate(national.TINY, seed=9, cache=tmp_path_factory.mktemp("cache"))


def test_same_seed_same_bytes(delivery, tmp_path):
    again = national.generate(national.TINY, seed=9, cache=tmp_path)
    ours = sorted(p.relative_to(delivery.root) for p in delivery.root.rglob("*.csv"))
    theirs = sorted(p.relative_to(again.root) for p in again.root.rglob("*.csv"))
    assert ours == theirs
    for rel in ours:
        assert (delivery.root / rel).read_bytes() == (again.root / rel).read_bytes(), rel


def test_cached_once(delivery):
    stamp = delivery.root / "COMPLETE"
    before = stamp.stat().st_mtime_ns
    assert national.generate(national.TINY, seed=9, cache=delivery.root.parent) == delivery
    assert stamp.stat().st_mtime_ns == before


def test_ledger_conventions(delivery):
    files = sorted((delivery.sources / "vandalism").glob("*.csv"))
    raw = [p.read_bytes() for p in files]
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw)
    assert any(b"\r\n" in b for b in raw)
    cp1252 = [b for b in raw if not _is_utf8(b)]
    assert cp1252 and all(b.decode("cp1252") for b in cp1252)
    headers = {b.decode("utf-8-sig" if _is_utf8(b) else "cp1252").splitlines()[0] for b in raw}
    assert len(headers) > 1  # column order or case varies between organisations


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_every_file_reads_and_the_batch_reader_agrees(delivery):
    for spec in SOURCES:
        for path in spec.files(delivery.sources):
            assert len(spec.read(path)) > 0, path
    spec = SOURCES_BY_NAME["vandalism_ledger"]
    files = spec.files(delivery.sources)
    one = pd.concat(
        [spec.read(p).assign(_file_index=i) for i, p in enumerate(files)], ignore_index=True
    )
    many = spec.read_many(files)
    key = ["_file_index", "_source_row"]
    pd.testing.assert_frame_equal(
        one.sort_values(key).reset_index(drop=True),
        many.sort_values(key).reset_index(drop=True)[one.columns],
    )


def test_loads_and_the_increment_adds_only_its_files(delivery, tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    for spec in SOURCES:
        if spec.files(delivery.sources) or not spec.optional:
            ingest(spec, delivery.sources, con)
    ledger = SOURCES_BY_NAME["vandalism_ledger"]
    lines = con.execute(
        "select count(*), count(distinct (selskab, sagsnr, linje)) from raw.vandalism_ledger"
    ).fetchone()
    assert lines[0] > lines[1] > 0  # exports overlap
    changed = con.execute(
        "select count(*) from (select selskab, sagsnr, linje from raw.vandalism_ledger "
        "group by all having count(distinct beloeb) > 1)"
    ).fetchone()[0]
    assert changed > 0  # later exports change amounts
    assert con.execute("select count(*) from raw.vandalism_ledger where beloeb < 0").fetchone()[0]
    # The months of a delivery are whole: the increment is the month after the last export.
    periods = con.execute("select max(export_period) from raw.vandalism_ledger").fetchone()[0]
    increment = sorted((delivery.increment / "vandalism").glob("*.csv"))
    assert increment and all(p.stem.split("_")[1] > periods for p in increment)

    sources = tmp_path / "sources"
    (sources / "vandalism").mkdir(parents=True)
    for path in [*delivery.sources.glob("vandalism/*.csv"), *increment]:
        shutil.copy2(path, sources / "vandalism" / path.name)  # a link out would be refused
    result = ingest(ledger, sources, con)
    assert result.files_loaded == [f"vandalism/{p.name}" for p in increment]
    assert not result.files_removed
