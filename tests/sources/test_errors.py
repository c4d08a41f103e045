"""SourceError: located text, both languages from its kind, pickling, files that cannot be read."""

import os
import pickle
from pathlib import Path

import pytest

from boligsocial.loading.warehouse import file_sha256
from boligsocial.sources._csv import read_source_bytes
from boligsocial.sources.errors import SourceError, file_error


def test_text_names_file_row_and_column():
    error = SourceError("police/incidents_2020.csv", 7, "dato", kind="not_calendar_date",
                        value="31-02-2020")  # fmt: skip
    assert str(error) == (
        "police/incidents_2020.csv, row 7, column dato: '31-02-2020' is not a calendar date"
    )
    assert isinstance(error, ValueError)
    assert (error.file, error.row, error.column) == ("police/incidents_2020.csv", 7, "dato")
    assert error.value == "31-02-2020"
    assert error.text("da") == "'31-02-2020' er ikke en dato i kalenderen"


def test_text_omits_missing_row_and_column():
    assert str(SourceError("a.csv", None, None, kind="file_empty")) == "a.csv: the file is empty"
    missing = SourceError("a.csv", None, "MÅL", kind="missing_column", header="MÅL")
    assert str(missing) == "a.csv, column MÅL: missing column 'MÅL'"
    assert str(SourceError("a.csv", 3, None, kind="empty_line")).startswith("a.csv, row 3: empty")


def test_a_message_is_a_kind_of_the_table_never_free_text():
    with pytest.raises(KeyError, match="no message of kind 'the file is bad'"):
        SourceError("a.csv", 1, None, kind="the file is bad")
    with pytest.raises(TypeError):
        SourceError("a.csv", 1, None, "the file is bad")  # the old free-text form


def test_survives_pickling():
    error = pickle.loads(pickle.dumps(
        SourceError("a.csv", 2, "x", kind="wrong_value", value="ca. 14", expected="statistic")
    ))  # fmt: skip
    assert (error.file, error.row, error.column, error.kind) == ("a.csv", 2, "x", "wrong_value")
    assert str(error) == "a.csv, row 2, column x: 'ca. 14' is not a number with decimal comma " \
        "(412,6) or '..'"  # fmt: skip
    assert error.text("da") == "'ca. 14' er ikke et tal med decimalkomma (412,6) eller '..'"


def test_control_characters_from_the_file_are_shown_not_sent():
    """A header or value with terminal escape sequences cannot rewrite a log line."""
    error = SourceError("a\x1b[2K.csv", 2, "x\x1b[1G", kind="wrong_value",
                        value="\x1b[2K\x1b[1GAlt i orden", expected="integer")  # fmt: skip
    text = str(error)
    assert "\x1b" not in text and "\x1b" not in error.text("da")
    assert text == (
        "a\\x1b[2K.csv, row 2, column x\\x1b[1G: '\\x1b[2K\\x1b[1GAlt i orden' is not an integer"
    )


# Files that cannot be read, made for real: as root (the test machine) a mode-000 file is
# readable, so unreadability is made by what is at the path instead.


def test_a_folder_where_a_file_is_expected(tmp_path: Path):
    (tmp_path / "areas.csv").mkdir()
    with pytest.raises(SourceError) as raised:
        read_source_bytes(tmp_path / "areas.csv")
    assert raised.value.kind == "file_is_folder"
    assert raised.value.text("da") == "er en mappe, hvor der skal være en fil"


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path):
    """Read or hashed (the file sensor hashes every listed file): opened for reading, a pipe
    without a writer would wait for ever."""
    os.mkfifo(tmp_path / "areas.csv")
    for read in (read_source_bytes, file_sha256):
        with pytest.raises(SourceError) as raised:
            read(tmp_path / "areas.csv")
        assert raised.value.kind == "file_not_regular"


def test_a_broken_link_or_a_file_gone_before_it_is_read(tmp_path: Path):
    (tmp_path / "areas.csv").symlink_to(tmp_path / "nothing.csv")
    for path in (tmp_path / "areas.csv", tmp_path / "removed.csv"):
        with pytest.raises(SourceError) as raised:
            read_source_bytes(path)
        assert (raised.value.file, raised.value.kind) == (str(path), "file_missing")


def test_every_os_error_is_a_located_sentence():
    """Permission (not makeable as root) and the rest map to their kinds; any other OSError
    keeps the system's reason as a technical detail."""
    kinds = {
        PermissionError(13, "Permission denied", "a.csv"): "file_permission",
        FileNotFoundError(2, "No such file or directory", "a.csv"): "file_missing",
        IsADirectoryError(21, "Is a directory", "a.csv"): "file_is_folder",
        OSError(5, "Input/output error", "a.csv"): "file_unreadable",
    }
    for os_error, kind in kinds.items():
        error = file_error("a.csv", os_error)
        assert (error.file, error.kind) == ("a.csv", kind)
        assert str(error).startswith("a.csv: ")
    assert file_error("a.csv", OSError(5, "Input/output error")).text("da") == (
        "kan ikke læses (teknisk detalje: Input/output error)"
    )
