from pathlib import Path

import openpyxl
import pytest

from boligsocial.sources.efforts import read_efforts

HEADER = ["indsats_id", "navn", "indsatsområde", "spor", "område", "år", "årsværk", "budget_kr"]
EFFORTS = (
    ";".join(HEADER) + "\n"
    "E1;Lektiecafé;Uddannelse og beskæftigelse;drift;RINGPARKEN;2020;1,5;450.000\n"
    'E2;"Gadeplan; aften";Kriminalpræventiv indsats;projekt;FÆLLES;2020;0;12.500,75\n'
)
COLUMNS = [
    "indsats_id",
    "navn",
    "indsatsomraade",
    "spor",
    "omraade",
    "aar",
    "aarsvaerk",
    "budget_kr",
    "_source_row",
]


def workbook(path: Path, rows: list[list[object]], *, first_sheet: str = "Indsatser") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = first_sheet
    for row in rows:
        sheet.append(row)
    book.create_sheet("Noter").append(["not", "read"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def test_csv_register_is_typed(write):
    frame = read_efforts(write("efforts/indsatser.csv", EFFORTS, bom=True, crlf=True))
    assert list(frame.columns) == COLUMNS
    assert frame["navn"].tolist() == ["Lektiecafé", "Gadeplan; aften"]
    assert frame["omraade"].tolist() == ["RINGPARKEN", "FÆLLES"]
    assert frame["aar"].tolist() == [2020, 2020]
    assert frame["aarsvaerk"].tolist() == ["1.5000", "0.0000"]  # exact: DECIMAL(18,4)
    assert frame["budget_kr"].tolist() == ["450000.00", "12500.75"]
    assert frame["_source_row"].tolist() == [2, 3]


def test_unknown_spor_is_left_to_the_expectations(write):
    frame = read_efforts(write("efforts/indsatser.csv", EFFORTS.replace("projekt", "andet")))
    assert frame["spor"].tolist() == ["drift", "andet"]


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        (";1,5;", ";1.5;", "årsværk"),
        (";1,5;", ";..;", "årsværk"),
        (";1,5;", ";1,50001;", "årsværk"),
        ("450.000", "450.00", "budget_kr"),
        ("450.000", "..", "budget_kr"),
        (";2020;1,5", ";2020/21;1,5", "år"),
    ],
)
def test_csv_parse_errors(write, source_error, old, new, column):
    error = source_error(read_efforts, write("efforts/indsatser.csv", EFFORTS.replace(old, new)))
    assert (error.row, error.column) == (2, column)


def test_xlsx_register_with_real_numbers_and_text_numbers(tmp_path):
    path = workbook(
        tmp_path / "efforts/indsatser.xlsx",
        [
            [" Indsats_ID", "NAVN", "INDSATSOMRÅDE", *HEADER[3:]],
            ["E1", "Lektiecafé", "Uddannelse", "drift", "RINGPARKEN", 2020, 1.5, 450000],
            ["E2", "Gadeplan", "Tryghed", "projekt", "FÆLLES", "2021", "0,75", "12.500,75"],
            [3, "Job", "Beskæftigelse", "drift", "NORDBYEN", 2021.0, 2, 1234.56],
            [None] * 8,
            [None] * 8,
        ],
    )
    frame = read_efforts(path)
    assert list(frame.columns) == COLUMNS
    assert frame["indsats_id"].tolist() == ["E1", "E2", "3"]
    assert frame["aar"].tolist() == [2020, 2021, 2021]
    assert frame["aarsvaerk"].tolist() == ["1.5000", "0.7500", "2.0000"]
    assert frame["budget_kr"].tolist() == ["450000.00", "12500.75", "1234.56"]
    assert frame["_source_row"].tolist() == [2, 3, 4]


E1_NUMBERS = [2020, 1.5, 450000]
E2_NUMBERS = [2020, 0, 12500.75]


def test_xlsx_and_csv_give_the_same_frame(tmp_path, write):
    rows = [
        HEADER,
        ["E1", "Lektiecafé", "Uddannelse og beskæftigelse", "drift", "RINGPARKEN", *E1_NUMBERS],
        ["E2", "Gadeplan; aften", "Kriminalpræventiv indsats", "projekt", "FÆLLES", *E2_NUMBERS],
    ]
    book = workbook(tmp_path / "xlsx/indsatser.xlsx", rows)
    assert read_efforts(book).equals(read_efforts(write("csv/indsatser.csv", EFFORTS)))


@pytest.mark.parametrize(
    ("cell", "value", "column", "message"),
    [
        (7, 1 / 3 * 1000, "budget_kr", "has more than 2 decimals"),
        (6, "1.5", "årsværk", "'1.5' is not a number with decimal comma"),
        (6, 1 / 3, "årsværk", "'0,3333333333333333' has more than 4 decimals"),
        (5, 2020.5, "år", "'2020,5' is not an integer"),
        (5, None, "år", "empty; expected an integer"),
    ],
)
def test_xlsx_parse_errors(tmp_path, source_error, cell, value, column, message):
    row: list[object] = ["E1", "Lektiecafé", "Uddannelse", "drift", "RINGPARKEN", 2020, 1.5, 1]
    row[cell] = value
    path = workbook(tmp_path / "indsatser.xlsx", [HEADER, row, row])
    error = source_error(read_efforts, path)
    assert (error.row, error.column) == (2, column)
    assert message in error.message


def test_xlsx_empty_row_inside_is_an_error(tmp_path, source_error):
    row = ["E1", "Lektiecafé", "Uddannelse", "drift", "RINGPARKEN", 2020, 1.5, 1]
    path = workbook(tmp_path / "indsatser.xlsx", [HEADER, row, [None] * 8, row])
    error = source_error(read_efforts, path)
    assert (error.row, error.column) == (3, None)


def test_xlsx_value_outside_the_header_is_an_error(tmp_path, source_error):
    row = ["E1", "Lektiecafé", "Uddannelse", "drift", "RINGPARKEN", 2020, 1.5, 1]
    path = workbook(tmp_path / "indsatser.xlsx", [[*HEADER, None], row, [*row, "note"]])
    error = source_error(read_efforts, path)
    assert (error.row, error.column) == (3, None)
    assert error.message == "a value in a column without a header"


def test_xlsx_missing_and_unexpected_columns(tmp_path, source_error):
    row = ["E1", "Lektiecafé", "Uddannelse", "drift", "RINGPARKEN", 2020, 1.5]
    error = source_error(read_efforts, workbook(tmp_path / "a/indsatser.xlsx", [HEADER[:7], row]))
    assert (error.row, error.column) == (None, "budget_kr")
    header = [*HEADER[:7], "Budget (kr)"]
    error = source_error(read_efforts, workbook(tmp_path / "b/indsatser.xlsx", [header, row]))
    assert (error.row, error.column) == (1, "Budget (kr)")


def test_xlsx_header_only_or_empty_is_an_error(tmp_path, source_error):
    error = source_error(read_efforts, workbook(tmp_path / "a/indsatser.xlsx", [HEADER]))
    assert "no data rows" in error.message
    error = source_error(read_efforts, workbook(tmp_path / "b/indsatser.xlsx", []))
    assert error.message == "the first sheet is empty"


def test_file_that_is_not_a_workbook(write, source_error):
    error = source_error(read_efforts, write("efforts/indsatser.xlsx", EFFORTS))
    assert (error.row, error.column) == (None, None)
    assert error.message.startswith("not a readable XLSX workbook")


def test_other_suffix_is_an_error(write, source_error):
    error = source_error(read_efforts, write("efforts/indsatser.txt", EFFORTS))
    assert error.message == "expected indsatser.csv or indsatser.xlsx"
