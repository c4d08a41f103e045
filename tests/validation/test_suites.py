"""Each GX suite passes on the bundled example and fails, naming file, row and column, on
crafted bad rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from boligsocial.configuration import settings
from boligsocial.loading.reading import read_files
from boligsocial.loading.warehouse import source_files
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME
from boligsocial.validation.data_docs import build_data_docs
from boligsocial.validation.reference import Reference
from boligsocial.validation.suites import ERROR, WARNING
from tests.support.validation import validate_load


def _rows(name: str) -> pd.DataFrame:
    spec = SOURCES_BY_NAME[name]
    files = source_files(spec, settings.EXAMPLE_SOURCES_DIR)
    return read_files(spec, files)


@pytest.fixture(scope="module")
def example() -> dict[str, pd.DataFrame]:
    return {spec.name: _rows(spec.name) for spec in SOURCES}


@pytest.fixture(scope="module")
def reference(example) -> dict[str, pd.DataFrame]:
    """The reference tables raw holds while a source is loaded."""
    return {"areas": example["areas"], "departments": example["departments"]}


def _validate(name: str, frame: pd.DataFrame, reference: dict[str, pd.DataFrame], **kwargs):
    return validate_load(name, frame, **reference, **kwargs)


def test_every_source_has_a_suite_and_nothing_else_does():
    """GX checks what arrives; the marts' rules are dbt tests of the models (no mart suite)."""
    names = {p.stem for p in settings.EXPECTATIONS_DIR.glob("*.json")}
    assert names == {s.name for s in SOURCES}
    for path in settings.EXPECTATIONS_DIR.glob("*.json"):
        suite = json.loads(path.read_text(encoding="utf-8"))
        assert suite["name"] == path.stem
        assert {e["severity"] for e in suite["expectations"]} <= {ERROR, WARNING}


def test_the_reference_parameters_are_the_ones_reference_gives(reference):
    assert set(Reference(**reference).parameters()) == set(Reference.SOURCE_OF_PARAMETER)


@pytest.mark.parametrize("spec", SOURCES, ids=lambda spec: spec.name)
def test_a_source_looks_up_the_references_the_catalog_says(spec):
    """The catalog's `references` (what loads first, what check skips when a reference
    cannot be read) are the raw tables whose values the suite's rules look up."""
    suite = json.loads((settings.EXPECTATIONS_DIR / f"{spec.name}.json").read_text("utf-8"))
    used = {
        Reference.SOURCE_OF_PARAMETER[values["$PARAMETER"]]
        for e in suite["expectations"]
        if isinstance(values := e["kwargs"].get("value_set"), dict)
        and values["$PARAMETER"] != "delivered_files"
    }
    assert used == set(spec.references)


@pytest.mark.parametrize("name", [s.name for s in SOURCES])
def test_suite_passes_on_the_example(example, reference, name):
    report = _validate(name, example[name], reference)
    assert report.passed, report.message()
    assert report.rows == len(example[name])


def test_the_examples_known_warning_is_reported_not_blocking(example, reference):
    # The example's SAB department 1 leaves its area while ledger lines still come in.
    report = _validate("vandalism_ledger", example["vandalism_ledger"], reference)
    assert report.passed
    [warning] = report.failures(WARNING)
    assert warning.header == "Afdeling" and warning.samples[0]["file"].startswith("vandalism/SAB_")


def _edit(frame: pd.DataFrame, position: int, **values) -> pd.DataFrame:
    frame = frame.copy()
    for column, value in values.items():
        frame.loc[frame.index[position], column] = value
    return frame


def _row(frame: pd.DataFrame, position: int) -> tuple[str, int]:
    return frame["_source_file"].iat[position], int(frame["_source_row"].iat[position])


BAD = [
    ("area_statistics", 4, {"maal": "BEF_99"}, "expect_column_values_to_be_in_set", "MÅL"),
    ("area_statistics", 7, {"indhold": -5.0}, "expect_column_values_to_be_between", "INDHOLD"),
    ("area_statistics", 3, {"tid": 1999}, "expect_column_pair_values_to_be_equal", "TID"),
    ("benchmarks", 2, {"niveau": "amt"}, "expect_column_values_to_be_in_set", "NIVEAU"),
    ("benchmarks", 2, {"indhold": 140.0}, "expect_column_values_to_be_between", "INDHOLD"),
    ("tryghedsindeks", 3, {"indeks": 140.0}, "expect_column_values_to_be_between", "indeks"),
    ("tryghedsindeks", 3, {"omraade": "Atlantis"}, "expect_column_values_to_be_in_set", "område"),
    ("police_incidents", 9, {"dato": "2001-05-01"}, "expect_column_pair_values_to_be_equal",
     "dato"),
    ("police_incidents", 9, {"omraade": "Atlantis"}, "expect_column_values_to_be_in_set",
     "område"),
    ("vandalism_ledger", 5, {"afdeling": 999}, "expect_column_values_to_be_in_set",
     "Selskab/Afdeling"),
    ("vandalism_ledger", 5, {"selskab": "XX"}, "expect_column_pair_values_to_be_equal",
     "Selskab"),
    ("efforts", 6, {"spor": "andet"}, "expect_column_values_to_be_in_set", "spor"),
    ("efforts", 6, {"budget_kr": "-10.00"}, "expect_column_values_to_be_between", "budget_kr"),
    ("efforts", 6, {"aarsvaerk": "-0.5000"}, "expect_column_values_to_be_between", "årsværk"),
    ("efforts", 6, {"omraade": "ATLANTIS"}, "expect_column_values_to_be_in_set", "område"),
    ("departments", 2, {"area_id": "ATLANTIS"}, "expect_column_values_to_be_in_set", "area_id"),
    ("departments", 2, {"dwellings": -1}, "expect_column_values_to_be_between", "dwellings"),
    ("areas", 1, {"region_code": "85"}, "expect_column_values_to_match_regex", "region_code"),
    ("statbank", 3, {"dimensions": "{not json"}, "expect_column_values_to_be_json_parseable",
     "dimensions"),
    ("official_list", 3, {"omraade": "Atlantis"}, "expect_column_values_to_be_in_set", "område"),
    ("official_list", 3, {"kategori": "ghetto"}, "expect_column_values_to_be_null", "kategori"),
    ("official_list", 16, {"kategori": "hardt_ghetto"}, "expect_column_values_to_be_null",
     "kategori"),
    ("official_list", 3, {"aar": 1899}, "expect_column_values_to_be_between", "år"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "position", "values", "expectation", "header"), BAD)
def test_suite_fails_on_a_bad_row_naming_file_and_row(
    example, reference, name, position, values, expectation, header
):
    frame = _edit(example[name], position, **values)
    report = _validate(name, frame, reference)
    assert not report.passed
    [failed] = [o for o in report.failures(ERROR) if o.expectation == expectation]
    file, row = _row(frame, position)
    assert failed.header == header
    assert failed.unexpected_count == 1
    assert failed.samples[0]["file"] == file and failed.samples[0]["row"] == row
    assert report.message().startswith(f"{file}, row {row}, column {header}: ")
    # In words, not GX's names: the rule's type is in the result and the Data Docs.
    assert failed.summary().endswith("; 1 row(s) of the files validated")
    assert "expect_" not in failed.summary()


def test_duplicate_key_and_incompleteness(example, reference):
    frame = example["area_statistics"]
    duplicated = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    report = _validate("area_statistics", duplicated, reference)
    [failed] = report.failures(ERROR)
    assert failed.expectation == "expect_compound_columns_to_be_unique"
    assert failed.unexpected_count == 2
    incomplete = frame.drop(index=frame.index[frame["maal"] == "BEF_30_59"][:1])
    report = _validate("area_statistics", incomplete, reference)
    [failed] = report.failures(ERROR)
    assert failed.column == "_missing_maal" and failed.samples[0]["value"] == "BEF_30_59"


def test_a_file_without_rows_fails(example, reference):
    frame = example["police_incidents"]
    files = [*sorted(frame["_source_file"].unique()), "police/incidents_2030.csv"]
    report = _validate("police_incidents", frame, reference, files=files)
    [failed] = report.failures(ERROR)
    assert failed.samples == [
        {"file": "police/incidents_2030.csv", "value": "police/incidents_2030.csv"}
    ]


def test_residents_jump_is_a_warning(example, reference):
    frame = example["area_statistics"].copy()
    bef = frame.index[(frame["maal"] == "BEF") & (frame["tid"] == 2016)][0]
    frame.loc[bef, "indhold"] = frame.loc[bef, "indhold"] * 3
    report = _validate("area_statistics", frame, reference)
    assert report.passed
    [warning] = report.failures(WARNING)
    assert warning.samples[0]["row"] == frame.loc[bef, "_source_row"]
    assert warning.samples[0]["value"] > 0.5


def test_results_json_and_data_docs(example, reference, tmp_path):
    frame = _edit(example["efforts"], 1, spor="andet")
    report = _validate("efforts", frame, reference, run_id="run-1", results_dir=tmp_path / "r")
    document = json.loads(report.result_path.read_text(encoding="utf-8"))
    assert report.result_path == tmp_path / "r" / "run-1" / "efforts.json"
    assert document["success"] is False and document["meta"]["run_id"] == "run-1"
    index = build_data_docs(tmp_path / "r", tmp_path / "site")
    assert index.exists()
    pages = list((tmp_path / "site" / "validations").rglob("*.html"))
    assert len(pages) == 1 and "andet" in pages[0].read_text(encoding="utf-8")


def test_official_list_names_the_codes_in_force_and_the_duplicate(example, reference):
    frame = example["official_list"]
    # 2014 is under sub_2013 only; Motalavej's 2014 row becomes a second Ringparken row.
    frame = _edit(frame, 3, kategori="udsat", omraade=" RINGPARKEN")
    report = _validate("official_list", frame, reference)
    failed = {o.expectation: o for o in report.failures(ERROR)}
    assert set(failed) == {
        "expect_column_values_to_be_null",
        "expect_compound_columns_to_be_unique",
    }
    file, row = _row(frame, 3)
    kategori = failed["expect_column_values_to_be_null"]
    assert kategori.samples == [{"file": file, "row": row, "value": "udsat (2014: saerligt_udsat)"}]
    duplicate = failed["expect_compound_columns_to_be_unique"]
    assert duplicate.header == "år, område" and duplicate.unexpected_count == 2
    assert {s["row"] for s in duplicate.samples} == {row - 1, row}


def test_a_rule_every_row_fails_keeps_exact_counts_and_few_rows(example, reference, tmp_path):
    # Every ledger line with a date that is no date, indexed from 1000 (not 0): the count is
    # exact, the samples are the first lines of the files, and the kept GX result lists only
    # the first unexpected rows, each with the line's file and row.
    frame = example["vandalism_ledger"].assign(dato="31.12.2024")
    frame.index += 1000
    report = _validate("vandalism_ledger", frame, reference, run_id="run-1", results_dir=tmp_path)
    [failed] = [o for o in report.failures(ERROR) if o.column == "dato"]
    assert failed.unexpected_count == len(frame)
    ordered = frame.sort_values(["_source_file", "_source_row"])
    assert [(s["file"], s["row"]) for s in failed.samples] == [
        (f, int(r)) for f, r in ordered[["_source_file", "_source_row"]].head(10).to_numpy()
    ]
    document = json.loads(report.result_path.read_text(encoding="utf-8"))
    [result] = [
        r["result"]
        for r in document["results"]
        if r["expectation_config"]["type"] == "expect_column_values_to_match_regex"
        and r["expectation_config"]["kwargs"]["column"] == "dato"
    ]
    rows = result["partial_unexpected_index_list"]
    assert result["unexpected_count"] == len(frame) and 0 < len(rows) <= 20
    lines = set(zip(frame["_source_file"], frame["_source_row"], strict=True))
    assert all(
        r["dato"] == "31.12.2024" and (r["_source_file"], r["_source_row"]) in lines for r in rows
    )
