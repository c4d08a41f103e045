"""The readers' error messages in Danish, for the people who deliver the files.

The readers raise `SourceError` with an English message (the pipeline's logs and the Dagster
UI are English); this catalogue gives each kind of message its Danish form, keyed by the
message's English pattern, so the readers' code (and what the messages mean) stays as it is.
A message no pattern knows has no Danish form (`danish` gives None): callers show the English.
"""

from __future__ import annotations

import re

# What a cell should have been (the `_not(...)` messages of sources/_csv.py).
_EXPECTED = {
    "text": "tekst",
    "an integer": "et heltal",
    "a number with decimal comma (412,6)": "et tal med decimalkomma (412,6)",
    "a number with decimal comma (412,6) or '..'": "et tal med decimalkomma (412,6) eller '..'",
    "an amount (1.234,50, 1234,50, 1.500 or -350,00)": (
        "et beløb (1.234,50, 1234,50, 1.500 eller -350,00)"
    ),
    "a date DD-MM-YYYY": "en dato DD-MM-ÅÅÅÅ",
    "a date YYYY-MM-DD": "en dato ÅÅÅÅ-MM-DD",
    "a year of 4 digits": "et årstal med 4 cifre",  # reference/official_list.csv's år
}
_WHAT = "(?P<what>" + "|".join(re.escape(w) for w in _EXPECTED) + ")"
_DELIMITER_NAMES = {"','": "komma", "'\\t'": "tabulator", "'|'": "lodret streg"}

# (kind, English pattern, Danish template): the template takes the pattern's named groups.
CATALOGUE: tuple[tuple[str, str, str], ...] = (
    ("file_name", r"the file name (?P<name>.+) does not match (?P<expected>.+)",
     "filnavnet {name} passer ikke til mønsteret {expected}"),
    ("missing_column", r"missing column (?P<column>.+)", "kolonnen {column} mangler"),
    ("xlsx_unreadable", r"not a readable XLSX workbook: (?P<error>.*)",
     "ikke en XLSX-projektmappe, der kan læses: {error}"),
    ("sheet_empty", r"the first sheet is empty", "det første ark er tomt"),
    ("no_data", r"the file has a header but no data rows",
     "filen har en overskriftsrække, men ingen datarækker"),
    ("value_without_header", r"a value in a column without a header",
     "en værdi i en kolonne uden overskrift"),
    ("empty_sheet_row", r"empty row \(only the end may have empty rows\)",
     "tom række (kun sidst i arket må der være tomme rækker)"),
    ("not_utf8", r"not valid UTF-8 \(byte (?P<byte>0x[0-9a-f]{2})\)",
     "ikke gyldig UTF-8 (byte {byte}); gem filen som UTF-8"),
    ("not_utf8_or_cp1252", r"neither UTF-8 nor Windows-1252 \(byte (?P<byte>0x[0-9a-f]{2})\)",
     "hverken UTF-8 eller Windows-1252 (byte {byte}); gem filen som UTF-8"),
    ("file_empty", r"the file is empty", "filen er tom"),
    ("not_csv", r"not readable as ';'-separated CSV", "kan ikke læses som ';'-separeret CSV"),
    ("empty_line", r"empty line \(only the end of the file may have empty lines\)",
     "tom linje (kun sidst i filen må der være tomme linjer)"),
    ("field_count", r"(?P<fields>[0-9]+) fields where the header has (?P<width>[0-9]+)",
     "{fields} felter, men overskriften har {width}"),
    ("malformed_csv", r"malformed CSV: (?P<error>.*)", "fejl i CSV-formatet: {error}"),
    ("wrong_delimiter",
     r"expected ';'-separated columns, but the header is one column"
     r"(?:; it looks (?P<found>.+)-separated)?",
     "kolonnerne skal adskilles med semikolon (;), men overskriften er én kolonne{hint}"),
    ("unnamed_header", r"header column (?P<position>[0-9]+) has no name",
     "overskriftens kolonne {position} har intet navn"),
    ("duplicate_header", r"the column appears twice in the header",
     "kolonnen står to gange i overskriften"),
    ("unexpected_column", r"unexpected column; the columns are (?P<expected>.+)",
     "ukendt kolonne; kolonnerne skal være {expected}"),
    ("empty_cell", rf"empty; expected {_WHAT}", "feltet er tomt; det skal være {what}"),
    ("suppressed_outside_statistics",
     rf"'\.\.' \(suppressed\) is only allowed in statistics values; expected {_WHAT}",
     "'..' (diskretioneret) må kun stå i statistikværdier; feltet skal være {what}"),
    ("wrong_value", rf"(?P<value>.*) is not {_WHAT}", "{value} er ikke {what}"),
    ("cannot_convert", r"cannot convert the column: (?P<error>.*)",
     "kolonnen kan ikke omsættes: {error}"),
    ("integer_range", r"(?P<value>.*) is out of the integer range",
     "{value} er uden for det tilladte talområde"),
    ("amount_decimals", r"(?P<value>.*) has more than (?P<decimals>[0-9]+) decimals",
     "{value} har mere end {decimals} decimaler"),
    ("amount_too_large", r"(?P<value>.*) is too large an amount", "{value} er et for stort beløb"),
    ("number_too_large", r"(?P<value>.*) is too large a number", "{value} er et for stort tal"),
    ("not_calendar_date", r"(?P<value>.*) is not a calendar date",
     "{value} er ikke en dato i kalenderen"),
    ("date_outside_file_year", r"(?P<value>.*) is not in the file name's year (?P<year>[0-9]+)",
     "{value} ligger ikke i filnavnets år {year}"),
    ("tid_differs_from_file_name",
     r"TID (?P<value>.*) differs from the file name's year (?P<year>[0-9]+)",
     "TID {value} er ikke filnavnets år {year}"),
    ("selskab_differs_from_file_name",
     r"(?P<value>.*) differs from the organisation in the file name, (?P<org>.+)",
     "{value} er ikke organisationen i filnavnet, {org}"),
    ("effort_file_type", r"expected indsatser\.csv or indsatser\.xlsx",
     "indsatsregistret skal være indsatser.csv eller indsatser.xlsx"),
    ("no_file", r"no file for source '(?P<source>.+)' \(expected (?P<expected>.+)\)",
     "ingen fil til kilden '{source}' (forventet: {expected})"),
    ("several_files", r"only one of (?P<files>.+) may exist, found (?P<count>[0-9]+)",
     "kun én af {files} må findes, men der er {count}"),
)  # fmt: skip
_COMPILED = tuple((kind, re.compile(pattern, re.S), da) for kind, pattern, da in CATALOGUE)


def kind(message: str) -> str | None:
    """The catalogue's name for the message's kind, None when no pattern knows it."""
    for name, pattern, _ in _COMPILED:
        if pattern.fullmatch(message):
            return name
    return None


def danish(message: str) -> str | None:
    """The Danish form of a reader's English message, None when no pattern knows it."""
    for _, pattern, template in _COMPILED:
        found = pattern.fullmatch(message)
        if found is not None:
            groups = {k: v for k, v in found.groupdict().items() if v is not None}
            if "what" in groups:
                groups["what"] = _EXPECTED[groups["what"]]
            if "found" in groups or "hint" in template:
                name = _DELIMITER_NAMES.get(groups.get("found", ""), groups.get("found"))
                groups["hint"] = f"; den ser ud til at være adskilt med {name}" if name else ""
            return template.format(**groups)
    return None
