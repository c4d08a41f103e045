import pickle

from boligsocial.sources.errors import SourceError


def test_text_names_file_row_and_column():
    error = SourceError("police/incidents_2020.csv", 7, "dato", "'31-02-2020' is not a date")
    assert str(error) == "police/incidents_2020.csv, row 7, column dato: '31-02-2020' is not a date"
    assert isinstance(error, ValueError)
    assert (error.file, error.row, error.column) == ("police/incidents_2020.csv", 7, "dato")


def test_text_omits_missing_row_and_column():
    assert str(SourceError("a.csv", None, None, "the file is empty")) == "a.csv: the file is empty"
    assert str(SourceError("a.csv", None, "MÅL", "missing")) == "a.csv, column MÅL: missing"
    assert str(SourceError("a.csv", 3, None, "blank")) == "a.csv, row 3: blank"


def test_survives_pickling():
    error = pickle.loads(pickle.dumps(SourceError("a.csv", 2, "x", "bad")))
    assert (error.file, error.row, error.column, error.message) == ("a.csv", 2, "x", "bad")
    assert str(error) == "a.csv, row 2, column x: bad"
