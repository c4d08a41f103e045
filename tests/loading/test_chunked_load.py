"""A load read, validated and staged a chunk at a time ([limits] load_chunk_bytes) gives the
same raw table and the same validation report as one chunk, and a rejected load leaves raw as
it was."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from boligsocial.loading import warehouse
from boligsocial.loading.warehouse import connect, ingest
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.validation.validate import ValidationFailed, raw_validator

LEDGER = SOURCES_BY_NAME["vandalism_ledger"]
# The example's 106 ledger files (195 KiB) in a dozen chunks: many chunks, each validated by GX.
SMALL_CHUNK = 16384


def _chunk_bytes(monkeypatch, tmp_path: Path, value: int) -> None:
    settings = tmp_path / f"chunks-{value}.toml"
    settings.write_text(f"[limits]\nload_chunk_bytes = {value}\n")
    monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(settings))


def _load(example_sources: Path, path: Path, run_id: str):
    with connect(path) as con:
        for name in ("areas", "departments"):
            ingest(SOURCES_BY_NAME[name], example_sources, con)
        reports = []
        chunks = []
        real = warehouse.read_chunks
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                warehouse,
                "read_chunks",
                lambda spec, files: chunks.extend(files) or real(spec, files),
            )
            with contextlib.suppress(ValidationFailed):
                ingest(
                    LEDGER,
                    example_sources,
                    con,
                    validate=raw_validator(LEDGER, reports, run_id=run_id),
                )
        rows = con.execute(
            f"select * exclude (_loaded_at) from {LEDGER.table} order by all"
        ).fetchall()
        staging = con.execute(
            "select count(*) from duckdb_tables() where schema_name = ?", [warehouse.STAGING_SCHEMA]
        ).fetchone()[0]
    return rows, reports[0], chunks, staging


def _outcomes(report) -> list[tuple]:
    return [
        (
            o.order,
            o.success,
            o.unexpected_count,
            o.element_count,
            [s.get("file") for s in o.samples],
        )
        for o in sorted(report.outcomes, key=lambda o: o.order)
    ]


def test_chunks_give_the_same_rows_and_report_as_one(
    example_sources: Path, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("BOLIGSOCIAL_GX_RESULTS", str(tmp_path / "results"))
    files = len(list((example_sources / "vandalism").glob("*.csv")))
    _chunk_bytes(monkeypatch, tmp_path, 1 << 30)
    whole, whole_report, whole_chunks, _ = _load(example_sources, tmp_path / "one.duckdb", "one")
    _chunk_bytes(monkeypatch, tmp_path, SMALL_CHUNK)
    split, split_report, split_chunks, staging = _load(
        example_sources, tmp_path / "many.duckdb", "many"
    )
    assert len(whole_chunks) == 1 and len(split_chunks) > 10
    assert sum(map(len, split_chunks)) == files
    assert split == whole and len(split) > 0
    assert staging == 0  # the staging table goes with the load
    # The example's ledger has lines of a department outside its area on their date: a
    # warning, counted over every chunk.
    assert not split_report.warnings_passed
    assert _outcomes(split_report) == _outcomes(whole_report)
    assert split_report.rows == whole_report.rows == len(split)
    # One GX result for the load, its counts summed over the chunks.
    saved = {
        name: json.loads((tmp_path / "results" / name / "vandalism_ledger.json").read_text())
        for name in ("one", "many")
    }
    for one, many in zip(saved["one"]["results"], saved["many"]["results"], strict=True):
        assert many["success"] == one["success"]
        for key in ("element_count", "unexpected_count"):
            assert many["result"].get(key) == one["result"].get(key)
    assert (
        saved["many"]["statistics"]["successful_expectations"]
        == (saved["one"]["statistics"]["successful_expectations"])
    )


def test_an_error_in_a_later_chunk_rejects_the_load_and_keeps_raw(
    example_sources: Path, tmp_path: Path, monkeypatch
):
    _chunk_bytes(monkeypatch, tmp_path, SMALL_CHUNK)
    ledgers = sorted((example_sources / "vandalism").glob("*.csv"))
    last = ledgers[-1]
    text = last.read_bytes()
    header = text.split(b"\n", 1)[0].lower().split(b";")
    column = next(i for i, name in enumerate(header) if name.startswith(b"linje"))
    first_line = text.split(b"\n")[1]
    fields = first_line.split(b";")
    fields[column] = b"0"  # Linje must be at least 1: a GX row rule
    last.write_bytes(text.replace(first_line, b";".join(fields), 1))
    rows, report, chunks, staging = _load(example_sources, tmp_path / "w.duckdb", "bad")
    assert len(chunks) > 1
    assert not report.passed
    [failure] = report.failures("critical")
    assert failure.column == "linje" and failure.unexpected_count == 1
    assert failure.samples[0]["file"] == f"vandalism/{last.name}"
    assert rows == [] and staging == 0
