import pytest

from boligsocial.sources.police import read_police_incidents, read_tryghedsindeks

TRYGHEDSINDEKS = "år;område;indeks\n2020;Ringparken;61,4\n2020;Hele landet;80\n"
INCIDENTS = (
    "anmeldelse_id;dato;område;kategori\n"
    "2020-0001;01-01-2020;Ringparken;Påsat brand\n"
    "2020-0002;31-12-2020; ringparken ;Tyveri\n"
)


def test_tryghedsindeks_is_typed(write):
    frame = read_tryghedsindeks(write("police/tryghedsindeks.csv", TRYGHEDSINDEKS, crlf=True))
    assert list(frame.columns) == ["aar", "omraade", "indeks", "_source_row"]
    assert frame["aar"].tolist() == [2020, 2020]
    assert frame["aar"].dtype == "Int64"
    assert frame["omraade"].tolist() == ["Ringparken", "Hele landet"]
    assert frame["indeks"].tolist() == [61.4, 80.0]
    assert frame["indeks"].dtype == "Float64"


def test_tryghedsindeks_header_case_and_order(write):
    text = "INDEKS;OMRÅDE;År\n61,4;Ringparken;2020\n80;Hele landet;2020\n"
    frame = read_tryghedsindeks(write("police/tryghedsindeks.csv", text))
    assert frame["indeks"].tolist() == [61.4, 80.0]


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        ("61,4", "..", "indeks", "'..' (suppressed) is only allowed in statistics values"),
        ("61,4", "61.4", "indeks", "'61.4' is not a number with decimal comma"),
        ("2020;Ringparken", "20x0;Ringparken", "år", "'20x0' is not an integer"),
    ],
)
def test_tryghedsindeks_parse_errors(write, source_error, old, new, column, message):
    path = write("police/tryghedsindeks.csv", TRYGHEDSINDEKS.replace(old, new))
    error = source_error(read_tryghedsindeks, path)
    assert (error.row, error.column) == (2, column)
    assert error.message.startswith(message)


def test_empty_omraade_is_missing_for_the_expectations_to_refuse(write):
    path = write("police/tryghedsindeks.csv", TRYGHEDSINDEKS.replace("Ringparken", " "))
    assert read_tryghedsindeks(path)["omraade"].isna().tolist() == [True, False]


def test_incidents_are_typed(write):
    frame = read_police_incidents(write("police/incidents_2020.csv", INCIDENTS, bom=True))
    assert list(frame.columns) == ["anmeldelse_id", "dato", "omraade", "kategori", "_source_row"]
    assert frame["dato"].tolist() == ["2020-01-01", "2020-12-31"]
    assert frame["omraade"].tolist() == ["Ringparken", "ringparken"]
    assert frame["kategori"].tolist() == ["Påsat brand", "Tyveri"]


def test_incident_year_must_be_the_file_year(write, source_error):
    text = INCIDENTS.replace("31-12-2020", "01-01-2021")
    error = source_error(read_police_incidents, write("police/incidents_2020.csv", text))
    assert (error.row, error.column) == (3, "dato")
    assert error.message == "01-01-2021 is not in the file name's year 2020"


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2020-12-31", "'2020-12-31' is not a date DD-MM-YYYY"),
        ("1-12-2020", "'1-12-2020' is not a date DD-MM-YYYY"),
        ("31-11-2020", "'31-11-2020' is not a calendar date"),
        ("29-02-2019", "'29-02-2019' is not a calendar date"),
        ("00-01-2020", "'00-01-2020' is not a calendar date"),
        ("", "empty; expected a date DD-MM-YYYY"),
    ],
)
def test_incident_date_errors(write, source_error, date, message):
    text = INCIDENTS.replace("31-12-2020", date)
    error = source_error(read_police_incidents, write("police/incidents_2020.csv", text))
    assert (error.row, error.column, error.message) == (3, "dato", message)


@pytest.mark.parametrize("name", ["incidents.csv", "incidents_20.csv", "Incidents-2020.csv"])
def test_incident_file_name_must_carry_the_year(write, source_error, name):
    error = source_error(read_police_incidents, write(f"police/{name}", INCIDENTS))
    assert (error.row, error.column) == (None, None)
    assert "does not match incidents_<YYYY>.csv" in error.message


def test_incident_id_must_not_be_suppressed(write, source_error):
    text = INCIDENTS.replace("2020-0002", "..")
    error = source_error(read_police_incidents, write("police/incidents_2020.csv", text))
    assert (error.row, error.column) == (3, "anmeldelse_id")
