"""The file conventions shared by every CSV source, exercised through the simplest readers."""

import random

import pandas as pd
import pytest

from boligsocial.sources import _csv
from boligsocial.sources.errors import SourceError
from boligsocial.sources.reference import read_areas, read_departments

AREAS = (
    "area_id;area_name;town;municipality_code;region_code\n"
    "RINGPARKEN;Ringparken;Slagelse;330;1085\n"
    "NORDBYEN;Nordbyen;Skælskør;330;1085\n"
)
EXPECTED_AREAS = [
    ["RINGPARKEN", "Ringparken", "Slagelse", "330", "1085", 2],
    ["NORDBYEN", "Nordbyen", "Skælskør", "330", "1085", 3],
]


def rows(frame: pd.DataFrame) -> list[list[object]]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


@pytest.mark.parametrize(
    ("bom", "crlf"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_utf8_with_or_without_bom_and_lf_or_crlf(write, bom, crlf):
    frame = read_areas(write("areas.csv", AREAS, bom=bom, crlf=crlf))
    assert rows(frame) == EXPECTED_AREAS
    assert list(frame.columns) == [
        "area_id",
        "area_name",
        "town",
        "municipality_code",
        "region_code",
        "_source_row",
    ]
    assert frame["area_id"].dtype == "str"
    assert frame["_source_row"].dtype == "Int64"


def test_column_order_and_header_case_and_spaces_are_free(write):
    text = (
        " Region_Code ;TOWN;area_name;AREA_ID;municipality_code\n"
        "1085;Slagelse;Ringparken;RINGPARKEN;330\n"
        "1085;Skælskør;Nordbyen;NORDBYEN;330\n"
    )
    assert rows(read_areas(write("areas.csv", text))) == EXPECTED_AREAS


def test_cells_are_trimmed_and_empty_text_is_missing(write):
    text = AREAS.splitlines()[0] + "\n RINGPARKEN ;  Ringparken;;330 ;1085\n"
    assert rows(read_areas(write("areas.csv", text))) == [
        ["RINGPARKEN", "Ringparken", None, "330", "1085", 2]
    ]


def test_decomposed_letters_are_composed(write):
    text = AREAS.replace("Skælskør", "Nørre A\u030aby").replace("town", "TO\u0301WN")
    with pytest.raises(SourceError) as caught:
        read_areas(write("areas.csv", text))
    assert caught.value.column == "TÓWN"
    frame = read_areas(write("areas.csv", AREAS.replace("Skælskør", "Nørre A\u030aby")))
    assert frame["town"].iloc[1] == "Nørre \u00c5by"


def test_quoted_fields_with_delimiter_quote_and_newline_keep_line_numbers(write):
    text = (
        "area_id;area_name;town;municipality_code;region_code\n"
        'RINGPARKEN;"Ringparken; øst";"Sla""gelse";330;1085\n'
        'NORDBYEN;"Nord\nbyen";Skælskør;330;1085\n'
        "VEST;Vest;Korsør;330;1085\n"
    )
    assert rows(read_areas(write("areas.csv", text, crlf=True))) == [
        ["RINGPARKEN", "Ringparken; øst", 'Sla"gelse', "330", "1085", 2],
        ["NORDBYEN", "Nord\r\nbyen", "Skælskør", "330", "1085", 3],
        ["VEST", "Vest", "Korsør", "330", "1085", 5],
    ]


def test_line_number_after_a_multiline_field_in_errors(write, source_error):
    text = (
        "housing_org;department_no;department_name;area_id;dwellings;valid_from;valid_to\n"
        'FOB;1;"Ring\nparken\nøst";RINGPARKEN;100;2015-01-01;\n'
        "FOB;x;Vest;VEST;100;2015-01-01;\n"
    )
    error = source_error(read_departments, write("departments.csv", text))
    assert (error.row, error.column) == (5, "department_no")


@pytest.mark.parametrize("ending", ["\n", "\n\n", "\r\n\r\n", ""])
def test_empty_lines_at_the_end_are_fine(write, ending):
    frame = read_areas(write("areas.csv", AREAS.rstrip("\n") + ending))
    assert rows(frame) == EXPECTED_AREAS


def test_blank_line_inside_is_an_error(write, source_error):
    text = AREAS.replace("1085\nNORDBYEN", "1085\n\nNORDBYEN")
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (3, None)
    assert "empty line" in error.message


def test_too_few_fields_is_an_error(write, source_error):
    text = AREAS + "VEST;Vest;Korsør;330\n"
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (4, None)
    assert error.message == "4 fields where the header has 5"


def test_too_many_fields_is_an_error(write, source_error):
    text = AREAS.replace("Skælskør;330", "Skælskør;330;9")
    error = source_error(read_areas, write("areas.csv", text, crlf=True))
    assert (error.row, error.column) == (3, None)
    assert error.message == "6 fields where the header has 5"


def test_too_few_fields_after_quoted_text_is_an_error(write, source_error):
    text = AREAS + 'VEST;"Vest; Korsør";330;1085\n'
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (4, None)


def test_unterminated_quote_is_an_error(write, source_error):
    text = AREAS + 'VEST;"Vest;Korsør;330;1085\n'
    error = source_error(read_areas, write("areas.csv", text))
    assert error.row == 4
    assert "malformed CSV" in error.message


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), ("\t", "tab")])
def test_wrong_delimiter_is_explained(write, source_error, delimiter, name):
    error = source_error(read_areas, write("areas.csv", AREAS.replace(";", delimiter)))
    assert (error.row, error.column) == (1, None)
    assert error.message.startswith("expected ';'-separated columns")
    assert error.message.endswith(f"it looks {name}-separated")


def test_wrong_delimiter_with_semicolons_in_data_is_explained(write, source_error):
    text = "area_id,area_name,town,municipality_code,region_code\nA,B;C,D,330,1085\n"
    error = source_error(read_areas, write("areas.csv", text))
    assert error.row == 1
    assert error.message.startswith("expected ';'-separated columns")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n"])
def test_empty_file_is_an_error(write, source_error, content):
    error = source_error(read_areas, write("areas.csv", content))
    assert (error.row, error.column, error.message) == (None, None, "the file is empty")


def test_header_only_is_an_error(write, source_error):
    error = source_error(read_areas, write("areas.csv", AREAS.splitlines()[0] + "\r\n"))
    assert (error.row, error.column) == (None, None)
    assert "no data rows" in error.message


def test_missing_column_is_named(write, source_error):
    text = "area_id;area_name;town;region_code\nA;B;C;1085\n"
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (None, "municipality_code")
    assert error.message == "missing column 'municipality_code'"


def test_unexpected_column_is_named(write, source_error):
    text = AREAS.replace("region_code\n", "region_code;Note\n").replace("1085\n", "1085;x\n")
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (1, "Note")
    assert error.message.startswith("unexpected column")


def test_trailing_delimiter_gives_a_nameless_column(write, source_error):
    text = AREAS.replace("\n", ";\n")
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (1, None)
    assert error.message == "header column 6 has no name"


def test_duplicate_column_is_named(write, source_error):
    text = "area_id;area_name;town;municipality_code;region_code;AREA_ID\nA;B;C;330;1085;A\n"
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (1, "AREA_ID")
    assert "twice" in error.message


def test_cp1252_is_refused_outside_the_ledgers(write, source_error):
    error = source_error(read_areas, write("areas.csv", AREAS, encoding="cp1252"))
    assert (error.row, error.column) == (3, None)
    assert error.message == "not valid UTF-8 (byte 0xe6)"


def test_suppressed_marker_in_a_text_column_is_an_error(write, source_error):
    error = source_error(read_areas, write("areas.csv", AREAS.replace("Ringparken", "..")))
    assert (error.row, error.column) == (2, "area_name")
    assert "'..' (suppressed)" in error.message


def test_error_names_the_column_as_written_in_the_file(write, source_error):
    text = AREAS.replace("area_id", " AREA_Id ").replace("NORDBYEN", "..")
    error = source_error(read_areas, write("areas.csv", text))
    assert (error.row, error.column) == (3, "AREA_Id")


def _read_with_csv_module(path, columns):
    """The one-file reader without its Arrow fast path: the csv module's reading."""
    file = str(path)
    text = _csv._decode(path, file, cp1252=False)
    header, cells, rows = _csv._split(file, text, len(columns), _csv._too_wide(columns))
    return _csv._bind(file, header, cells, rows, columns)


def _outcome(read, path, columns):
    try:
        table = read(path, columns)
    except SourceError as error:
        return ("error", error.row, error.column, error.message)
    return ({k: v.to_pylist() for k, v in table.cells.items()}, table.rows.tolist(), table.headers)


def _random_field(rng: random.Random) -> str:
    text = "".join(
        rng.choice(["a", "ø", " ", ";", '"', "\n", "\r"]) for _ in range(rng.randint(0, 4))
    )
    kind = rng.random()
    if kind < 0.5:  # plain: whatever the text holds, stray quotes and line ends included
        return text
    if kind < 0.9:  # quoted, as a writer does it
        return '"' + text.replace('"', '""') + '"'
    return '"' + text  # unterminated


COLUMNS = {"a": "A", "b": "B", "c": "C"}


def _random_csv_files(directory, seed: int, count: int) -> list:
    """Files with quotes, delimiters, line ends and empty lines in random places."""
    rng = random.Random(seed)
    paths = []
    for case in range(count):
        lines = [rng.choice(["A;B;C", "c;A;b"])]
        for _ in range(rng.randint(1, 4)):
            fields = [_random_field(rng) if rng.random() < 0.3 else "x y" for _ in range(3)]
            lines.append("" if rng.random() < 0.03 else ";".join(fields))
        path = directory / f"{seed}-{case}.csv"
        path.write_bytes(rng.choice(["\n", "\r\n"]).join(lines).encode())
        paths.append(path)
    return paths


@pytest.mark.parametrize("seed", range(4))
def test_the_arrow_fast_path_reads_what_the_csv_module_reads(tmp_path, seed):
    """The one-file reader gives the same cells and line numbers, or the same error, as the
    csv module alone."""
    readable = 0
    for path in _random_csv_files(tmp_path, seed, 400):
        expected = _outcome(_read_with_csv_module, path, COLUMNS)
        assert _outcome(_csv.read_csv, path, COLUMNS) == expected, path.read_bytes()
        readable += expected[0] != "error"
    assert readable > 50  # the comparison covered files that parse, not only errors


def _frame(table) -> pd.DataFrame:
    frame = pd.DataFrame({k: v.to_pylist() for k, v in table.cells.items()})
    return frame.assign(_source_row=table.rows)


def _read_many(paths):
    return _csv.read_many(
        paths,
        COLUMNS,
        cp1252=False,
        convert=_frame,
        read_one=lambda path: _frame(_read_with_csv_module(path, COLUMNS)),
    )


def test_the_batch_reader_reads_what_the_csv_module_reads(tmp_path):
    """Many files in one Arrow parse (`read_many`): the rows the csv module reads from each,
    and a file it refuses raises its error, also among good files in the same parse."""
    paths = _random_csv_files(tmp_path, 99, 1500)
    outcomes = [_outcome(_read_with_csv_module, p, COLUMNS) for p in paths]
    good = [p for p, o in zip(paths, outcomes, strict=True) if o[0] != "error"]
    one_by_one = pd.concat(
        [
            _frame(_read_with_csv_module(p, COLUMNS)).assign(_file_index=i)
            for i, p in enumerate(good)
        ],
        ignore_index=True,
    )
    key = ["_file_index", "_source_row"]
    pd.testing.assert_frame_equal(
        _read_many(good).sort_values(key).reset_index(drop=True)[one_by_one.columns],
        one_by_one.sort_values(key).reset_index(drop=True),
    )
    bad = [(p, o) for p, o in zip(paths, outcomes, strict=True) if o[0] == "error"]
    assert len(bad) > 50
    for path, (_, row, column, message) in bad:
        with pytest.raises(SourceError) as caught:
            _read_many([*good[:3], path])
        error = caught.value
        assert (error.file, error.row, error.column, error.message) == (
            str(path),
            row,
            column,
            message,
        ), path.read_bytes()
