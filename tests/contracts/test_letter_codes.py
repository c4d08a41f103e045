"""A spec-valid delivery whose housing organisations have Danish letter codes (SOURCES.md:
"letters and digits, no `_`") loads like the bundled example: `check` says OK, and every mart
cell equals the example's, the codes aside. The code's one declaration is the catalog's
ORGANISATION_CODE; the reader, the suites and the templates' Table Schema take it from there."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from boligsocial.cli import check
from boligsocial.configuration import settings
from boligsocial.sources.catalog import ORGANISATION_CODE, SOURCES_BY_NAME
from boligsocial.validation.validate import raw_validator
from tests.dbt.conftest import dbt_build, load_sources

pytestmark = pytest.mark.slow

# The example's codes, and letter codes with æ, ø, å (and a digit).
CODES = {"FOB": "ØBO", "BK": "ÆRØ", "SAB": "SÅB", "SB": "BØ2", "SKB": "ÅKB"}
CODE_HEADERS = ("housing_org", "boligorganisation", "selskab")


def _rewrite_codes(path: Path) -> None:
    """The organisation code column of one file, in the file's own encoding (some ledger
    exports are Windows-1252) and line ends; its header may be anywhere in the row."""
    data = path.read_bytes()
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("cp1252"), "cp1252"
    newline = "\r\n" if "\r\n" in text else "\n"
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    [column] = [i for i, h in enumerate(rows[0]) if h.casefold() in CODE_HEADERS]
    for row in rows[1:]:
        row[column] = CODES[row[column]]
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator=newline).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))


def letter_coded(delivery: Path) -> Path:
    """The delivery with its organisations' codes replaced by CODES', in every file and name."""
    _rewrite_codes(delivery / "reference" / "departments.csv")
    for path in sorted((delivery / "statistics").glob("area_statistics_*.csv")):
        _rewrite_codes(path)
    for path in sorted((delivery / "vandalism").glob("*.csv")):
        _rewrite_codes(path)
        org, _, period = path.name.partition("_")
        path.rename(path.with_name(f"{CODES[org]}_{period}"))
    return delivery


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        return {
            name: con.execute(f"select * from marts.{name} order by all").fetchall()
            for name in names
        }


def _build(delivery: Path, work: Path) -> dict[str, list[tuple]]:
    warehouse = work / "boligsocial.duckdb"
    reports: list = []
    load_sources(delivery, warehouse, validator=lambda spec: raw_validator(spec, reports))
    assert all(report.passed for report in reports)
    dbt_build(warehouse, work)
    return _marts(warehouse)


def _uncoded(text: str, back: dict[str, str]) -> str:
    return re.sub("|".join(back), lambda m: back[m.group(0)], text)


def test_the_organisation_code_is_one_declaration():
    assert re.fullmatch(ORGANISATION_CODE, "ØBO") and re.fullmatch(ORGANISATION_CODE, "BØ2")
    assert not re.fullmatch(ORGANISATION_CODE, "Ø_BO")
    ledger = SOURCES_BY_NAME["vandalism_ledger"]
    assert ledger.name_parts(Path("ÆRØ_2024-01.csv")) == {
        "organisation": "ÆRØ",
        "period": "2024-01",
    }


def test_letter_codes_check_ok_and_give_the_examples_marts(tmp_path: Path):
    delivery = letter_coded(shutil.copytree(settings.EXAMPLE_SOURCES_DIR, tmp_path / "delivery"))
    assert (delivery / "vandalism" / "ÆRØ_2014-06.csv").exists()

    report = check.check(delivery)
    assert report.ok, check.text(report, "en", quiet=True)
    # The example's warnings, no more: the same rows, the codes aside.
    back = {new: old for old, new in CODES.items()}
    warned = [p.message_en for p in check.check(settings.EXAMPLE_SOURCES_DIR).problems]
    assert sorted(_uncoded(p.message_en, back) for p in report.problems) == sorted(warned)
    assert check.text(report, "da").splitlines()[-1].startswith("Alt i orden: ")

    (tmp_path / "original").mkdir()
    (tmp_path / "coded").mkdir()
    original = _build(settings.EXAMPLE_SOURCES_DIR, tmp_path / "original")
    coded = _build(delivery, tmp_path / "coded")
    assert set(coded) == set(original) and original
    for name, rows in original.items():
        # A mart that names the organisation holds the new code where the example has the old.
        restored = sorted(tuple(back.get(v, v) for v in row) for row in coded[name])
        assert restored == sorted(rows), name
