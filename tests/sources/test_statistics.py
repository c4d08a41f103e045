import pytest

from boligsocial.sources.statistics import read_area_statistics, read_benchmarks

AREA_STATISTICS = (
    "BOLIGORGANISATION;AFDELING;MÅL;TID;INDHOLD\n"
    "FOB;1;BEF;2020;1234\n"
    "FOB;1;UDENFOR_18_64;2020;412,6\n"
    "FOB;1;DOEMTE_18PLUS;2020;..\n"
)
BENCHMARKS = (
    "TID;NIVEAU;KODE;MÅL;INDHOLD\n"
    "2020;land;DK;DOEMTE_PCT_18PLUS;0,68\n"
    "2020;region;1085;INDK_GNS_15_64;312456,5\n"
    "2020;kommune;330;IKKEVEST_PCT;..\n"
)


def test_area_statistics_are_typed_with_suppressed_values(write):
    frame = read_area_statistics(write("area_statistics_2020.csv", AREA_STATISTICS))
    assert list(frame.columns) == [
        "boligorganisation",
        "afdeling",
        "maal",
        "tid",
        "indhold",
        "indhold_suppressed",
        "_source_row",
    ]
    assert frame["indhold"].dtype == "Float64"
    assert frame["indhold_suppressed"].dtype == "boolean"
    assert frame["indhold"].iloc[:2].tolist() == [1234.0, 412.6]
    assert frame["indhold"].isna().tolist() == [False, False, True]
    assert frame["indhold_suppressed"].tolist() == [False, False, True]
    assert frame["tid"].tolist() == [2020, 2020, 2020]
    assert frame["maal"].tolist() == ["BEF", "UDENFOR_18_64", "DOEMTE_18PLUS"]


@pytest.mark.parametrize(
    "maal",
    ["mål", "MA\u030aL"],  # the second is decomposed: A + combining ring
)
def test_area_statistics_header_order_case_and_normalisation(write, maal):
    text = (
        f"indhold; tid ;{maal};Afdeling;boligorganisation\n"
        "1234;2020;BEF;1;FOB\n"
        "412,6;2020;UDENFOR_18_64;1;FOB\n"
        "..;2020;DOEMTE_18PLUS;1;FOB\n"
    )
    frame = read_area_statistics(write("area_statistics_2020.csv", text, bom=True, crlf=True))
    expected = read_area_statistics(write("area_statistics_2020.csv", AREA_STATISTICS))
    assert frame.equals(expected)


def test_area_statistics_tid_must_be_the_file_year(write, source_error):
    text = AREA_STATISTICS.replace("UDENFOR_18_64;2020", "UDENFOR_18_64;2019")
    error = source_error(read_area_statistics, write("area_statistics_2020.csv", text))
    assert (error.row, error.column) == (3, "TID")
    assert error.message == "TID 2019 differs from the file name's year 2020"


@pytest.mark.parametrize(
    "name", ["area_statistics_20.csv", "area_statistics.csv", "area_statistics_2020.txt"]
)
def test_area_statistics_file_name_must_carry_the_year(write, source_error, name):
    error = source_error(read_area_statistics, write(name, AREA_STATISTICS))
    assert (error.row, error.column) == (None, None)
    assert "does not match area_statistics_<YYYY>.csv" in error.message


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        ("1234\n", "1.234\n", "INDHOLD", "'1.234' is not a number with decimal comma"),
        ("1234\n", "1234.5\n", "INDHOLD", "is not a number with decimal comma"),
        ("1234\n", "\n", "INDHOLD", "empty; expected a number"),
        ("1234\n", ".\n", "INDHOLD", "'.' is not a number"),
        ("FOB;1;BEF", "..;1;BEF", "BOLIGORGANISATION", "'..' (suppressed)"),
        ("FOB;1;BEF", "FOB;..;BEF", "AFDELING", "'..' (suppressed)"),
        ("FOB;1;BEF", "FOB;1;..", "MÅL", "'..' (suppressed)"),
        ("BEF;2020", "BEF;..", "TID", "'..' (suppressed)"),
    ],
)
def test_area_statistics_parse_errors(write, source_error, old, new, column, message):
    text = AREA_STATISTICS.replace(old, new, 1)
    error = source_error(read_area_statistics, write("area_statistics_2020.csv", text))
    assert (error.row, error.column) == (2, column)
    assert message in error.message


def test_unknown_maal_and_negative_values_are_left_to_the_expectations(write):
    text = AREA_STATISTICS.replace("BEF;2020;1234", "NOPE;2020;-3")
    frame = read_area_statistics(write("area_statistics_2020.csv", text))
    assert frame["maal"].iloc[0] == "NOPE"
    assert frame["indhold"].iloc[0] == -3


def test_benchmarks_are_typed(write):
    frame = read_benchmarks(write("benchmarks.csv", BENCHMARKS))
    assert list(frame.columns) == [
        "tid",
        "niveau",
        "kode",
        "maal",
        "indhold",
        "indhold_suppressed",
        "_source_row",
    ]
    assert frame["kode"].tolist() == ["DK", "1085", "330"]
    assert frame["indhold"].iloc[:2].tolist() == [0.68, 312456.5]
    assert frame["indhold_suppressed"].tolist() == [False, False, True]
    assert frame["tid"].dtype == "Int64"


@pytest.mark.parametrize(
    ("old", "new", "row", "column"),
    [
        ("2020;region", "2020x;region", 3, "TID"),
        ("312456,5", "312.456,5", 3, "INDHOLD"),
        ("kommune;330", "kommune;..", 4, "KODE"),
    ],
)
def test_benchmark_parse_errors(write, source_error, old, new, row, column):
    error = source_error(read_benchmarks, write("benchmarks.csv", BENCHMARKS.replace(old, new)))
    assert (error.row, error.column) == (row, column)


def test_benchmarks_missing_maal_is_named_as_in_the_contract(write, source_error):
    text = BENCHMARKS.replace(";MÅL", ";MAL")
    error = source_error(read_benchmarks, write("benchmarks.csv", text))
    assert (error.row, error.column) == (1, "MAL")
    text = "TID;NIVEAU;KODE;INDHOLD\n2020;land;DK;1\n"
    error = source_error(read_benchmarks, write("benchmarks.csv", text))
    assert (error.row, error.column) == (None, "MÅL")
