import pytest

from boligsocial.sources.vandalism import read_vandalism_ledger

LEDGER = (
    "Selskab;Afdeling;Sagsnr;Linje;Dato;Kategori;Tekst;Beløb\n"
    'FOB;1;S-100;1;03-02-2020;Hærværk;"Knust rude; opgang 4";1.234,50\n'
    'FOB;1;S-100;2;04-02-2020;Graffiti;"Afrensning; gavl";1.500\n'
    "FOB;12;S-101;1;29-02-2020;Brand;Kreditnota;-350,00\n"
    "FOB;12;S-102;1;01-03-2020;Glas;Ny glasdør;1234,5\n"
    "FOB;12;S-103;1;02-03-2020;Glas;Rettelse;-0\n"
    "FOB;12;S-104;1;02-03-2020;Glas;Stor sag;1.234.567\n"
)


def test_ledger_is_typed(write):
    frame = read_vandalism_ledger(write("vandalism/FOB_2020-03.csv", LEDGER))
    assert list(frame.columns) == [
        "selskab",
        "afdeling",
        "sagsnr",
        "linje",
        "dato",
        "kategori",
        "tekst",
        "beloeb",
        "export_period",
        "_source_row",
    ]
    assert frame["beloeb"].tolist() == [
        "1234.50",
        "1500.00",
        "-350.00",
        "1234.50",
        "0.00",
        "1234567.00",
    ]
    assert frame["dato"].tolist()[:3] == ["2020-02-03", "2020-02-04", "2020-02-29"]
    assert frame["tekst"].tolist()[:2] == ["Knust rude; opgang 4", "Afrensning; gavl"]
    assert frame["kategori"].iloc[0] == "Hærværk"
    assert frame["export_period"].tolist() == ["2020-03"] * 6
    assert frame["afdeling"].dtype == "Int64"
    assert frame["linje"].dtype == "Int64"
    assert frame["_source_row"].tolist() == [2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_ledger_encodings(write, encoding):
    path = write("vandalism/FOB_2020-03.csv", LEDGER, encoding=encoding, crlf=True)
    frame = read_vandalism_ledger(path)
    assert frame["kategori"].iloc[0] == "Hærværk"
    assert frame["tekst"].iloc[3] == "Ny glasdør"


def test_ledger_header_case_order_and_cp1252_header(write):
    text = (
        "beløb;SELSKAB;afdeling;sagsnr;linje;dato;kategori;tekst\n"
        "-1.000,5;FOB;1;S;1;01-03-2020;Brand;x\n"
    )
    frame = read_vandalism_ledger(write("vandalism/FOB_2020-03.csv", text, encoding="cp1252"))
    assert frame["beloeb"].tolist() == ["-1000.50"]


def test_bytes_outside_cp1252_are_an_error(write, source_error):
    data = LEDGER.encode("cp1252").replace(b"Glas;Ny", b"Glas;\x81Ny")
    error = source_error(read_vandalism_ledger, write("vandalism/FOB_2020-03.csv", data))
    assert (error.row, error.column) == (5, None)
    assert error.message == "neither UTF-8 nor Windows-1252 (byte 0x81)"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1.23,4", "'1.23,4' is not an amount"),
        ("12.34", "'12.34' is not an amount"),
        ("1234.5", "'1234.5' is not an amount"),
        ("1,234,5", "'1,234,5' is not an amount"),
        ("1.2345", "'1.2345' is not an amount"),
        (".500", "'.500' is not an amount"),
        ("12,", "'12,' is not an amount"),
        ("12,345", "'12,345' has more than 2 decimals"),
        ("", "empty; expected an amount"),
        ("..", "'..' (suppressed) is only allowed in statistics values"),
        ("12345678901234567", "'12345678901234567' is too large an amount"),
        ("kr 12", "'kr 12' is not an amount"),
    ],
)
def test_amount_errors(write, source_error, amount, message):
    text = LEDGER.replace("-350,00", amount)
    error = source_error(read_vandalism_ledger, write("vandalism/FOB_2020-03.csv", text))
    assert (error.row, error.column) == (4, "Beløb")
    assert error.message.startswith(message)


def test_selskab_must_be_the_file_org_exactly(write, source_error):
    text = LEDGER.replace("FOB;12;S-102", "fob;12;S-102")
    error = source_error(read_vandalism_ledger, write("vandalism/FOB_2020-03.csv", text))
    assert (error.row, error.column) == (5, "Selskab")
    assert error.message == "'fob' differs from the organisation in the file name, 'FOB'"


@pytest.mark.parametrize(
    "name",
    ["FOB-2020-03.csv", "FOB_2020-13.csv", "FOB_2020.csv", "F_OB_2020-03.csv", "_2020-03.csv"],
)
def test_file_name_must_be_org_and_period(write, source_error, name):
    error = source_error(read_vandalism_ledger, write(f"vandalism/{name}", LEDGER))
    assert (error.row, error.column) == (None, None)
    assert "does not match <org>_<YYYY-MM>.csv" in error.message


def test_org_with_digits(write):
    text = LEDGER.replace("FOB;", "BO42;")
    frame = read_vandalism_ledger(write("vandalism/BO42_2021-12.csv", text))
    assert set(frame["selskab"]) == {"BO42"}
    assert set(frame["export_period"]) == {"2021-12"}


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("FOB;12;S-101;1;", "FOB;12;S-101;1,5;", "Linje"),
        ("FOB;12;S-101;1;", "FOB;A12;S-101;1;", "Afdeling"),
        ("29-02-2020", "30-02-2020", "Dato"),
        ("29-02-2020", "2020-02-29", "Dato"),
        ("S-101", "..", "Sagsnr"),
    ],
)
def test_ledger_parse_errors(write, source_error, old, new, column):
    text = LEDGER.replace(old, new)
    error = source_error(read_vandalism_ledger, write("vandalism/FOB_2020-03.csv", text))
    assert (error.row, error.column) == (4, column)
