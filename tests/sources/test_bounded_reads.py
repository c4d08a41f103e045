"""Hostile files cost bounded memory and time, whatever their shape: a size limit per file
checked before reading; XLSX sheets read as their cells are (not as their claimed dimension
says), their parts unpacked and their cell text within that size, every row counted toward
the row cap; CSV files of short cells, lone CRs or enormous lines read in a small multiple of
their bytes. Each file here is built to break one of these bounds, and is read by the real
reader in a fresh process with a capped address space and a timeout: it ends in a located
error or its rows, never a MemoryError or a traceback."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from boligsocial.configuration import settings
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.police import read_police_incidents
from tests.support.workbooks import workbook_bytes

HEADER = ["indsats_id", "navn", "indsatsområde", "spor", "område", "år", "årsværk", "budget_kr"]
ROW = ["E1", "Lektiecafé", "Uddannelse og beskæftigelse", "drift", "RINGPARKEN", 2020, 1.5, 450000]
GIB = 1 << 30
MIB = 1 << 20
# The peak of a reader process that has imported the readers and read a small file.
BASELINE = 300 * MIB

# Reads one file in a fresh process whose address space is capped at 2 GiB, and says what
# happened and the process's peak resident memory.
READ_CAPPED = """
import json, resource, sys
from pathlib import Path
def high_water():  # this process's own peak: ru_maxrss keeps the forking parent's across exec
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    return int(status.split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.errors import SourceError
from boligsocial.sources.police import read_police_incidents
from boligsocial.sources.statbank import read_statbank
reader = {"efforts": read_efforts, "incidents": read_police_incidents,
          "statbank": read_statbank}[sys.argv[1]]
base = high_water()
if len(sys.argv) > 3:  # this much address space beyond what the imports took
    taken = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (taken + int(sys.argv[3]),) * 2)
try:
    outcome = f"{len(reader(Path(sys.argv[2])))} rows"
except SourceError as error:  # a MemoryError is not caught: it would fail the test
    outcome = f"SourceError: {error}"
peak = high_water()
print(json.dumps({"outcome": outcome, "peak": peak, "read": peak - base}))
"""


def read_capped(reader: str, path: Path, timeout: float = 300, headroom: int = 0) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", READ_CAPPED, reader, str(path), *([str(headroom)] * bool(headroom))],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture
def limits(tmp_path, monkeypatch):
    """limits(**settings): a boligsocial.toml with those [limits], in force."""

    def _limits(**values: int) -> None:
        path = tmp_path / "boligsocial.toml"
        path.write_text("[limits]\n" + "".join(f"{k} = {v}\n" for k, v in values.items()))
        monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(path))

    return _limits


def test_one_cell_at_xfd1048576_is_read_without_padding_every_row(tmp_path):
    """5 KB on disk, 1,048,576 × 16,384 cells as the sheet claims: refused in bounded memory,
    at the row cap, which the empty rows before that cell count toward."""
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (HEADER, ROW):
        sheet.append(row)
    sheet["XFD1048576"] = "x"
    path = tmp_path / "efforts" / "indsatser.xlsx"
    path.parent.mkdir()
    book.save(path)
    assert path.stat().st_size < 10_000

    result = read_capped("efforts", path)
    assert result["outcome"] == (
        f"SourceError: {path}, row 100001: more than 100,000 rows "
        "([limits] max_xlsx_rows in boligsocial.toml)"
    ), result
    assert result["peak"] < GIB, result


def test_an_xlsx_over_the_row_cap_is_refused_naming_the_setting(tmp_path, limits, source_error):
    limits(max_xlsx_rows=3)
    book = openpyxl.Workbook()
    for i in range(4):
        book.active.append([f"E{i}", *ROW[1:]] if i else HEADER)
    path = tmp_path / "indsatser.xlsx"
    book.save(path)
    error = source_error(read_efforts, path)
    assert error.row == 4
    assert "more than 3 rows ([limits] max_xlsx_rows" in error.message


@pytest.mark.parametrize("name", ["police/incidents_2015.csv", "efforts/indsatser.xlsx"])
def test_a_file_over_the_size_limit_is_refused_before_reading(
    name, limits, source_error, write, tmp_path
):
    limits(max_file_bytes=1000)
    path = write(name, b"x" * 1001)
    reader = read_efforts if name.endswith("xlsx") else read_police_incidents
    error = source_error(reader, path)
    assert error.row is None and error.column is None
    assert error.message == (
        "the file is 1,001 bytes, more than the limit of 1,000 "
        "([limits] max_file_bytes in boligsocial.toml)"
    )


@pytest.mark.slow  # 100 MB
# One character beyond Latin-1 makes Python hold the whole text at 4 bytes a character.
@pytest.mark.parametrize("first_category", ["Uro og gadeuorden", "Uro 🚨"])
def test_a_100_mb_incidents_file_is_read_in_bounded_memory(tmp_path, first_category):
    path = tmp_path / "police" / "incidents_2015.csv"
    path.parent.mkdir()
    line = "SJP-2015-{:07d};01-01-2015;Motalavej;Uro og gadeuorden\n"
    rows = 100_000_000 // len(line.format(0))
    with path.open("w", encoding="utf-8") as handle:
        handle.write(
            f"anmeldelse_id;dato;område;kategori\nSJP-1;01-01-2015;Parkvej;{first_category}\n"
        )
        rows += 1
        for start in range(0, rows, 100_000):
            handle.write(
                "".join(line.format(i) for i in range(start, min(rows - 1, start + 100_000)))
            )

    result = read_capped("incidents", path)
    assert result["outcome"] == f"{rows} rows", result
    assert result["peak"] < 2 * GIB, result
    print(f"peak {result['peak'] / 2**20:.0f} MiB for {path.stat().st_size / 2**20:.0f} MiB")


# --- XLSX: parts that unpack to gigabytes, one string in many cells, explicit empty cells -----

SPREADSHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _rewrite_parts(path: Path, base: bytes, parts: dict) -> None:
    """The workbook `base` saved to `path` with each of `parts` (a new one too) written by
    `write(old bytes or b"", handle)`, streamed: a part may unpack to far more than the test
    holds in memory."""
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(path, "w") as target:
        old = {item.filename: source.read(item) for item in source.infolist()}
        for name in [*old, *(p for p in parts if p not in old)]:
            if name not in parts:
                target.writestr(name, old[name], compress_type=zipfile.ZIP_DEFLATED)
                continue
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with target.open(info, "w", force_zip64=True) as handle:
                parts[name](old.get(name, b""), handle)


def _with_shared_strings(old: bytes, handle) -> None:
    """[Content_Types].xml naming a shared strings part (openpyxl writes strings inline)."""
    handle.write(
        old.replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        )
    )


def _efforts_path(tmp_path: Path) -> Path:
    path = tmp_path / "efforts" / "indsatser.xlsx"
    path.parent.mkdir(exist_ok=True)
    return path


def test_shared_strings_that_unpack_past_the_limit_are_refused_before_unpacking(tmp_path, limits):
    """A 300 KB workbook whose sharedStrings.xml unpacks to 300 MiB (a zip bomb)."""
    limits(max_file_bytes=8 * MIB)
    path = _efforts_path(tmp_path)

    def shared_strings(old: bytes, handle) -> None:
        handle.write(f'<sst xmlns="{SPREADSHEET}"><si><t>'.encode())
        block = b"A" * MIB
        for _ in range(300):
            handle.write(block)
        handle.write(b"</t></si></sst>")

    parts = {"[Content_Types].xml": _with_shared_strings, "xl/sharedStrings.xml": shared_strings}
    _rewrite_parts(path, workbook_bytes(HEADER, ROW), parts)
    assert path.stat().st_size < 1 * MIB

    result = read_capped("efforts", path, timeout=60)
    assert result["outcome"].startswith(
        f"SourceError: {path}: the workbook's parts unpack to 314,5"
    ), result
    assert "more than the limit of 8,388,608 ([limits] max_file_bytes" in result["outcome"]
    assert result["peak"] < BASELINE, result


def test_one_long_shared_string_in_many_cells_is_not_copied_per_cell(tmp_path):
    """130 KB on disk; one 32,000-character string in 80,000 cells would be 2.5 GB of text."""
    path = _efforts_path(tmp_path)
    long = "Lektiecafé " * 2909  # 32,000 characters

    def shared_strings(old: bytes, handle) -> None:
        handle.write(f'<sst xmlns="{SPREADSHEET}"><si><t>{long}</t></si></sst>'.encode())

    def sheet(old: bytes, handle) -> None:
        letters = [openpyxl.utils.get_column_letter(i) for i in range(1, len(HEADER) + 1)]
        handle.write(f'<worksheet xmlns="{SPREADSHEET}"><sheetData><row r="1">'.encode())
        for letter, name in zip(letters, HEADER, strict=True):
            handle.write(f'<c r="{letter}1" t="inlineStr"><is><t>{name}</t></is></c>'.encode())
        handle.write(b"</row>")
        for n in range(2, 10_002):
            cells = "".join(f'<c r="{c}{n}" t="s"><v>0</v></c>' for c in letters)
            handle.write(f'<row r="{n}">{cells}</row>'.encode())
        handle.write(b"</sheetData></worksheet>")

    parts = {
        "[Content_Types].xml": _with_shared_strings,
        "xl/sharedStrings.xml": shared_strings,
        "xl/worksheets/sheet1.xml": sheet,
    }
    _rewrite_parts(path, workbook_bytes(HEADER, ROW), parts)
    assert path.stat().st_size < 200_000

    result = read_capped("efforts", path, timeout=120)
    assert result["outcome"] == (
        f"SourceError: {path}, row 411: the sheet's cells hold more than 104,857,600 characters"
        " of text ([limits] max_file_bytes in boligsocial.toml, which bounds the text as a CSV"
        " would hold it)"
    ), result
    assert result["peak"] < BASELINE, result


def test_explicit_empty_rows_count_toward_the_row_cap(tmp_path, limits):
    """A sheet of 30,000 rows of 50 explicit empty cells after its one data row: the empty
    rows were skipped before the cap was counted, so the sheet was read to its end."""
    limits(max_xlsx_rows=1000)
    path = _efforts_path(tmp_path)

    def empties(old: bytes, handle) -> None:
        def cells(n: int, values: list) -> bytes:
            return b"".join(
                f'<c r="{openpyxl.utils.get_column_letter(i)}{n}" t="inlineStr"><is><t>{v}</t>'
                f"</is></c>".encode()
                for i, v in enumerate(values, start=1)
            )

        handle.write(f'<worksheet xmlns="{SPREADSHEET}"><sheetData>'.encode())
        handle.write(b'<row r="1">' + cells(1, HEADER) + b'</row><row r="2">')
        handle.write(cells(2, [*ROW[:5], "2020", "1,5", "450000"]) + b"</row>")
        letters = [openpyxl.utils.get_column_letter(i) for i in range(1, 51)]
        for n in range(3, 30_003):
            handle.write(
                f'<row r="{n}">'.encode()
                + "".join(f'<c r="{c}{n}" s="0"/>' for c in letters).encode()
                + b"</row>"
            )
        handle.write(b"</sheetData></worksheet>")

    _rewrite_parts(path, workbook_bytes(HEADER, ROW), {"xl/worksheets/sheet1.xml": empties})

    result = read_capped("efforts", path, timeout=60)
    assert result["outcome"] == (
        f"SourceError: {path}, row 1001: more than 1,000 rows "
        "([limits] max_xlsx_rows in boligsocial.toml)"
    ), result


def test_a_reader_out_of_memory_names_the_file_the_limit_and_the_setting(tmp_path):
    """Less memory than the file needs: a sentence, not a MemoryError (nor a vague one)."""
    path = tmp_path / "statbank" / "BEF1.csv"
    line = lambda i: f"{i % 999};M;{2000 + i % 25};{i % 97}\n"  # noqa: E731
    _write_lines(path, "OMRÅDE;KØN;TID;INDHOLD\n", line, 24 * MIB)
    result = read_capped("statbank", path, headroom=64 * MIB)
    assert result["outcome"] == (
        f"SourceError: {path}: reading the file ran out of memory; files are at most "
        "104,857,600 bytes ([limits] max_file_bytes in boligsocial.toml): lower it, or give "
        "the run more memory"
    ), result


# --- CSV: short cells, a lone CR, one enormous line, many tiny cells --------------------------


def _write_lines(path: Path, header: str, line, size: int, first: str = "") -> int:
    """`header`, then `first`, then line(i) for i = 0, 1, ... until the file has `size`
    bytes; the number of data rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        written = handle.write(header + first)
        rows += bool(first)
        while written < size:
            block = "".join(line(i) for i in range(rows, rows + 10_000))
            written += len(block.encode())
            rows += 10_000
            handle.write(block)
    return rows


def test_a_statbank_file_of_short_cells_is_read_in_a_small_multiple_of_its_size(tmp_path):
    """Four short cells a line: the csv module's lists took 30 times the file."""
    path = tmp_path / "statbank" / "BEF1.csv"
    rows = _write_lines(
        path,
        "OMRÅDE;KØN;TID;INDHOLD\n",
        lambda i: f"{i % 999};M;{2000 + i % 25};{i % 97}\n",
        24 * MIB,
    )
    result = read_capped("statbank", path)
    assert result["outcome"] == f"{rows} rows", result
    assert result["read"] < 15 * path.stat().st_size, result


def test_a_lone_cr_sends_a_file_to_the_csv_module_in_a_small_multiple_of_its_size(tmp_path):
    """One line ended by a lone CR: Arrow could count lines differently, so the csv module
    reads the file; its rows become Arrow columns a batch at a time."""
    path = tmp_path / "police" / "incidents_2015.csv"
    rows = _write_lines(
        path,
        "anmeldelse_id;dato;område;kategori\n",
        lambda i: f"SJP-2015-{i:07d};01-01-2015;Motalavej;Uro og gadeuorden\n",
        24 * MIB,
        first="SJP-1;01-01-2015;Parkvej;Uro\r",
    )
    result = read_capped("incidents", path)
    assert result["outcome"] == f"{rows} rows", result
    # 8.4 × at 24 MiB (docs/reading_bounds.md: 6.2 × at 95 MiB, where the fixed part weighs less).
    assert result["read"] < 10 * path.stat().st_size, result


@pytest.mark.parametrize(
    ("before", "outcome"),
    [
        ("", "2 rows"),  # Arrow's path: a 30 MiB cell (the suite refuses the category)
        ("SJP-0;01-01-2015;Parkvej;Uro\r", "row 3: the line is longer than 1,048,576 characters"),
    ],
    ids=["arrow", "lone-cr"],
)
def test_one_enormous_line_is_read_or_refused_at_its_line(tmp_path, before, outcome):
    path = tmp_path / "police" / "incidents_2015.csv"
    path.parent.mkdir()
    header = "anmeldelse_id;dato;område;kategori\n"
    path.write_text(
        header + (before or "SJP-0;01-01-2015;Parkvej;Uro\n") + "SJP-1;01-01-2015;Parkvej;"
        + "x" * (30 * MIB)
    )  # fmt: skip
    result = read_capped("incidents", path)
    expected = outcome if outcome.endswith("rows") else f"SourceError: {path}, {outcome}"
    assert result["outcome"] == expected, result
    assert result["read"] < 8 * path.stat().st_size, result


def test_a_header_of_many_tiny_cells_is_refused_before_it_is_split(tmp_path):
    path = tmp_path / "statbank" / "BEF1.csv"
    path.parent.mkdir()
    path.write_text(";".join(f"V{i}" for i in range(3_000_000)) + "\n1;2\n")
    result = read_capped("statbank", path)
    assert result["outcome"] == f"SourceError: {path}, row 1: more than 100 columns", result
    # The bytes and their text (2 × the file) are held; the 3,000,000 names are never made.
    assert result["read"] < 3 * path.stat().st_size, result


def test_dimensions_that_repeat_many_names_on_every_row_are_capped(tmp_path, limits):
    """98 variables of one-character cells: each row's dimensions hold the 98 names, 5.8
    times the row's line."""
    limits(max_file_bytes=10 * MIB)
    path = tmp_path / "statbank" / "BEF1.csv"
    names = [f"V{i}" for i in range(98)]
    _write_lines(
        path, ";".join([*names, "TID", "INDHOLD"]) + "\n", lambda i: "a;" * 98 + "2020;1\n", 8 * MIB
    )
    result = read_capped("statbank", path)
    assert re.fullmatch(
        rf"SourceError: {re.escape(str(path))}: the variables' names and values make "
        r"[0-9,]+ characters of dimensions, more than the limit of 41,943,040 "
        r"\(4 × \[limits\] max_file_bytes in boligsocial.toml\)",
        result["outcome"],
    ), result


def test_a_long_run_of_combining_marks_is_refused_before_it_is_normalised(tmp_path):
    """Python puts a run of combining marks in canonical order in quadratic time: 800,000 of
    them (3 MB) would take over an hour. A run longer than UAX #15's 30 is refused."""
    path = tmp_path / "police" / "incidents_2015.csv"
    path.parent.mkdir()
    path.write_text(
        "anmeldelse_id;dato;område;kategori\nSJP-1;01-01-2015;Parkvej;Uro\n"
        "SJP-2;01-01-2015;Parkvej;a" + "\u0301\u0316" * 400_000 + "\n"
    )
    result = read_capped("incidents", path, timeout=60)
    assert result["outcome"] == (
        f"SourceError: {path}, row 3: more than 30 combining marks (accents) in a row on one letter"
    ), result


def test_decomposed_letters_are_still_composed(tmp_path):
    """Within the bound, a file written decomposed (å as a + ring) reads as composed."""
    path = tmp_path / "police" / "incidents_2015.csv"
    path.parent.mkdir()
    path.write_text("anmeldelse_id;dato;omra\u030ade;kategori\nSJP-1;01-01-2015;Parkvej;Uro\n")
    assert read_police_incidents(path)["omraade"].tolist() == ["Parkvej"]


def test_a_workbook_of_many_sheets_is_refused_before_openpyxl_sizes_each(tmp_path):
    """openpyxl reads into every sheet a workbook lists when it opens it; many sheets (which
    may all name one large part) would each cost a pass."""
    book = openpyxl.Workbook()
    for row in (HEADER, ROW):
        book.active.append(row)
    for i in range(33):
        book.create_sheet(f"Ark {i}")
    path = _efforts_path(tmp_path)
    book.save(path)
    result = read_capped("efforts", path, timeout=60)
    assert result["outcome"] == f"SourceError: {path}: the workbook has more than 32 sheets"
