"""Validation of a load, per file (`validate_raw` through `warehouse.ingest`): GX on the new or
changed files' rows only, table-scope rules in SQL over the rows raw holds after the swap, and
for a source without any changed file neither GX nor a transaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boligsocial.loading.warehouse import connect, ingest
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.validation.suites import ERROR, WARNING
from boligsocial.validation.validate import ValidationFailed, raw_validator

LOADED = ("areas", "departments", "police_incidents", "area_statistics", "vandalism_ledger")


def _load(con, sources: Path, name: str, run_id: str | None = None):
    spec = SOURCES_BY_NAME[name]
    reports = []
    result = ingest(spec, sources, con, validate=raw_validator(spec, reports, run_id=run_id))
    [report] = reports
    return result, report


def _snapshot(con, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


@pytest.fixture
def con(example_sources: Path, warehouse_file: Path):
    with connect(warehouse_file) as con:
        for name in LOADED:
            _, report = _load(con, example_sources, name)
            assert report.passed, report.message()
        yield con


def test_an_unchanged_source_is_neither_read_nor_written(con, example_sources: Path):
    before = _snapshot(con, "raw.police_incidents")
    result, report = _load(con, example_sources, "police_incidents")
    assert not result.changed and report.passed
    assert report.rows == 0 and report.result_path is None  # no GX run
    assert report.scope.startswith("nothing changed")
    # Only the reference rule (område against raw.areas) is checked again, in SQL.
    assert [(o.expectation, o.column) for o in report.outcomes] == [
        ("expect_column_values_to_be_in_set", "_omraade_key")
    ]
    assert _snapshot(con, "raw.police_incidents") == before


def test_a_new_file_alone_through_gx_and_its_keys_against_the_kept_files(
    con, example_sources: Path, tmp_path: Path, monkeypatch
):
    monkeypatch.setenv("BOLIGSOCIAL_GX_RESULTS", str(tmp_path / "results"))
    before = _snapshot(con, "raw.police_incidents")
    (example_sources / "police" / "incidents_2025.csv").write_text(
        "anmeldelse_id;dato;område;kategori\n"
        "SJP-2025-00001;02-01-2025;Sydbyen;Tyveri\n"
        "SJP-2014-00001;03-01-2025;Sydbyen;Tyveri\n",  # the id of a 2014 incident
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as failed:
        _load(con, example_sources, "police_incidents", run_id="run-1")
    report = failed.value.report
    assert report.rows == 2  # the new file's rows only
    [duplicate] = report.failures(ERROR)
    assert duplicate.expectation == "expect_column_values_to_be_unique"
    assert duplicate.unexpected_count == 2  # the new row and the kept 2014 row
    assert duplicate.samples[0] == {
        "file": "police/incidents_2025.csv",
        "row": 3,
        "value": "SJP-2014-00001",
    }
    assert duplicate.samples[1]["file"] == "police/incidents_2014.csv"
    assert report.message().startswith(
        "police/incidents_2025.csv, row 3, column anmeldelse_id: anmeldelse_id is unique"
    )
    document = json.loads(report.result_path.read_text(encoding="utf-8"))
    assert document["success"] is False
    assert [o["expectation"] for o in document["meta"]["table_scope"] if not o["success"]] == [
        "expect_column_values_to_be_unique"
    ]
    assert _snapshot(con, "raw.police_incidents") == before


def test_a_reference_change_is_checked_against_an_unchanged_source(con, example_sources: Path):
    org, number, file, row = con.execute(
        "select selskab, afdeling, _source_file, _source_row from raw.vandalism_ledger "
        "order by _source_file, _source_row limit 1"
    ).fetchone()
    departments = example_sources / "reference" / "departments.csv"
    lines = departments.read_text(encoding="utf-8").splitlines(keepends=True)
    departments.write_text(
        "".join(line for line in lines if not line.startswith(f"{org};{number};")),
        encoding="utf-8",
    )
    _, report = _load(con, example_sources, "departments")
    assert report.passed
    with pytest.raises(ValidationFailed) as failed:
        _load(con, example_sources, "vandalism_ledger")
    [unknown] = failed.value.report.failures(ERROR)
    assert unknown.header == "Selskab/Afdeling"
    assert unknown.samples[0] == {"file": file, "row": row, "value": f"{org}/{number}"}


def test_residents_change_against_the_kept_previous_year(con, example_sources: Path):
    previous = example_sources / "statistics" / "area_statistics_2024.csv"
    lines = previous.read_text(encoding="utf-8-sig").splitlines()
    bef = next(i for i, line in enumerate(lines) if ";BEF;" in line)
    fields = lines[bef].split(";")
    fields[-1] = str(int(fields[-1]) * 3)
    lines[bef] = ";".join(fields)
    new = [line.replace(";2024;", ";2025;") for line in lines]
    (example_sources / "statistics" / "area_statistics_2025.csv").write_text(
        "\n".join(new) + "\n", encoding="utf-8"
    )
    result, report = _load(con, example_sources, "area_statistics")
    assert result.files_loaded == ["statistics/area_statistics_2025.csv"]
    assert report.passed and report.rows == len(lines) - 1
    [jump] = report.failures(WARNING)
    assert jump.column == "_residents_change"
    assert jump.samples[0]["file"] == "statistics/area_statistics_2025.csv"
    assert jump.samples[0]["row"] == bef + 1 and jump.samples[0]["value"] == pytest.approx(2.0)
