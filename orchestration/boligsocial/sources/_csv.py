"""Shared parsing for the source files: `;`-CSV (and XLSX sheets) into typed, located columns.

A file becomes a `Table`: its cells as trimmed Arrow strings under the catalog's raw column
names, plus the line number of every row. The parsers turn one column into a typed Arrow
array or raise `SourceError` naming the first bad row and the column as written in the file.
A national delivery is ~90,000 small files, so the per-file cost matters: the work is done
by C code (Arrow's CSV parser, or the csv module where Arrow could read a file differently;
Arrow compute kernels) with no Python loop over rows, and pandas
(whose per-operation overhead dominates small files) is only used for the result.
"""

from __future__ import annotations

import array
import csv
import functools
import hashlib
import io
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from boligsocial.configuration import config
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.sources.errors import SourceError, file_error, open_source_file

DELIMITER = ";"
SUPPRESSED = ".."
_INT32_MAX = 2**31 - 1

# Arrow (RE2) patterns, anchored: Arrow matches substrings.
_INTEGER = r"^-?[0-9]+$"
_INTEGER_DIGITS = r"^-?0*[0-9]{1,10}$"  # beyond would overflow int64 before the range check
_DECIMAL = r"^-?[0-9]+(?:,[0-9]+)?$"
# Thousands separators are optional but, when used, must group every three digits.
_AMOUNT = r"^-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]{1,2})?$"
_MORE_DECIMALS = re.compile(r",[0-9]{3,}$")
# Exact numbers are stored as DECIMAL(18, scale): at most 18 - scale integer digits.
_DECIMAL_DIGITS = 18
_AMOUNT_SCALE = 2
_DK_DATE = r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$"
_DK_DATE_PARTS = r"^(..)-(..)-(....)$"
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_OTHER_DELIMITERS = (",", "\t", "|")
# A StatBank table has a handful of variables; its columns are not known in advance, and each
# is a column builder for Arrow and a key on every row's dimensions: bounded here.
MAX_OPEN_COLUMNS = 100
# A line the csv module reads (a file Arrow cannot read as it is): its fields are Python
# objects at up to 20 times their bytes. No source's line comes near it.
MAX_SLOW_LINE = 1 << 20
MAX_SHEETS = 32  # sheets of a workbook (the first is read; a few more are instructions)
_PANDAS_TYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.float64(): pd.Float64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(na_value=np.nan),  # pandas' `str`
}


# A message kind (sources/messages.py), or the function that picks it for the offending cell.
Kind = str | Callable[[str], str]


@dataclass(frozen=True)
class Table:
    """One file's data rows: trimmed string cells keyed by raw column name, and where each is."""

    file: str
    cells: Mapping[str, pa.StringArray]
    rows: np.ndarray  # line (CSV) or sheet row (XLSX) of each data row; the header is 1
    headers: Mapping[str, str]  # raw column name -> the header as written in the file

    def __len__(self) -> int:
        return len(self.rows)

    def check(self, name: str, bad: pa.BooleanArray, kind: Kind, **params: object) -> None:
        """Raise for the first row where `bad` holds: an error of `kind` (or of `kind(cell)`)
        with `params` and the cell as `value`."""
        if pc.any(bad).as_py():
            i = pc.index(bad, True).as_py()
            value = self.cells[name][i].as_py()
            kind = kind(value) if callable(kind) else kind
            raise SourceError(
                self.file, int(self.rows[i]), self.headers[name], kind=kind, value=value, **params
            )

    def constant(self, value: str) -> pa.StringArray:
        """`value` on every row."""
        return pc.fill_null(pa.nulls(len(self), pa.string()), value)


def header_key(header: str) -> str:
    """How headers are matched: NFC-normalised, trimmed, case-insensitive."""
    return unicodedata.normalize("NFC", header).strip().casefold()


# --- reading -------------------------------------------------------------------------------


def bounded(read: Callable[[Any], pd.DataFrame]) -> Callable[[Any], pd.DataFrame]:
    """A reader (of a path, or of a list of paths) whose running out of memory is the file's
    error in words, naming the limit and the setting, never a MemoryError: no file within
    [limits] max_file_bytes should, but the machine may have less memory than the run needs."""

    @functools.wraps(read)
    def read_bounded(path):
        try:
            return read(path)
        except MemoryError:
            pass  # raised below, once the handler has let the parse's memory go
        file = str(path) if isinstance(path, Path) else os.path.commonpath([str(p) for p in path])
        limit = config.load().limits.max_file_bytes
        raise SourceError(file, None, None, kind="out_of_memory", limit=limit)

    return read_bounded


def read_csv(path: Path, columns: Mapping[str, str], *, cp1252: bool = False) -> Table:
    """Read a `;`-CSV whose header has exactly `columns` (raw name -> contract header).

    A file that Arrow's parser reads as the csv module would (`_batch_body`: every quote in a
    well-formed quoted field, no lone CR, one row per line) is parsed by Arrow: the csv
    module's Python lists were most of a large extract's reading time. Any other file, and
    every error, goes through the csv module (`_split`), which locates the fault.
    """
    file = str(path)
    text = _decode(path, file, cp1252=cp1252)
    body = _batch_body(0, file, text, columns)
    if body is not None:
        # The body is a copy of the text: one of the two is enough while Arrow parses.
        head = text[: len(text) - len(body.text)]
        del text
        [(_, table)] = _parse_bodies([body], columns)
        if table is not None:
            parsed = table.columns
            del table, head
            cells = _arrow_cells(parsed, body.positions, columns)
            return Table(file, cells, np.arange(2, body.lines + 2), body.headers)
        text = head + body.text
    header, cells, rows = _split(file, text, len(columns), _too_wide(columns))
    return _bind(file, header, cells, rows, columns)


def read_csv_open(path: Path, required: Iterable[str]) -> Table:
    """Read a `;`-CSV with any columns; cells are keyed by the upper-cased header.

    For StatBank responses, whose columns are the table's variables. Parsed by Arrow when it
    can be (as `read_csv`), by the csv module otherwise."""
    file = str(path)
    text = _decode(path, file, cp1252=False)
    first = text.partition("\n")[0]
    if first.count(DELIMITER) >= MAX_OPEN_COLUMNS:
        _too_many_columns(file, [])
    written = first.removesuffix("\r").split(DELIMITER)
    columns = {unicodedata.normalize("NFC", h).strip().upper(): h for h in written}
    table = None
    if len(columns) == len(written):  # else duplicates: the csv module's path names them
        body = _batch_body(0, file, text, columns)
        if body is not None:
            head = text[: len(text) - len(body.text)]
            del text  # one copy of the text while Arrow parses
            [(_, parsed)] = _parse_bodies([body], columns)
            if parsed is not None:
                lines, positions, headers = body.lines, body.positions, body.headers
                chunks = parsed.columns
                del body, head, parsed  # the text: Arrow's columns hold the cells now
                cells = _arrow_cells(chunks, positions, columns)
                table = Table(file, cells, np.arange(2, lines + 2), headers)
            else:
                text = head + body.text
    if table is None:
        header, body_columns, rows = _split(file, text, MAX_OPEN_COLUMNS, _too_many_columns)
        names = [unicodedata.normalize("NFC", h).strip() for h in header]
        _check_header_names(file, names)
        keys = [n.upper() for n in names]
        cells = {k: pc.utf8_trim_whitespace(c) for k, c in zip(keys, body_columns, strict=True)}
        table = Table(file, cells, rows, dict(zip(keys, names, strict=True)))
    for column in required:
        if column not in table.cells:
            raise SourceError(file, None, column, kind="missing_column", header=column)
    return table


def _too_wide(columns: Mapping[str, str]) -> Callable[[str, list[str]], None]:
    """The error of a header wider than the contract's: its first names are enough to say it."""

    def too_wide(file: str, header: list[str]) -> None:
        _header_positions(file, header[: len(columns) + 1], columns)

    return too_wide


def _too_many_columns(file: str, header: list[str]) -> None:
    raise SourceError(file, 1, None, kind="too_many_columns", limit=MAX_OPEN_COLUMNS)


def read_xlsx(path: Path, columns: Mapping[str, str]) -> Table:
    """Read the first sheet of a workbook: header in row 1, data below, like a CSV.

    Bounded as the CSV of the same data would be: the workbook's parts unpacked, and the text
    of its cells, are at most [limits] max_file_bytes (a compressed part or one long shared
    string in many cells cannot multiply it), and every row counts toward [limits]
    max_xlsx_rows, empty ones too. Row by row, as the sheet's cells are: its claimed dimension
    is ignored (openpyxl would pad every row to it: one cell at XFD1048576 made 17 billion),
    and a row's work is the header's width, however far its last cell is."""
    import openpyxl  # only the effort register may be a workbook

    file = str(path)
    limits = config.load().limits
    max_rows, max_text = limits.max_xlsx_rows, limits.max_file_bytes
    data = io.BytesIO(read_source_bytes(path))
    _check_unpacked_size(file, data, limits.max_file_bytes)
    try:
        workbook = openpyxl.load_workbook(data, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as error:  # a damaged or mislabelled file, whatever openpyxl makes of it
        raise SourceError(file, None, None, kind="xlsx_unreadable", detail=str(error)) from None
    header: list[str] = []
    records: list[list[str]] = []
    first_empty = None  # the first empty row after the header, fine only at the end
    text_size = 0
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > max_rows:
                raise SourceError(file, number, None, kind="too_many_rows", limit=max_rows)
            if number == 1:
                header = [_cell_text(v) for v in values]
                while header and not header[-1]:
                    header.pop()
                if header:  # its width bounds each row's work below
                    _header_positions(file, header, columns)
                continue
            row = [_cell_text(v) for v in values[: len(header)]]
            beyond = values[len(header) :]
            # Counted in C, not cell by cell: a row may be 16,384 cells wide. count(None) is
            # the fast one (None is found by identity); "" only when something is there.
            beyond_values = len(beyond) - beyond.count(None)
            if beyond_values:
                beyond_values -= beyond.count("")
            if not any(row) and not beyond_values:
                first_empty = first_empty or number
                continue
            if not header:
                raise SourceError(file, 1, None, kind="header_empty")
            if first_empty is not None:
                raise SourceError(file, first_empty, None, kind="empty_sheet_row")
            if beyond_values:
                raise SourceError(file, number, None, kind="value_without_header")
            text_size += sum(map(len, row))
            if text_size > max_text:
                raise SourceError(file, number, None, kind="xlsx_text_too_large", limit=max_text)
            records.append(row + [""] * (len(header) - len(row)))
    finally:
        workbook.close()
    if not header:
        raise SourceError(file, None, None, kind="sheet_empty")
    if not records:
        raise SourceError(file, None, None, kind="no_data")
    body = [pa.array(column, pa.string()) for column in zip(*records, strict=True)]
    return _bind(file, header, body, np.arange(2, len(records) + 2), columns)


def _check_unpacked_size(file: str, data: io.BytesIO, limit: int) -> None:
    """Refuse a workbook whose parts unpack to more than `limit` bytes (a zip bomb), before
    any is unpacked. The sizes are the archive's own claims, and binding: Python's zip reader
    stops a part at its claimed size. Parts other than the sheet's cells and shared strings
    (styles: each becomes Python objects) get a sixteenth of it. And at most MAX_SHEETS
    sheets: openpyxl reads into every sheet it lists (to size it) when it opens the workbook,
    and many sheets may name one large part."""
    import zipfile

    try:
        archive = zipfile.ZipFile(data)
    except (zipfile.BadZipFile, ValueError, EOFError):
        data.seek(0)
        return  # not a zip: openpyxl says what it is not
    with archive:
        parts = archive.infolist()
        total = sum(part.file_size for part in parts)
        if total > limit:
            raise SourceError(
                file, None, None, kind="xlsx_inflated_too_large", size=total, limit=limit
            )
        cells = ("xl/worksheets/", "xl/sharedStrings")
        for part in parts:
            if not part.filename.startswith(cells) and part.file_size > limit // 16:
                size, small = part.file_size, limit // 16
                raise SourceError(
                    file, None, None, kind="xlsx_inflated_too_large", size=size, limit=small
                )
        try:
            book = archive.read("xl/workbook.xml")  # within a sixteenth of the limit
        except (KeyError, zipfile.BadZipFile, ValueError, OSError):
            book = b""  # elsewhere, or damaged: openpyxl says so
    data.seek(0)
    if len(re.findall(rb"<(?:[\w.-]+:)?sheet[\s/>]", book)) > MAX_SHEETS:
        raise SourceError(file, None, None, kind="too_many_sheets", limit=MAX_SHEETS)


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


_parsed_digests: ContextVar[dict[str, str] | None] = ContextVar("parsed_digests", default=None)


@contextmanager
def recording_digests() -> Iterator[dict[str, str]]:
    """Within the block, the sha256 of the bytes each file was parsed from, by its path: the
    loader stores these, not a hash of the file taken at another moment."""
    digests: dict[str, str] = {}
    token = _parsed_digests.set(digests)
    try:
        yield digests
    finally:
        _parsed_digests.reset(token)


def read_source_bytes(path: Path, max_bytes: int | None = None) -> bytes:
    """The file's bytes, refused before reading when larger than [limits] max_file_bytes; a
    file that cannot be read (`open_source_file`) raises its SourceError."""
    limit = config.load().limits.max_file_bytes if max_bytes is None else max_bytes
    with open_source_file(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            data = handle.read(limit + 1) if size <= limit else b""
        except OSError as error:
            raise file_error(str(path), error) from None
    if size > limit or len(data) > limit:
        raise SourceError(
            str(path), None, None, kind="file_too_large", size=max(size, len(data)), limit=limit
        )
    digests = _parsed_digests.get()
    if digests is not None:
        digests[str(path)] = hashlib.sha256(data).hexdigest()
    return data


def _decode(path: Path, file: str, *, cp1252: bool, max_bytes: int | None = None) -> str:
    data = read_source_bytes(path, max_bytes)
    # Empty lines at the end are allowed; any other empty line is an error. They are left out
    # by decoding a view of the rest: `rstrip` on the text would copy all of it.
    end = len(data)
    while end and data[end - 1] in b"\r\n":
        end -= 1
    if not end:
        raise SourceError(file, None, None, kind="file_empty")
    view = memoryview(data)[:end]
    try:
        text = str(view, "utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        if not cp1252:
            raise SourceError(file, line, None, kind="not_utf8", byte=data[error.start]) from None
        try:
            text = str(view, "cp1252")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            byte = data[error.start]
            raise SourceError(file, line, None, kind="not_utf8_or_cp1252", byte=byte) from None
    # Decomposed letters (å as a + ring) would not match headers or codes written composed.
    if not unicodedata.is_normalized("NFC", text):
        # Python orders a run of combining marks in quadratic time.
        # Unicode's stream-safe text format (UAX #15) has at most 30 in a row.
        run = _combining_run().search(text)
        if run is not None:
            line = text.count("\n", 0, run.start()) + 1
            raise SourceError(file, line, None, kind="combining_marks", limit=MAX_COMBINING)
        text = unicodedata.normalize("NFC", text)
    if not text:  # a byte order mark alone
        raise SourceError(file, None, None, kind="file_empty")
    return text


MAX_COMBINING = 30  # combining marks in a row (UAX #15's stream-safe text format)


@functools.cache
def _combining_run() -> re.Pattern[str]:
    """More than MAX_COMBINING characters in a row that are, or decompose into, combining
    marks (Tibetan U+0F73 is not one but becomes two). Built on first use: about a second."""
    marks = "".join(
        re.escape(c)
        for c in map(chr, range(0x110000))
        if unicodedata.combining(c) or unicodedata.combining(unicodedata.normalize("NFD", c)[0])
    )
    return re.compile(f"[{marks}]{{{MAX_COMBINING + 1},}}")


# A line as io.StringIO(newline="") gives it to the csv module (ended by CRLF, LF or a lone CR).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_SPLIT_CELLS = 1 << 20  # cells held as Python lists before they become Arrow columns


def _lines(file: str, text: str) -> Iterator[str]:
    """The text's lines one at a time (io.StringIO would hold a copy at 4 bytes a character);
    a line longer than MAX_SLOW_LINE characters is refused."""
    for number, line in enumerate(_LINE.finditer(text), start=1):
        if line.end() - line.start() > MAX_SLOW_LINE:
            raise SourceError(file, number, None, kind="line_too_long", limit=MAX_SLOW_LINE)
        yield line.group()


def _split(
    file: str, text: str, max_width: int, too_wide: Callable[[str, list[str]], None]
) -> tuple[list[str], list[pa.StringArray], np.ndarray]:
    """Parse CSV text into its header, its data columns (untrimmed) and their line numbers.

    The csv module's records become Arrow columns `_SPLIT_CELLS` cells at a time: as Python
    lists, a file of short cells took over 40 times its size. A header of more than
    `max_width` names is `too_wide`'s error."""
    reader = csv.reader(_lines(file, text), delimiter=DELIMITER, strict=True)
    header: list[str] | None = None
    chunks: list[list[pa.StringArray]] = []
    batch: list[list[str]] = []
    starts = array.array("q")  # each data record's first line
    consistent = True
    try:
        header = next(reader, None)
        if header is not None and len(header) > max_width:
            too_wide(file, header)
        line = reader.line_num + 1
        for record in reader:
            if len(record) != len(header):
                consistent = False  # an empty line too: a record without fields
                break
            batch.append(record)
            starts.append(line)
            line = reader.line_num + 1
            if len(batch) * len(header) >= _SPLIT_CELLS:
                chunks.append([pa.array(c, pa.string()) for c in zip(*batch, strict=True)])
                batch.clear()
    except csv.Error:
        consistent = header = None
    if header is not None and len(header) == 1:
        _wrong_delimiter(file, header[0])
    if not header or not consistent:
        _diagnose(file, text)
        raise SourceError(file, None, None, kind="not_csv")
    if batch:
        chunks.append([pa.array(c, pa.string()) for c in zip(*batch, strict=True)])
    if not chunks:
        raise SourceError(file, None, None, kind="no_data")
    columns = [pa.chunked_array(c).combine_chunks() for c in zip(*chunks, strict=True)]
    return header, columns, np.frombuffer(starts, dtype=np.int64)


def _diagnose(file: str, text: str) -> None:
    """Raise for the first malformed record, with its line (error path only: per record)."""
    reader = csv.reader(_lines(file, text), delimiter=DELIMITER, strict=True)
    width = None
    start = 1
    try:
        for record in reader:
            if width is None:
                width = len(record)
            elif not record:
                raise SourceError(file, start, None, kind="empty_line")
            elif len(record) != width:
                raise SourceError(
                    file, start, None, kind="field_count", fields=len(record), width=width
                )
            start = reader.line_num + 1
    except csv.Error as error:
        raise SourceError(
            file, reader.line_num, None, kind="malformed_csv", detail=str(error)
        ) from None


def _wrong_delimiter(file: str, header: str) -> None:
    found = [d for d in _OTHER_DELIMITERS if d in header]
    if found:
        raise SourceError(file, 1, None, kind="other_delimiter", delimiter=found[0])
    raise SourceError(file, 1, None, kind="wrong_delimiter")


def _check_header_names(file: str, names: list[str]) -> None:
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise SourceError(file, 1, None, kind="unnamed_header", position=position)
        key = header_key(name)
        if key in seen:
            raise SourceError(file, 1, name, kind="duplicate_header")
        seen.add(key)


def _bind(
    file: str,
    header: list[str],
    body: list[pa.StringArray],
    rows: np.ndarray,
    columns: Mapping[str, str],
) -> Table:
    """Match the file's header to the expected columns (any order, any case)."""
    positions, headers = _header_positions(file, header, columns)
    cells = {raw: pc.utf8_trim_whitespace(body[position]) for raw, position in positions.items()}
    return Table(file, cells, rows, headers)


def _header_positions(
    file: str, header: list[str], columns: Mapping[str, str]
) -> tuple[dict[str, int], dict[str, str]]:
    """Raw column name -> position in the file, and -> the header as written."""
    names = [unicodedata.normalize("NFC", h).strip() for h in header]
    _check_header_names(file, names)
    wanted = {header_key(h): raw for raw, h in columns.items()}
    positions: dict[str, int] = {}
    for position, name in enumerate(names):
        raw = wanted.get(header_key(name))
        if raw is None:
            expected = ";".join(columns.values())
            raise SourceError(file, 1, name, kind="unexpected_column", columns=expected)
        positions[raw] = position
    for raw, contract in columns.items():
        if raw not in positions:
            raise SourceError(file, None, contract, kind="missing_column", header=contract)
    return positions, {raw: names[position] for raw, position in positions.items()}


# --- parsing columns -----------------------------------------------------------------------


def not_expected(value: str) -> str:
    """The kind of error of a cell that is not what its column expects (`expected`)."""
    if value == "":
        return "empty_cell"
    if value == SUPPRESSED:
        return "suppressed_outside_statistics"
    return "wrong_value"


def _unlocated(t: Table, name: str, error: Exception) -> SourceError:
    """For a conversion Arrow refused although no row broke the checks before it."""
    return SourceError(t.file, None, t.headers[name], kind="cannot_convert", detail=str(error))


def _mismatch(values: pa.StringArray, pattern: str) -> pa.BooleanArray:
    return pc.invert(pc.match_substring_regex(values, pattern))


def text(t: Table, name: str) -> pa.StringArray:
    """Trimmed text; empty becomes missing. `..` is refused: it only means suppressed numbers."""
    values = t.cells[name]
    t.check(name, pc.equal(values, SUPPRESSED), not_expected, expected="text")
    return pc.if_else(pc.equal(values, ""), None, values)


def integer(t: Table, name: str) -> pa.Int64Array:
    values = t.cells[name]
    t.check(name, _mismatch(values, _INTEGER), not_expected, expected="integer")
    try:
        return values.cast(pa.int32()).cast(pa.int64())
    except pa.ArrowInvalid as error:  # out of range: find the row (error path)
        big = pc.invert(pc.match_substring_regex(values, _INTEGER_DIGITS))
        big = pc.or_(
            big, pc.greater(pc.abs(pc.if_else(big, "0", values).cast(pa.int64())), _INT32_MAX)
        )
        t.check(name, big, "integer_range")
        raise _unlocated(t, name, error) from None


def decimal(t: Table, name: str, *, scale: int | None = None) -> pa.Array:
    """A number with decimal comma (`412,6`, `61`), no thousands separator: a double, or, with
    `scale`, exact: a canonical decimal string with `scale` decimals (`412.60` for scale 2)."""
    values = t.cells[name]
    t.check(name, _mismatch(values, _DECIMAL), not_expected, expected="decimal")
    if scale is None:
        return _to_float(values)
    more = pc.match_substring_regex(values, rf",[0-9]{{{scale + 1},}}$")
    t.check(name, more, "amount_decimals", decimals=scale)
    return _exact(t, name, pc.replace_substring(values, ",", "."), scale, "number_too_large")


def statistic(t: Table, name: str) -> tuple[pa.DoubleArray, pa.BooleanArray]:
    """A statistics value: a decimal-comma number, or `..` (suppressed) -> missing + flag."""
    values = t.cells[name]
    suppressed = pc.equal(values, SUPPRESSED)
    bad = pc.and_not(_mismatch(values, _DECIMAL), suppressed)
    t.check(name, bad, not_expected, expected="statistic")
    return _to_float(pc.if_else(suppressed, None, values)), suppressed


def _to_float(values: pa.StringArray) -> pa.DoubleArray:
    return pc.replace_substring(values, ",", ".").cast(pa.float64())


def _not_an_amount(value: str) -> str:
    return "amount_decimals" if _MORE_DECIMALS.search(value) else not_expected(value)


def amount(t: Table, name: str) -> pa.StringArray:
    """DKK with optional thousands `.` and decimal `,`, as a canonical decimal string `-1234.50`."""
    values = t.cells[name]
    t.check(
        name, _mismatch(values, _AMOUNT), _not_an_amount, expected="amount", decimals=_AMOUNT_SCALE
    )
    plain = pc.replace_substring(pc.replace_substring(values, ".", ""), ",", ".")
    return _exact(t, name, plain, _AMOUNT_SCALE, "amount_too_large")


def _exact(
    t: Table, name: str, plain: pa.StringArray, scale: int, too_large: str
) -> pa.StringArray:
    """`plain` decimals (`-1234.5`, at most `scale` decimals) as DECIMAL(18, scale) text;
    `too_large` is the error's kind for a value beyond that."""
    try:
        return plain.cast(pa.decimal128(_DECIMAL_DIGITS, scale)).cast(pa.string())
    except pa.ArrowInvalid as error:  # beyond DECIMAL(18, scale): find the row (error path)
        digits = _DECIMAL_DIGITS - scale
        found = pc.match_substring_regex(plain, rf"^-?0*[1-9][0-9]{{{digits},}}")
        t.check(name, found, too_large)
        raise _unlocated(t, name, error) from None


def dk_date(t: Table, name: str) -> pa.StringArray:
    """A `DD-MM-YYYY` date as an ISO string."""
    values = t.cells[name]
    t.check(name, _mismatch(values, _DK_DATE), not_expected, expected="dk_date")
    iso = pc.replace_substring_regex(values, _DK_DATE_PARTS, r"\3-\2-\1")
    _check_calendar(t, name, iso)
    return iso


def iso_date(t: Table, name: str, *, optional: bool = False) -> pa.StringArray:
    """A `YYYY-MM-DD` date; with `optional`, an empty cell is missing."""
    values = t.cells[name]
    if optional:
        values = pc.if_else(pc.equal(values, ""), None, values)
    # A missing value matches nothing, so fill_null keeps it from counting as bad.
    bad = pc.fill_null(_mismatch(values, _ISO_DATE), False)
    t.check(name, bad, not_expected, expected="iso_date")
    _check_calendar(t, name, values)
    return values


def _check_calendar(t: Table, name: str, iso: pa.StringArray) -> None:
    """Every (well-formed) ISO date is a real one: no 30 February."""
    try:
        iso.cast(pa.date32())
    except pa.ArrowInvalid as error:
        # Error path. strptime rolls 2019-02-29 over to 2019-03-01: a real date round-trips.
        parsed = pc.strptime(iso, format="%Y-%m-%d", unit="s", error_is_null=True)
        same = pc.fill_null(pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), iso), False)
        t.check(name, pc.and_not(pc.is_valid(iso), same), "not_calendar_date")
        raise _unlocated(t, name, error) from None


def json_objects(t: Table, names: Iterable[str]) -> pa.StringArray:
    """Per row, the JSON object {column: cell} of `names` as json.dumps(sort_keys=True,
    ensure_ascii=False) writes it.

    The objects repeat every name on every row: many columns of short cells, or long names,
    make them far larger than the file, so they are refused beyond 4 × [limits]
    max_file_bytes characters, counted before they are made."""
    names = sorted(names)
    if not names:
        return t.constant("{}")
    parts: list[pa.Array | pa.Scalar] = [pa.scalar("{")]
    size = 2 * len(t)
    for i, name in enumerate(names):
        values = t.cells[name]
        distinct = pc.unique(values)
        encoded = pa.array(
            [json.dumps(v, ensure_ascii=False) for v in distinct.to_pylist()], pa.string()
        )
        key = ("" if i == 0 else ", ") + json.dumps(name, ensure_ascii=False) + ": "
        taken = pc.take(encoded, pc.index_in(values, distinct))
        size += len(key) * len(t) + (pc.sum(pc.utf8_length(taken)).as_py() or 0)
        parts += [pa.scalar(key), taken]
    limit = 4 * config.load().limits.max_file_bytes
    if size > limit:
        raise SourceError(t.file, None, None, kind="dimensions_too_large", size=size, limit=limit)
    parts.append(pa.scalar("}"))
    return pc.binary_join_element_wise(*parts, "")


def to_frame(t: Table, source: str, values: Mapping[str, pa.Array]) -> pd.DataFrame:
    """The reader's result: the catalog's columns in catalog order, plus `_source_row`."""
    columns = {
        name: _PANDAS_TYPES[values[name].type].__from_arrow__(values[name])
        for name, _ in SOURCES_BY_NAME[source].columns
    }
    columns["_source_row"] = pd.array(t.rows, dtype="Int64")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(t)), copy=False)


# --- many files at once --------------------------------------------------------------------
# A national delivery has ~90,000 small ledger exports; read one by one, the fixed cost per
# file (csv module, Arrow kernels, pandas) dominates. Here files are decoded and their headers
# checked one by one (cheap), and then their bodies, grouped by column order, are parsed by one
# pyarrow.csv call and checked by the same column parsers over all rows at once. A file the
# batch cannot take as it is (a header problem, a quote the two parsers could read
# differently, a field over several lines) is read by the one-file reader instead, which
# raises its exact error or gives its rows.

BATCH_FILES = 20_000  # files per batch: bounds the memory of the decoded texts
# A quoted field as writers write it: opened right after a delimiter or line start, closed
# right before one or a line end, inner quotes doubled, on one line. When every quote of a
# body is inside such a field, Arrow and the csv module (strict) read it alike; any other
# quote (stray, unclosed: Arrow would read to the end of the data) sends the file to the
# csv module. The quote comes first in the pattern so that `re` jumps from quote to quote.
_QUOTED_FIELD = re.compile(r'"(?<![^;\n]")(?:[^"\r\n]|"")*"(?![^;\r\n])')


@dataclass(frozen=True)
class BatchTable(Table):
    """Many files' rows as one table; `file_index` says whose each row is."""

    file_index: np.ndarray  # per row: the position of its file in `files`
    files: tuple[str, ...]
    file_headers: tuple[Mapping[str, str], ...]  # per file: raw name -> header as written

    def check(self, name: str, bad: pa.BooleanArray, kind: Kind, **params: object) -> None:
        """Raise for the first row where `bad` holds, naming that row's file."""
        if pc.any(bad).as_py():
            i = pc.index(bad, True).as_py()
            k = int(self.file_index[i])
            value = self.cells[name][i].as_py()
            kind = kind(value) if callable(kind) else kind
            raise SourceError(
                self.files[k],
                int(self.rows[i]),
                self.file_headers[k][name],
                kind=kind,
                value=value,
                **params,
            )


@dataclass
class _Body:
    index: int  # position in the caller's list of files
    text: str  # the data lines, without the header
    lines: int
    positions: dict[str, int]
    headers: dict[str, str]


def read_many(
    paths: list[Path],
    columns: Mapping[str, str],
    *,
    cp1252: bool,
    convert: Callable[[BatchTable], pd.DataFrame],
    read_one: Callable[[Path], pd.DataFrame],
) -> pd.DataFrame:
    """Read many files of one source: what `read_one` gives for each, concatenated, plus
    `_file_index` (the position of the row's file in `paths`).

    `convert` turns a batch into the reader's columns (the same parsers as the one-file
    reader, so the same checks and messages). The first bad file found raises its error
    (file, row, column); with several bad files, which one is reported first may differ
    from reading them one by one in order.
    """
    frames = []
    max_bytes = config.load().limits.max_file_bytes  # once, not per file
    headers: dict[str, tuple | None] = {}
    for start in range(0, len(paths), BATCH_FILES):
        chunk = list(enumerate(paths[start : start + BATCH_FILES], start=start))
        groups: dict[tuple[int, ...], list[_Body]] = {}
        single: list[int] = []
        for index, path in chunk:
            file = str(path)
            # Encoding problems raise here, as they would in the one-file reader.
            text = _decode(path, file, cp1252=cp1252, max_bytes=max_bytes)
            body = _batch_body(index, file, text, columns, headers)
            if body is None:
                single.append(index)
            else:
                key = (len(body.positions), *(body.positions[raw] for raw in columns))
                groups.setdefault(key, []).append(body)
        for bodies in groups.values():
            for parsed, table in _parse_bodies(bodies, columns):
                if table is None:
                    single.append(parsed[0].index)
                else:
                    frames.append(_convert(parsed, table, paths, columns, convert))
        for index in sorted(single):
            frame = read_one(paths[index])
            frame["_file_index"] = np.full(len(frame), index, dtype=np.int64)
            frames.append(frame)
    if not frames:
        return read_one(paths[0]) if paths else pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def _batch_body(
    index: int,
    file: str,
    text: str,
    columns: Mapping[str, str],
    headers: dict[str, tuple | None] | None = None,
):
    """The file's data lines and header positions, or None when the csv module must read it.

    `headers` keeps each header line's positions (None: not for the batch) across the files of
    one call: a delivery's exports share a few dozen header lines."""
    header, newline, body = text.partition("\n")
    header = header.removesuffix("\r")
    if not newline or not body or '"' in header or "\r" in header:
        return None
    if body.count("\r") != body.count("\r\n"):
        return None  # a lone CR ends a line for both, and makes the line count below wrong
    if '"' in body and '"' in _QUOTED_FIELD.sub("", body):
        return None
    known = headers if headers is not None else {}
    if header not in known:
        # More names than columns is an error its first names show: the rest stay unsplit.
        names = header.split(DELIMITER, len(columns) + 1)[: len(columns) + 1]
        try:
            known[header] = None if len(names) == 1 else _header_positions(file, names, columns)
        except SourceError:
            known[header] = None  # the one-file reader reports it, after its checks of the rows
    if known[header] is None:
        return None
    positions, written = known[header]
    return _Body(index, body, body.count("\n") + 1, positions, written)


def _parse_bodies(bodies: list[_Body], columns: Mapping[str, str]):
    """Parse the bodies as one CSV; when Arrow cannot, or its rows are not the files'
    lines (a field over several lines, a lone CR, an empty line), halve the batch until the
    files at fault are alone: those yield no table."""
    import pyarrow.csv as pacsv

    width = len(bodies[0].positions)
    names = [f"c{i}" for i in range(width)]
    # The last line needs no line end; one body is joined without a copy.
    data = "\n".join(b.text for b in bodies).encode("utf-8")
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=DELIMITER, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        ok = table.num_rows == sum(b.lines for b in bodies)
    except pa.ArrowInvalid:
        ok = False
    if ok:
        yield bodies, table
    elif len(bodies) == 1:
        yield bodies, None
    else:
        half = len(bodies) // 2
        yield from _parse_bodies(bodies[:half], columns)
        yield from _parse_bodies(bodies[half:], columns)


def _arrow_cells(
    parsed: list[pa.ChunkedArray | None], positions: Mapping[str, int], columns: Mapping[str, str]
) -> dict[str, pa.StringArray]:
    """Arrow's parsed columns as a `Table`'s cells: by raw name, trimmed. `parsed` is emptied
    as its columns are taken: each untrimmed column is let go once its trimmed copy exists
    (95 MiB of empty cells: 12.5 times its size at the peak, not 14)."""
    cells = {}
    for raw in columns:
        column, parsed[positions[raw]] = parsed[positions[raw]], None
        cells[raw] = pc.utf8_trim_whitespace(column).combine_chunks()
        del column
    return cells


def _convert(
    bodies: list[_Body],
    table: pa.Table,
    paths: list[Path],
    columns: Mapping[str, str],
    convert: Callable[[BatchTable], pd.DataFrame],
) -> pd.DataFrame:
    counts = np.array([b.lines for b in bodies])
    indices = np.array([b.index for b in bodies])
    # Line numbers restart at 2 (after the header) in every file.
    starts = np.cumsum(counts) - counts
    rows = np.arange(counts.sum()) - np.repeat(starts, counts) + 2
    cells = _arrow_cells(table.columns, bodies[0].positions, columns)
    batch = BatchTable(
        file=f"{len(bodies)} files",
        cells=cells,
        rows=rows,
        headers=bodies[0].headers,
        file_index=np.repeat(np.arange(len(bodies)), counts),
        files=tuple(str(paths[i]) for i in indices),
        file_headers=tuple(b.headers for b in bodies),
    )
    frame = convert(batch)
    frame["_file_index"] = np.repeat(indices, counts)
    return frame
