"""Shared parsing for the source files: `;`-CSV (and XLSX sheets) into typed, located columns.

A file becomes a `Table`: its cells as trimmed strings under the catalog's raw column names,
plus the line number of every row. The parsers turn one column into a typed Series or raise
`SourceError` naming the first bad row and the column as written in the file. Everything is
vectorised: a national delivery is ~90,000 small files, so per-row Python is avoided.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from sources.catalog import SOURCES_BY_NAME
from sources.errors import SourceError

DELIMITER = ";"
SUPPRESSED = ".."
_INT32_MAX = 2**31 - 1
# An amount has at most 16 integer digits: the catalog stores it as DECIMAL(18,2).
_AMOUNT_DIGITS = 16

_INTEGER = r"-?[0-9]+"
_DECIMAL = r"-?[0-9]+(?:,[0-9]+)?"
# Thousands separators are optional but, when used, must group every three digits.
_AMOUNT = r"^(-?)([0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,([0-9]+))?$"
_DK_DATE = r"[0-9]{2}-[0-9]{2}-[0-9]{4}"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
_OTHER_DELIMITERS = (",", "\t", "|")
_NO_DATA = "the file has a header but no data rows"


@dataclass(frozen=True)
class Table:
    """One file's data rows: trimmed string cells keyed by raw column name, and where each is."""

    file: str
    cells: pd.DataFrame
    rows: np.ndarray  # line (CSV) or sheet row (XLSX) of each data row; the header is 1
    headers: Mapping[str, str]  # raw column name -> the header as written in the file

    def check(self, name: str, bad: pd.Series | np.ndarray, message: Callable[[str], str]) -> None:
        """Raise for the first row where `bad` holds, with `message(cell)` as the explanation."""
        bad = np.asarray(bad, dtype=bool)
        if bad.any():
            i = int(bad.argmax())
            value = self.cells[name].iat[i]
            raise SourceError(self.file, int(self.rows[i]), self.headers[name], message(value))


def header_key(header: str) -> str:
    """How headers are matched: NFC-normalised, trimmed, case-insensitive."""
    return unicodedata.normalize("NFC", header).strip().casefold()


def match_file_name(path: Path, pattern: re.Pattern[str], expected: str) -> re.Match[str]:
    found = pattern.fullmatch(path.name)
    if found is None:
        raise SourceError(
            str(path), None, None, f"the file name {path.name!r} does not match {expected}"
        )
    return found


# --- reading -------------------------------------------------------------------------------


def read_csv(path: Path, columns: Mapping[str, str], *, cp1252: bool = False) -> Table:
    """Read a `;`-CSV whose header has exactly `columns` (raw name -> contract header)."""
    file = str(path)
    header, body, rows = _split(file, _decode(path, file, cp1252=cp1252))
    return _bind(file, header, body, rows, columns)


def read_csv_open(path: Path, required: Iterable[str]) -> Table:
    """Read a `;`-CSV with any columns; cells are keyed by the upper-cased header.

    For StatBank responses, whose columns are the table's variables.
    """
    file = str(path)
    header, body, rows = _split(file, _decode(path, file, cp1252=False))
    names = [unicodedata.normalize("NFC", h).strip() for h in header]
    _check_header_names(file, names)
    keys = [n.upper() for n in names]
    for column in required:
        if column not in keys:
            raise SourceError(file, None, column, f"missing column {column!r}")
    cells = _trimmed(body, dict(zip(keys, range(len(keys)), strict=True)))
    return Table(file, cells, rows, dict(zip(keys, names, strict=True)))


def read_xlsx(path: Path, columns: Mapping[str, str]) -> Table:
    """Read the first sheet of a workbook: header in row 1, data below, like a CSV."""
    import openpyxl  # only the effort register may be a workbook

    file = str(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # a damaged or mislabelled file, whatever openpyxl makes of it
        raise SourceError(file, None, None, f"not a readable XLSX workbook: {error}") from None
    try:
        sheet = workbook.worksheets[0]
        grid = [
            [_cell_text(v) for v in row]
            for row in sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        ]
    finally:
        workbook.close()
    while grid and not any(grid[-1]):
        grid.pop()
    if not grid:
        raise SourceError(file, None, None, "the first sheet is empty")
    if len(grid) == 1:
        raise SourceError(file, None, None, _NO_DATA)
    header = grid[0]
    while header and not header[-1]:
        header = header[:-1]
    width = len(header)
    for number, row in enumerate(grid[1:], start=2):
        if any(row[width:]):
            raise SourceError(file, number, None, "a value in a column without a header")
        if not any(row):
            raise SourceError(file, number, None, "empty row (only the end may have empty rows)")
    body = pd.DataFrame(
        [(row + [""] * width)[:width] for row in grid[1:]], columns=range(width), dtype=str
    )
    rows = np.arange(2, len(grid) + 1)
    return _bind(file, header, body, rows, columns)


def _cell_text(value: object) -> str:
    """A sheet cell as the text a CSV export would hold (numbers with decimal comma)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # repr is the shortest text that round-trips: 1234.56, not 1234.5599999999999.
        return format(Decimal(repr(value)), "f").replace(".", ",")
    return str(value)


def _decode(path: Path, file: str, *, cp1252: bool) -> str:
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        if not cp1252:
            raise SourceError(
                file, line, None, f"not valid UTF-8 (byte 0x{data[error.start]:02x})"
            ) from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise SourceError(
                file,
                line,
                None,
                f"neither UTF-8 nor Windows-1252 (byte 0x{data[error.start]:02x})",
            ) from None
    # Decomposed letters (å as a + ring) would not match headers or codes written composed.
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # Empty lines at the end are allowed; any other empty line is an error.
    text = text.rstrip("\r\n")
    if not text:
        raise SourceError(file, None, None, "the file is empty")
    return text


def _split(file: str, text: str) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    """Parse CSV text into its header, its data rows (untrimmed) and their line numbers."""
    try:
        grid = pd.read_csv(
            io.StringIO(text),
            sep=DELIMITER,
            header=None,
            index_col=False,
            dtype=str,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, ValueError) as error:
        _diagnose(file, text)
        raise SourceError(file, None, None, f"not readable as ';'-separated CSV: {error}") from None
    header = grid.iloc[0].tolist()
    if len(header) == 1:
        _wrong_delimiter(file, header[0])
    quoted = '"' in text
    # pandas pads rows with too few fields, so count delimiters: outside quoted fields
    # there are exactly (columns - 1) per row. This also catches blank lines.
    delimiters = (grid.shape[1] - 1) * grid.shape[0]
    if quoted:
        delimiters += sum(int(grid[c].str.count(DELIMITER).sum()) for c in grid.columns)
    if text.count(DELIMITER) != delimiters:
        _diagnose(file, text)
        raise SourceError(file, None, None, "rows with a wrong number of fields")
    if quoted:
        # A quoted field may span lines: a row starts after all the lines of the rows before.
        spans = 1 + sum(grid[c].str.count("\n").to_numpy() for c in grid.columns)
        starts = 1 + np.cumsum(spans) - spans
    else:
        starts = np.arange(1, len(grid) + 1)
    if len(grid) == 1:
        raise SourceError(file, None, None, _NO_DATA)
    return header, grid.iloc[1:].reset_index(drop=True), starts[1:]


def _diagnose(file: str, text: str) -> None:
    """Find the first malformed row with the csv module (error path only: it is per-row)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITER, strict=True)
    width = None
    start = 1
    try:
        for record in reader:
            if width is None:
                width = len(record)
                if width == 1:
                    _wrong_delimiter(file, record[0])
            elif not record:
                raise SourceError(
                    file, start, None, "empty line (only the end of the file may have empty lines)"
                )
            elif len(record) != width:
                raise SourceError(
                    file, start, None, f"{len(record)} fields where the header has {width}"
                )
            start = reader.line_num + 1
    except csv.Error as error:
        raise SourceError(file, reader.line_num, None, f"malformed CSV: {error}") from None


def _wrong_delimiter(file: str, header: str) -> None:
    found = [d for d in _OTHER_DELIMITERS if d in header]
    hint = f"; it looks {found[0]!r}-separated" if found else ""
    raise SourceError(
        file, 1, None, f"expected ';'-separated columns, but the header is one column{hint}"
    )


def _check_header_names(file: str, names: list[str]) -> None:
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise SourceError(file, 1, None, f"header column {position} has no name")
        key = header_key(name)
        if key in seen:
            raise SourceError(file, 1, name, "the column appears twice in the header")
        seen.add(key)


def _bind(
    file: str,
    header: list[str],
    body: pd.DataFrame,
    rows: np.ndarray,
    columns: Mapping[str, str],
) -> Table:
    """Match the file's header to the expected columns (any order, any case)."""
    names = [unicodedata.normalize("NFC", h).strip() for h in header]
    _check_header_names(file, names)
    wanted = {header_key(h): raw for raw, h in columns.items()}
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        raw = wanted.get(header_key(name))
        if raw is None:
            expected = ";".join(columns.values())
            raise SourceError(file, 1, name, f"unexpected column; the columns are {expected}")
        positions[raw] = position
    for raw, contract in columns.items():
        if raw not in positions:
            raise SourceError(file, None, contract, f"missing column {contract!r}")
    headers = {raw: names[position] for raw, position in positions.items()}
    return Table(file, _trimmed(body, positions), rows, headers)


def _trimmed(body: pd.DataFrame, positions: Mapping[str, int]) -> pd.DataFrame:
    return pd.DataFrame({raw: body[position].str.strip() for raw, position in positions.items()})


# --- parsing columns -----------------------------------------------------------------------


def _not(what: str) -> Callable[[str], str]:
    def message(value: str) -> str:
        if value == "":
            return f"empty; expected {what}"
        if value == SUPPRESSED:
            return f"'..' (suppressed) is only allowed in statistics values; expected {what}"
        return f"{value!r} is not {what}"

    return message


def text(t: Table, name: str) -> pd.Series:
    """Trimmed text; empty becomes missing. `..` is refused: it only means suppressed numbers."""
    values = t.cells[name]
    t.check(name, values == SUPPRESSED, _not("text"))
    return values.mask(values == "")


def integer(t: Table, name: str) -> pd.Series:
    values = t.cells[name]
    t.check(name, ~values.str.fullmatch(_INTEGER), _not("an integer"))
    out_of_range = lambda v: f"{v!r} is out of the integer range"  # noqa: E731
    t.check(name, values.str.lstrip("-").str.lstrip("0").str.len() > 10, out_of_range)
    numbers = pd.to_numeric(values).astype("Int64")
    t.check(name, numbers.abs() > _INT32_MAX, out_of_range)
    return numbers


def decimal(t: Table, name: str) -> pd.Series:
    """A number with decimal comma (`412,6`, `61`), no thousands separator."""
    values = t.cells[name]
    t.check(name, ~values.str.fullmatch(_DECIMAL), _not("a number with decimal comma (412,6)"))
    return _to_float(values)


def statistic(t: Table, name: str) -> tuple[pd.Series, pd.Series]:
    """A statistics value: a decimal-comma number, or `..` (suppressed) -> missing + flag."""
    values = t.cells[name]
    suppressed = values == SUPPRESSED
    ok = suppressed | values.str.fullmatch(_DECIMAL)
    t.check(name, ~ok, _not("a number with decimal comma (412,6) or '..'"))
    return _to_float(values.mask(suppressed)), suppressed.astype("boolean")


def _to_float(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.str.replace(",", ".", regex=False)).astype("Float64")


def amount(t: Table, name: str) -> pd.Series:
    """DKK with optional thousands `.` and decimal `,`, as a canonical decimal string `-1234.50`."""
    values = t.cells[name]
    parts = values.str.extract(_AMOUNT)
    t.check(name, parts[1].isna(), _not("an amount (1.234,50, 1234,50, 1.500 or -350,00)"))
    fraction = parts[2].fillna("")
    t.check(name, fraction.str.len() > 2, lambda v: f"{v!r} has more than 2 decimals")
    whole = parts[1].str.replace(".", "", regex=False).str.lstrip("0")
    whole = whole.mask(whole == "", "0")
    t.check(name, whole.str.len() > _AMOUNT_DIGITS, lambda v: f"{v!r} is too large an amount")
    fraction = fraction.str.pad(2, side="right", fillchar="0")
    sign = parts[0].mask((whole == "0") & (fraction == "00"), "")
    return sign + whole + "." + fraction


def dk_date(t: Table, name: str) -> pd.Series:
    """A `DD-MM-YYYY` date as an ISO string."""
    values = t.cells[name]
    t.check(name, ~values.str.fullmatch(_DK_DATE), _not("a date DD-MM-YYYY"))
    iso = values.str.slice(6, 10) + "-" + values.str.slice(3, 5) + "-" + values.str.slice(0, 2)
    _check_calendar(t, name, iso)
    return iso


def iso_date(t: Table, name: str, *, optional: bool = False) -> pd.Series:
    """A `YYYY-MM-DD` date; with `optional`, an empty cell is missing."""
    values = t.cells[name]
    empty = values == "" if optional else pd.Series(False, index=values.index)
    t.check(name, ~(empty | values.str.fullmatch(_ISO_DATE)), _not("a date YYYY-MM-DD"))
    _check_calendar(t, name, values.mask(empty, "2000-01-01"))
    return values.mask(empty)


def _check_calendar(t: Table, name: str, iso: pd.Series) -> None:
    year = iso.str.slice(0, 4).astype("int64").to_numpy()
    month = iso.str.slice(5, 7).astype("int64").to_numpy()
    day = iso.str.slice(8, 10).astype("int64").to_numpy()
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last = _DAYS_IN_MONTH[np.clip(month - 1, 0, 11)] + (leap & (month == 2))
    bad = (year < 1) | (month < 1) | (month > 12) | (day < 1) | (day > last)
    t.check(name, bad, lambda v: f"{v!r} is not a calendar date")


def json_objects(t: Table, names: Iterable[str]) -> pd.Series:
    """Per row, the JSON object {column: cell} of `names` with sorted keys, as json.dumps
    (sort_keys=True, ensure_ascii=False) would write it."""
    result = pd.Series("", index=t.cells.index, dtype=object)
    for i, name in enumerate(sorted(names)):
        values = t.cells[name]
        encoded = {v: json.dumps(v, ensure_ascii=False) for v in values.unique()}
        key = ("" if i == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": "
        result = result + key + values.map(encoded).astype(object)
    return ("{" + result + "}").astype(str)


def to_frame(t: Table, source: str, values: Mapping[str, pd.Series]) -> pd.DataFrame:
    """The reader's result: the catalog's columns in catalog order, plus `_source_row`."""
    columns = {name: values[name] for name, _ in SOURCES_BY_NAME[source].columns}
    columns["_source_row"] = pd.Series(t.rows, index=t.cells.index, dtype="Int64")
    return pd.DataFrame(columns)
