"""The readers' messages have a Danish form: real reader errors, each kind of the catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from boligsocial.sources import messages
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.errors import SourceError
from boligsocial.sources.police import read_police_incidents, read_tryghedsindeks
from boligsocial.sources.reference import read_areas, read_departments
from boligsocial.sources.statistics import read_area_statistics
from boligsocial.sources.vandalism import read_vandalism_ledger

AREAS = "area_id;area_name;town;municipality_code;region_code\n"
DEPARTMENTS = "housing_org;department_no;department_name;area_id;dwellings;valid_from;valid_to\n"
LEDGER = "Selskab;Afdeling;Sagsnr;Linje;Dato;Kategori;Tekst;Beløb\n"
EFFORTS = "indsats_id;navn;indsatsområde;spor;område;år;årsværk;budget_kr\n"
STATS = "BOLIGORGANISATION;AFDELING;MÅL;TID;INDHOLD\n"

CASES = [
    ("file_name", read_police_incidents, "incidents2020.csv", "x"),
    ("missing_column", read_areas, "areas.csv", "area_id;area_name\nA;B\n"),
    ("no_data", read_areas, "areas.csv", AREAS),
    ("not_utf8", read_areas, "areas.csv", (AREAS + "A;Å;C;330;1085\n").encode("latin-1")),
    ("file_empty", read_areas, "areas.csv", ""),
    ("empty_line", read_areas, "areas.csv", AREAS + "A;B;C;330;1085\n\nD;E;F;330;1085\n"),
    ("field_count", read_areas, "areas.csv", AREAS + "A;B;C;330\n"),
    ("malformed_csv", read_areas, "areas.csv", AREAS + 'A;"B"x;C;330;1085\n'),
    ("wrong_delimiter", read_areas, "areas.csv", AREAS.replace(";", ",") + "A,B,C,1,2\n"),
    ("unnamed_header", read_areas, "areas.csv", AREAS.strip() + ";\nA;B;C;330;1085;\n"),
    ("duplicate_header", read_areas, "areas.csv", "area_id;AREA_ID\nA;B\n"),
    ("unexpected_column", read_areas, "areas.csv", AREAS.strip() + ";x\nA;B;C;330;1085;y\n"),
    ("empty_cell", read_departments, "departments.csv", DEPARTMENTS + "A;;B;C;1;2020-01-01;\n"),
    ("suppressed_outside_statistics", read_departments, "departments.csv",
     DEPARTMENTS + "A;..;B;C;1;2020-01-01;\n"),
    ("wrong_value", read_departments, "departments.csv", DEPARTMENTS + "A;x;B;C;1;2020-01-01;\n"),
    ("integer_range", read_departments, "departments.csv",
     DEPARTMENTS + "A;99999999999;B;C;1;2020-01-01;\n"),
    ("not_calendar_date", read_departments, "departments.csv",
     DEPARTMENTS + "A;1;B;C;1;2019-02-29;\n"),
    ("amount_decimals", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER + "ORG;1;S;1;01-01-2024;K;T;1,234\n"),
    ("amount_too_large", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER + "ORG;1;S;1;01-01-2024;K;T;123456789012345678\n"),
    ("amount_decimals", read_efforts, "indsatser.csv", EFFORTS + "E;N;O;drift;A;2020;0,12345;1\n"),
    ("number_too_large", read_efforts, "indsatser.csv",
     EFFORTS + "E;N;O;drift;A;2020;123456789012345;1\n"),
    ("selskab_differs_from_file_name", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER + "XYZ;1;S;1;01-01-2024;K;T;1\n"),
    ("not_utf8_or_cp1252", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER.encode() + b"ORG;1;S;1;01-01-2024;K;\x81;1\n"),
    ("date_outside_file_year", read_police_incidents, "incidents_2020.csv",
     "anmeldelse_id;dato;område;kategori\nX;01-01-2019;A;B\n"),
    ("tid_differs_from_file_name", read_area_statistics, "area_statistics_2020.csv",
     STATS + "ORG;1;BEF;2019;1\n"),
    ("effort_file_type", read_efforts, "indsatser.txt", EFFORTS),
    ("wrong_value", read_tryghedsindeks, "tryghedsindeks.csv", "år;område;indeks\n2020;A;1.5\n"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "reader", "name", "content"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_reader_error_has_a_danish_form(tmp_path: Path, kind, reader, name, content):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    with pytest.raises(SourceError) as raised:
        reader(path)
    message = raised.value.message
    assert messages.kind(message) == kind, message
    danish = messages.danish(message)
    assert danish and danish != message


def test_the_danish_form_keeps_the_values_and_translates_the_expectation():
    assert messages.danish("'ca. 14' is not a number with decimal comma (412,6) or '..'") == (
        "'ca. 14' er ikke et tal med decimalkomma (412,6) eller '..'"
    )
    assert messages.danish(
        "expected ';'-separated columns, but the header is one column; it looks ','-separated"
    ) == (
        "kolonnerne skal adskilles med semikolon (;), men overskriften er én kolonne; "
        "den ser ud til at være adskilt med komma"
    )
    assert messages.danish("something no pattern knows") is None


def test_every_kind_of_the_catalogue_is_tried():
    tried = {case[0] for case in CASES}
    # Reached only by a damaged workbook, by several effort files or none (tested through
    # check on the corpus), or by an Arrow conversion no check caught first.
    elsewhere = {"xlsx_unreadable", "sheet_empty", "value_without_header", "empty_sheet_row",
                 "not_csv", "cannot_convert", "no_file", "several_files"}  # fmt: skip
    assert tried | elsewhere == {kind for kind, _, _ in messages.CATALOGUE}
