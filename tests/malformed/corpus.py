"""The malformed-input corpus: each case is one defect applied to a copy of the example sources.

Cases are generated from the bundled example (not stored copies), so they follow the example
when it is regenerated. `row` and `column` are what the error must name (the file's line number,
the header as the contract spells it); None for whole-file problems. `kind` says who must catch
the defect: the reader (`SourceError`, parse level) or the GX suite (semantic level).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Edit = Callable[[Path], None]


@dataclass(frozen=True)
class Case:
    id: str
    source: str  # the raw asset that must fail
    file: str  # the defective file, relative to the sources directory
    edit: Edit  # applies the defect to the sources directory copy
    row: int | None  # -1: some row (the file's last line moves with the example)
    column: str | None
    kind: str  # "reader" or "gx"


def _lines(path: Path) -> tuple[bytes, list[str], str]:
    raw = path.read_bytes()
    bom = b"\xef\xbb\xbf" if raw.startswith(b"\xef\xbb\xbf") else b""
    text = raw[len(bom) :].decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    return bom, text.split(newline), newline


def _write(path: Path, bom: bytes, lines: list[str], newline: str) -> None:
    path.write_bytes(bom + newline.join(lines).encode("utf-8"))


def _index(header_line: str, header: str) -> int:
    """Position of `header` in the file's header line (column order varies between files)."""
    return [h.strip().casefold() for h in header_line.split(";")].index(header.casefold())


def set_cell(file: str, row: int, header: str, value: str) -> Edit:
    """Replace the `header` field of line `row` (1-based, the header is line 1)."""

    def edit(sources: Path) -> None:
        path = sources / file
        bom, lines, newline = _lines(path)
        fields = lines[row - 1].split(";")
        fields[_index(lines[0], header)] = value
        lines[row - 1] = ";".join(fields)
        _write(path, bom, lines, newline)

    return edit


def set_column(file: str, header: str, value: str, where: dict[str, str]) -> Edit:
    """Set the `header` field to `value` on every data line whose fields match `where`."""

    def edit(sources: Path) -> None:
        path = sources / file
        bom, lines, newline = _lines(path)
        index = _index(lines[0], header)
        conditions = {_index(lines[0], h): v for h, v in where.items()}
        for i in range(1, len(lines)):
            fields = lines[i].split(";")
            if lines[i] and all(fields[k] == v for k, v in conditions.items()):
                fields[index] = value
                lines[i] = ";".join(fields)
        _write(path, bom, lines, newline)

    return edit


def transform_lines(file: str, change: Callable[[list[str]], list[str]]) -> Edit:
    def edit(sources: Path) -> None:
        path = sources / file
        bom, lines, newline = _lines(path)
        _write(path, bom, change(lines), newline)

    return edit


def transform_bytes(file: str, change: Callable[[bytes], bytes]) -> Edit:
    def edit(sources: Path) -> None:
        path = sources / file
        path.write_bytes(change(path.read_bytes()))

    return edit


def _drop_column(name: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        index = lines[0].split(";").index(name)
        return [";".join(f for i, f in enumerate(line.split(";")) if i != index) if line else line
                for line in lines]  # fmt: skip

    return change


def _to_latin1(data: bytes) -> bytes:
    return data.decode("utf-8").encode("latin-1")


def _truncate(data: bytes) -> bytes:
    # Cut inside a line: the last line loses its last fields.
    cut = data.rstrip(b"\r\n")
    return cut[: cut.rindex(b";") - 2]


def _duplicate_line(row: int) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        end = len(lines) - 1 if lines[-1] == "" else len(lines)
        return [*lines[:end], lines[row - 1], *lines[end:]]

    return change


def _drop_line(row: int) -> Callable[[list[str]], list[str]]:
    return lambda lines: [line for i, line in enumerate(lines, start=1) if i != row]


def _header_only(lines: list[str]) -> list[str]:
    return [lines[0], ""]


def _workbook(sheets: list[tuple[str, list[list[object]]]], path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def _efforts_grid(sources: Path) -> list[list[object]]:
    _, lines, _ = _lines(sources / "efforts/indsatser.csv")
    return [line.split(";") for line in lines if line]


def xlsx_wrong_sheet(sources: Path) -> None:
    """The register as a workbook whose first sheet is a cover note, the data second."""
    grid = _efforts_grid(sources)
    (sources / "efforts/indsatser.csv").unlink()
    note = [["Indsatsregister, Slagelse"], ["Opdateret af sekretariatet"]]
    _workbook([("Forside", note), ("Indsatser", grid)], sources / "efforts/indsatser.xlsx")


def xlsx_and_csv(sources: Path) -> None:
    _workbook([("Indsatser", _efforts_grid(sources))], sources / "efforts/indsatser.xlsx")


def _vandalism_first_unquoted_row(sources: Path, file: str) -> int:
    _, lines, _ = _lines(sources / file)
    return next(i for i, line in enumerate(lines, start=1) if i > 1 and '"' not in line)


STATS = "statistics/area_statistics_{}.csv"
OFFICIAL = "reference/official_list.csv"
CASES: tuple[Case, ...] = (
    # --- parse level: the readers ------------------------------------------------------------
    Case("wrong_delimiter", "area_statistics", STATS.format(2015),
         transform_bytes(STATS.format(2015), lambda b: b.replace(b";", b",")),
         1, None, "reader"),
    Case("wrong_encoding", "tryghedsindeks", "police/tryghedsindeks.csv",
         transform_bytes("police/tryghedsindeks.csv", _to_latin1), 1, None, "reader"),
    Case("missing_column", "efforts", "efforts/indsatser.csv",
         transform_lines("efforts/indsatser.csv", _drop_column("spor")), None, "spor", "reader"),
    Case("dotdot_in_key", "area_statistics", STATS.format(2018),
         set_cell(STATS.format(2018), 4, "AFDELING", ".."), 4, "AFDELING", "reader"),
    Case("truncated_file", "vandalism_ledger", "vandalism/FOB_2016-06.csv",
         transform_bytes("vandalism/FOB_2016-06.csv", _truncate), -1, None, "reader"),
    Case("empty_file", "police_incidents", "police/incidents_2018.csv",
         transform_bytes("police/incidents_2018.csv", lambda b: b""), None, None, "reader"),
    Case("header_only", "police_incidents", "police/incidents_2020.csv",
         transform_lines("police/incidents_2020.csv", _header_only), None, None, "reader"),
    Case("wrong_sheet_xlsx", "efforts", "efforts/indsatser.xlsx", xlsx_wrong_sheet,
         1, None, "reader"),
    Case("csv_and_xlsx", "efforts", "efforts/indsatser.xlsx", xlsx_and_csv, None, None, "reader"),
    Case("text_in_number", "benchmarks", "statistics/benchmarks.csv",
         set_cell("statistics/benchmarks.csv", 6, "INDHOLD", "ca. 14"), 6, "INDHOLD", "reader"),
    Case("tid_differs_from_file_name", "area_statistics", STATS.format(2022),
         set_cell(STATS.format(2022), 3, "TID", "2021"), 3, "TID", "reader"),
    Case("ledger_selskab_differs_from_file_name", "vandalism_ledger", "vandalism/FOB_2017-03.csv",
         set_cell("vandalism/FOB_2017-03.csv", 3, "Selskab", "BK"), 3, "Selskab", "reader"),
    Case("invalid_date", "vandalism_ledger", "vandalism/SB_2015-06.csv",
         set_cell("vandalism/SB_2015-06.csv", 2, "Dato", "31-02-2015"), 2, "Dato", "reader"),
    Case("wrong_date_format", "police_incidents", "police/incidents_2016.csv",
         set_cell("police/incidents_2016.csv", 5, "dato", "2016-01-04"), 5, "dato", "reader"),
    # --- semantic level: the GX suites --------------------------------------------------------
    Case("unknown_maal", "area_statistics", STATS.format(2016),
         set_cell(STATS.format(2016), 5, "MÅL", "BEF_99"), 5, "MÅL", "gx"),
    Case("duplicate_key", "area_statistics", STATS.format(2017),
         transform_lines(STATS.format(2017), _duplicate_line(3)), 3,
         "BOLIGORGANISATION, AFDELING, MÅL, TID", "gx"),
    Case("negative_count", "area_statistics", STATS.format(2019),
         set_cell(STATS.format(2019), 2, "INDHOLD", "-5"), 2, "INDHOLD", "gx"),
    Case("unknown_department", "area_statistics", STATS.format(2020),
         set_column(STATS.format(2020), "AFDELING", "999",
                    {"BOLIGORGANISATION": "BK", "AFDELING": "35"}),
         -1, "BOLIGORGANISATION/AFDELING", "gx"),
    Case("incomplete_maal", "area_statistics", STATS.format(2021),
         transform_lines(STATS.format(2021), _drop_line(4)), 2, "MÅL", "gx"),
    Case("indeks_140", "tryghedsindeks", "police/tryghedsindeks.csv",
         set_cell("police/tryghedsindeks.csv", 4, "indeks", "140,0"), 4, "indeks", "gx"),
    Case("unknown_area_name", "police_incidents", "police/incidents_2017.csv",
         set_cell("police/incidents_2017.csv", 3, "område", "Atlantis"), 3, "område", "gx"),
    Case("date_outside_file_year", "police_incidents", "police/incidents_2019.csv",
         set_cell("police/incidents_2019.csv", 4, "dato", "15-06-2018"), 4, "dato", "reader"),
    Case("duplicate_incident_id_across_years", "police_incidents", "police/incidents_2021.csv",
         set_cell("police/incidents_2021.csv", 2, "anmeldelse_id", "SJP-2014-00001"),
         2, "anmeldelse_id", "gx"),
    Case("unknown_niveau", "benchmarks", "statistics/benchmarks.csv",
         set_cell("statistics/benchmarks.csv", 3, "NIVEAU", "amt"), 3, "NIVEAU", "gx"),
    Case("percent_over_100", "benchmarks", "statistics/benchmarks.csv",
         set_cell("statistics/benchmarks.csv", 2, "INDHOLD", "174,0"), 2, "INDHOLD", "gx"),
    Case("unknown_spor", "efforts", "efforts/indsatser.csv",
         set_cell("efforts/indsatser.csv", 3, "spor", "andet"), 3, "spor", "gx"),
    Case("effort_unknown_area", "efforts", "efforts/indsatser.csv",
         set_cell("efforts/indsatser.csv", 2, "område", "ATLANTIS"), 2, "område", "gx"),
    Case("negative_budget", "efforts", "efforts/indsatser.csv",
         set_cell("efforts/indsatser.csv", 4, "budget_kr", "-1.000,00"), 4, "budget_kr", "gx"),
    Case("ledger_unknown_department", "vandalism_ledger", "vandalism/SB_2016-12.csv",
         set_cell("vandalism/SB_2016-12.csv", 2, "Afdeling", "999"), 2, "Selskab/Afdeling", "gx"),
    Case("department_in_unknown_area", "departments", "reference/departments.csv",
         set_cell("reference/departments.csv", 3, "area_id", "ATLANTIS"), 3, "area_id", "gx"),
    Case("duplicate_area", "areas", "reference/areas.csv",
         transform_lines("reference/areas.csv", _duplicate_line(2)), 2, "area_id", "gx"),
    Case("municipality_code_two_digits", "areas", "reference/areas.csv",
         set_cell("reference/areas.csv", 3, "municipality_code", "33"),
         3, "municipality_code", "gx"),
    Case("official_list_year_two_digits", "official_list", OFFICIAL,
         set_cell(OFFICIAL, 4, "år", "14"), 4, "år", "reader"),
    Case("official_list_unknown_area", "official_list", OFFICIAL,
         set_cell(OFFICIAL, 5, "område", "Atlantis"), 5, "område", "gx"),
    Case("official_list_category_not_in_force", "official_list", OFFICIAL,
         set_cell(OFFICIAL, 2, "kategori", "udsat"), 2, "kategori", "gx"),
    Case("official_list_duplicate_area_year", "official_list", OFFICIAL,
         transform_lines(OFFICIAL, _duplicate_line(3)), 3, "år, område", "gx"),
)  # fmt: skip
