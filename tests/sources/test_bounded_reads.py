"""Hostile files cost bounded memory: a size limit per file checked before reading, XLSX sheets
read as their cells are (not as their claimed dimension says) with a row cap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from boligsocial.configuration import settings
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.police import read_police_incidents

HEADER = ["indsats_id", "navn", "indsatsområde", "spor", "område", "år", "årsværk", "budget_kr"]
ROW = ["E1", "Lektiecafé", "Uddannelse og beskæftigelse", "drift", "RINGPARKEN", 2020, 1.5, 450000]
GIB = 1 << 30

# Reads one file in a fresh process whose address space is capped at 2 GiB, and says what
# happened and the process's peak resident memory.
READ_CAPPED = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.errors import SourceError
from boligsocial.sources.police import read_police_incidents
reader = {"efforts": read_efforts, "incidents": read_police_incidents}[sys.argv[1]]
try:
    outcome = f"{len(reader(Path(sys.argv[2])))} rows"
except SourceError as error:
    outcome = f"SourceError: {error}"
except MemoryError:
    outcome = "MemoryError"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"outcome": outcome, "peak": peak}))
"""


def read_capped(reader: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", READ_CAPPED, reader, str(path)],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
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
    """5 KB on disk, 1,048,576 × 16,384 cells as the sheet claims: refused in bounded memory."""
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
    assert result["outcome"].startswith(f"SourceError: {path}, row 3: empty row"), result
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
