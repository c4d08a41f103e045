import json

import pytest

from boligsocial.sources.statbank import read_statbank

RESPONSE = (
    "OMRÅDE;KØN;TID;INDHOLD\n"
    "Slagelse;Mænd;2024K1;39512\n"
    'Slagelse;"Kvinder; i alt";2024K1;..\n'
    "Slagelse;Mænd;2024K2;39601,5\n"
)


def test_statbank_response_in_long_format(write):
    frame = read_statbank(write("statbank/FOLK1A.csv", RESPONSE, bom=True, crlf=True))
    assert list(frame.columns) == [
        "table_id",
        "dimensions",
        "tid",
        "indhold",
        "indhold_suppressed",
        "_source_row",
    ]
    assert frame["table_id"].tolist() == ["FOLK1A"] * 3
    assert frame["dimensions"].tolist() == [
        '{"KØN": "Mænd", "OMRÅDE": "Slagelse"}',
        '{"KØN": "Kvinder; i alt", "OMRÅDE": "Slagelse"}',
        '{"KØN": "Mænd", "OMRÅDE": "Slagelse"}',
    ]
    assert frame["tid"].tolist() == ["2024K1", "2024K1", "2024K2"]
    assert frame["indhold"].isna().tolist() == [False, True, False]
    assert frame["indhold"].iloc[[0, 2]].tolist() == [39512.0, 39601.5]
    assert frame["indhold_suppressed"].tolist() == [False, True, False]
    assert frame["_source_row"].tolist() == [2, 3, 4]


def test_dimensions_are_what_json_dumps_writes(write):
    text = 'ZONE;alder;TID;INDHOLD\n"Tab\tand ""quote"" \\\\";Å;2024;1\n'
    frame = read_statbank(write("statbank/T1.csv", text))
    expected = {"ZONE": 'Tab\tand "quote" \\\\', "ALDER": "Å"}
    assert frame["dimensions"].iloc[0] == json.dumps(expected, sort_keys=True, ensure_ascii=False)


def test_table_with_only_time(write):
    frame = read_statbank(write("statbank/BY2.csv", "tid;indhold\n2024M01;1,5\n"))
    assert frame["dimensions"].tolist() == ["{}"]
    assert frame["tid"].tolist() == ["2024M01"]


@pytest.mark.parametrize("missing", ["TID", "INDHOLD"])
def test_time_and_value_columns_are_required(write, source_error, missing):
    text = RESPONSE.replace(f";{missing}", ";X")
    error = source_error(read_statbank, write("statbank/FOLK1A.csv", text))
    assert (error.row, error.column) == (None, missing)


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("39601,5", "39.601,5", "INDHOLD"),
        ("39601,5", "", "INDHOLD"),
        ("Slagelse;Mænd;2024K2", "..;Mænd;2024K2", "OMRÅDE"),
        ("Mænd;2024K2", "Mænd;..", "TID"),
    ],
)
def test_statbank_parse_errors(write, source_error, old, new, column):
    error = source_error(read_statbank, write("statbank/FOLK1A.csv", RESPONSE.replace(old, new)))
    assert (error.row, error.column) == (4, column)


def test_duplicate_variable_is_an_error(write, source_error):
    text = "OMRÅDE;område;TID;INDHOLD\nA;B;2024;1\n"
    error = source_error(read_statbank, write("statbank/FOLK1A.csv", text))
    assert (error.row, error.column) == (1, "område")


def test_statbank_file_name_must_be_a_table_id(write, source_error):
    error = source_error(read_statbank, write("statbank/FOLK 1A.csv", RESPONSE))
    assert "does not match <TABLE>.csv" in error.message
