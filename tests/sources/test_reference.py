import pytest

from boligsocial.sources.reference import read_areas, read_departments, read_official_list

DEPARTMENTS = (
    "housing_org;department_no;department_name;area_id;dwellings;valid_from;valid_to\n"
    "FOB;1;Ringparken;RINGPARKEN;650;2010-01-01;\n"
    "SAB;12;Nordbyen Øst;NORDBYEN;0;2012-07-01;2020-12-31\n"
)


def test_areas_keep_codes_as_text(write):
    text = "area_id;area_name;town;municipality_code;region_code\nA;Ringparken;Slagelse;0330;1085\n"
    frame = read_areas(write("areas.csv", text))
    assert frame["municipality_code"].tolist() == ["0330"]


def test_departments_are_typed(write):
    frame = read_departments(write("departments.csv", DEPARTMENTS))
    assert frame["department_no"].dtype == "Int64"
    assert frame["dwellings"].dtype == "Int64"
    assert frame["valid_from"].tolist() == ["2010-01-01", "2012-07-01"]
    assert frame["valid_to"].isna().tolist() == [True, False]
    assert frame["valid_to"].iloc[1] == "2020-12-31"
    assert frame["department_name"].tolist() == ["Ringparken", "Nordbyen Øst"]
    assert frame["_source_row"].tolist() == [2, 3]
    assert list(frame.columns) == [
        "housing_org",
        "department_no",
        "department_name",
        "area_id",
        "dwellings",
        "valid_from",
        "valid_to",
        "_source_row",
    ]


def test_semantic_rules_are_left_to_the_expectations(write):
    # A negative dwelling count and an unknown area parse; the GX suite rejects them.
    text = DEPARTMENTS.replace(";650;", ";-5;").replace("RINGPARKEN", "NOWHERE")
    frame = read_departments(write("departments.csv", text))
    assert frame["dwellings"].tolist() == [-5, 0]


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        ("FOB;1;", "FOB;1a;", "department_no", "'1a' is not an integer"),
        ("FOB;1;", "FOB;;", "department_no", "empty; expected an integer"),
        ("FOB;1;", "FOB;..;", "department_no", "'..' (suppressed) is only allowed"),
        ("FOB;1;", "FOB;99999999999;", "department_no", "out of the integer range"),
        ("FOB;1;", "FOB;2147483648;", "department_no", "out of the integer range"),
        (";650;", ";6,5;", "dwellings", "'6,5' is not an integer"),
        ("2010-01-01", "01-01-2010", "valid_from", "not a date YYYY-MM-DD"),
        ("2010-01-01", "", "valid_from", "empty; expected a date YYYY-MM-DD"),
        ("2010-01-01", "2010-02-30", "valid_from", "'2010-02-30' is not a calendar date"),
        ("2010-01-01", "2010-13-01", "valid_from", "not a calendar date"),
        ("2010-01-01;", "2010-01-01;2021-02-29", "valid_to", "not a calendar date"),
        ("2010-01-01;", "2010-01-01;2021-2-1", "valid_to", "not a date YYYY-MM-DD"),
    ],
)
def test_department_parse_errors_name_row_and_column(
    write, source_error, old, new, column, message
):
    error = source_error(read_departments, write("departments.csv", DEPARTMENTS.replace(old, new)))
    assert (error.row, error.column) == (2, column)
    assert message in error.message


def test_leap_day_is_a_date(write):
    text = DEPARTMENTS.replace("2010-01-01", "2020-02-29").replace("2020-12-31", "2000-02-29")
    frame = read_departments(write("departments.csv", text))
    assert frame["valid_from"].iloc[0] == "2020-02-29"
    assert frame["valid_to"].iloc[1] == "2000-02-29"


def test_first_bad_row_is_named(write, source_error):
    text = DEPARTMENTS + "FOB;x;A;A;1;2010-01-01;\nFOB;y;A;A;1;2010-01-01;\n"
    error = source_error(read_departments, write("departments.csv", text))
    assert (error.row, error.column) == (4, "department_no")
    assert str(error).endswith("row 4, column department_no: 'x' is not an integer")


OFFICIAL_LIST = "år;område;kategori\n2019; Ringparken ;haardt_ghetto\n2022;motalavej;forebyggelse\n"


def test_official_list_is_typed_and_trimmed(write):
    frame = read_official_list(write("official_list.csv", OFFICIAL_LIST, bom=True, crlf=True))
    assert frame["aar"].tolist() == [2019, 2022]
    assert frame["aar"].dtype == "Int64"
    # Names are matched to areas.csv (ignoring case) and codes checked by the GX suite.
    assert frame["omraade"].tolist() == ["Ringparken", "motalavej"]
    assert frame["kategori"].tolist() == ["haardt_ghetto", "forebyggelse"]
    assert frame["_source_row"].tolist() == [2, 3]


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        ("2022;", "22;", "år", "'22' is not a year of 4 digits"),
        ("2022;", "20222;", "år", "'20222' is not a year of 4 digits"),
        ("2022;", "2022,0;", "år", "'2022,0' is not a year of 4 digits"),
        ("2022;", ";", "år", "empty; expected"),
        (";forebyggelse", ";..", "kategori", "'..' (suppressed) is only allowed"),
    ],
)
def test_official_list_parse_errors_name_row_and_column(
    write, source_error, old, new, column, message
):
    path = write("official_list.csv", OFFICIAL_LIST.replace(old, new))
    error = source_error(read_official_list, path)
    assert (error.row, error.column) == (3, column)
    assert message in error.message
