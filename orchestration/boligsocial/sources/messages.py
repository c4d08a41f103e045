"""Every message about a delivery, in English and Danish, from one table.

A message is a kind and its parameters (`SourceError(file, row, column, kind="wrong_value",
value="ca. 14", expected="statistic")`); `render(kind, lang, **params)` writes it in either
language from the kind's two templates. English is for the pipeline's logs and the Dagster UI,
Danish for the people who deliver the files (`boligsocial check`). The table holds the readers'
and the loader's messages, `check`'s own, and the sentences `check` builds from a failed Great
Expectations rule (keyed by the expectation type; the rule itself is the suite's `description`
and `meta.description_da`).

Templates are `str.format` templates. A parameter is shown with its control and other
unprintable characters made visible (`\\x1b`), so a value from a file cannot move the cursor
or rewrite a terminal line; `{value!r}` also quotes it. A parameter named in `PHRASES` is a key
of that phrase table (what a cell should have been, a delimiter's name), a list is joined with
the language's "or", and Danish numbers take `.` as thousands separator.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LANGUAGES = ("da", "en")


@dataclass(frozen=True)
class Text:
    en: str
    da: str

    def __call__(self, lang: str) -> str:
        return self.da if lang == "da" else self.en


# --- the phrases a message takes as a parameter -----------------------------------------------

PHRASES: dict[str, dict[str, Text]] = {
    # What a cell should have been: `expected` of empty_cell, wrong_value, ...
    "expected": {
        "text": Text("text", "tekst"),
        "integer": Text("an integer", "et heltal"),
        "decimal": Text("a number with decimal comma (412,6)", "et tal med decimalkomma (412,6)"),
        "statistic": Text(
            "a number with decimal comma (412,6) or '..'",
            "et tal med decimalkomma (412,6) eller '..'",
        ),
        "amount": Text(
            "an amount (1.234,50, 1234,50, 1.500 or -350,00)",
            "et beløb (1.234,50, 1234,50, 1.500 eller -350,00)",
        ),
        "dk_date": Text("a date DD-MM-YYYY", "en dato DD-MM-ÅÅÅÅ"),
        "iso_date": Text("a date YYYY-MM-DD", "en dato ÅÅÅÅ-MM-DD"),
        "year": Text("a year of 4 digits", "et årstal med 4 cifre"),
    },
    # What a setting of boligsocial.toml should have been (`config_wrong_value`).
    "config_expected": {
        "text": Text("text in quotes", "tekst i anførselstegn"),
        "whole_number": Text("a whole number", "et helt tal"),
        "positive_number": Text("a whole number above 0", "et helt tal over 0"),
        "non_negative_number": Text("a whole number, 0 or more", "et helt tal, 0 eller mere"),
        "texts": Text(
            'a list of texts in quotes (["a", "b"])',
            'en liste af tekster i anførselstegn (["a", "b"])',
        ),
        "table": Text("a section of settings", "en sektion af indstillinger"),
        "owner": Text(
            'a list of owners, each "team:name" or an e-mail address',
            'en liste af ejere, hver "team:navn" eller en e-mailadresse',
        ),
        "memory": Text('a size such as "256MB" or "2GB"', 'en størrelse som "256MB" eller "2GB"'),
    },
    # The delimiter a one-column header seems to use instead of ';'.
    "delimiter": {
        ",": Text("comma", "komma"),
        "\t": Text("tab", "tabulator"),
        "|": Text("vertical bar", "lodret streg"),
    },
}

# Words of check's output lines; `or` joins a list parameter.
LABELS: dict[str, Text] = {
    "row": Text("row", "række"),
    "column": Text("column", "kolonne"),
    "error": Text("ERROR", "FEJL"),
    "warning": Text("WARNING", "ADVARSEL"),
    "info": Text("INFO", "INFO"),
    "ok": Text("OK", "OK"),
    "or": Text("or", "eller"),
    # A value that is missing, or a yes/no value (a derived column's).
    "empty": Text("(empty)", "(tom)"),
    "true": Text("true", "sand"),
    "false": Text("false", "falsk"),
}

# How a derived column's value reads (validation's helper columns that describe a problem).
VALUE_FORMS: dict[str, Text] = {
    # The ledger line's department and date, for the department-in-an-area-on-the-date rule.
    "_department_outside_area": Text("{0} on {1}", "{0} den {1}"),
}

# --- the messages ------------------------------------------------------------------------------

MESSAGES: dict[str, Text] = {
    # The readers (sources/): the file's layout, encoding and cells.
    "file_name": Text(
        "the file name {name!r} does not match {pattern}",
        "filnavnet {name!r} passer ikke til mønsteret {pattern}",
    ),
    "missing_column": Text("missing column {header!r}", "kolonnen {header!r} mangler"),
    "xlsx_unreadable": Text(
        "not a readable XLSX workbook: {detail}",
        "ikke en XLSX-projektmappe, der kan læses (teknisk detalje: {detail})",
    ),
    "header_empty": Text("the header row is empty", "overskriftsrækken er tom"),
    "sheet_empty": Text("the first sheet is empty", "det første ark er tomt"),
    "no_data": Text(
        "the file has a header but no data rows",
        "filen har en overskriftsrække, men ingen datarækker",
    ),
    "value_without_header": Text(
        "a value in a column without a header", "en værdi i en kolonne uden overskrift"
    ),
    "empty_sheet_row": Text(
        "empty row (only the end may have empty rows)",
        "tom række (kun sidst i arket må der være tomme rækker)",
    ),
    "too_many_rows": Text(
        "more than {limit:,} rows ([limits] max_xlsx_rows in boligsocial.toml)",
        "mere end {limit:,} rækker ([limits] max_xlsx_rows i boligsocial.toml)",
    ),
    "xlsx_inflated_too_large": Text(
        "the workbook's parts unpack to {size:,} bytes, more than the limit of {limit:,} "
        "([limits] max_file_bytes in boligsocial.toml, which bounds a workbook unpacked)",
        "projektmappens dele fylder {size:,} byte udpakket, mere end grænsen på {limit:,} "
        "([limits] max_file_bytes i boligsocial.toml, som også gælder en udpakket projektmappe)",
    ),
    "xlsx_text_too_large": Text(
        "the sheet's cells hold more than {limit:,} characters of text "
        "([limits] max_file_bytes in boligsocial.toml, which bounds the text as a CSV would "
        "hold it)",
        "arkets celler indeholder mere end {limit:,} tegn tekst "
        "([limits] max_file_bytes i boligsocial.toml, som også gælder teksten, som en CSV-fil "
        "ville rumme den)",
    ),
    "dimensions_too_large": Text(
        "the variables' names and values make {size:,} characters of dimensions, more than "
        "the limit of {limit:,} (4 × [limits] max_file_bytes in boligsocial.toml)",
        "variablernes navne og værdier giver {size:,} tegn dimensioner, mere end grænsen på "
        "{limit:,} (4 × [limits] max_file_bytes i boligsocial.toml)",
    ),
    "too_many_columns": Text(
        "more than {limit:,} columns",
        "mere end {limit:,} kolonner",
    ),
    "line_too_long": Text(
        "the line is longer than {limit:,} characters",
        "linjen er længere end {limit:,} tegn",
    ),
    "combining_marks": Text(
        "more than {limit} combining marks (accents) in a row on one letter",
        "mere end {limit} kombinerende tegn (accenter) i træk på ét bogstav",
    ),
    "too_many_sheets": Text(
        "the workbook has more than {limit} sheets",
        "projektmappen har mere end {limit} ark",
    ),
    "out_of_memory": Text(
        "reading the file ran out of memory; files are at most {limit:,} bytes "
        "([limits] max_file_bytes in boligsocial.toml): lower it, or give the run more memory",
        "der var ikke hukommelse nok til at læse filen; filer må højst fylde {limit:,} byte "
        "([limits] max_file_bytes i boligsocial.toml): sænk grænsen, eller giv kørslen mere "
        "hukommelse",
    ),
    "file_too_large": Text(
        "the file is {size:,} bytes, more than the limit of {limit:,} "
        "([limits] max_file_bytes in boligsocial.toml)",
        "filen fylder {size:,} byte, mere end grænsen på {limit:,} "
        "([limits] max_file_bytes i boligsocial.toml)",
    ),
    "not_utf8": Text(
        "not valid UTF-8 (byte 0x{byte:02x})",
        "ikke gyldig UTF-8 (byte 0x{byte:02x}); gem filen som UTF-8",
    ),
    "not_utf8_or_cp1252": Text(
        "neither UTF-8 nor Windows-1252 (byte 0x{byte:02x})",
        "hverken UTF-8 eller Windows-1252 (byte 0x{byte:02x}); gem filen som UTF-8",
    ),
    "file_empty": Text("the file is empty", "filen er tom"),
    "not_csv": Text("not readable as ';'-separated CSV", "kan ikke læses som ';'-separeret CSV"),
    "empty_line": Text(
        "empty line (only the end of the file may have empty lines)",
        "tom linje (kun sidst i filen må der være tomme linjer)",
    ),
    "field_count": Text(
        "{fields} fields where the header has {width}",
        "{fields} felter, men overskriften har {width}",
    ),
    "malformed_csv": Text(
        "malformed CSV: {detail}", "fejl i CSV-formatet (teknisk detalje: {detail})"
    ),
    "wrong_delimiter": Text(
        "expected ';'-separated columns, but the header is one column",
        "kolonnerne skal adskilles med semikolon (;), men overskriften er én kolonne",
    ),
    "other_delimiter": Text(
        "expected ';'-separated columns, but the header is one column; "
        "it looks {delimiter}-separated",
        "kolonnerne skal adskilles med semikolon (;), men overskriften er én kolonne; "
        "den ser ud til at være adskilt med {delimiter}",
    ),
    "unnamed_header": Text(
        "header column {position} has no name", "overskriftens kolonne {position} har intet navn"
    ),
    "duplicate_header": Text(
        "the column appears twice in the header", "kolonnen står to gange i overskriften"
    ),
    "unexpected_column": Text(
        "unexpected column; the columns are {columns}",
        "ukendt kolonne; kolonnerne skal være {columns}",
    ),
    "empty_cell": Text("empty; expected {expected}", "feltet er tomt; det skal være {expected}"),
    "suppressed_outside_statistics": Text(
        "'..' (suppressed) is only allowed in statistics values; expected {expected}",
        "'..' (diskretioneret) må kun stå i statistikværdier; feltet skal være {expected}",
    ),
    "wrong_value": Text("{value!r} is not {expected}", "{value!r} er ikke {expected}"),
    "cannot_convert": Text(
        "cannot convert the column: {detail}",
        "kolonnen kan ikke omsættes (teknisk detalje: {detail})",
    ),
    "integer_range": Text(
        "{value!r} is out of the integer range", "{value!r} er uden for det tilladte talområde"
    ),
    "amount_decimals": Text(
        "{value!r} has more than {decimals} decimals", "{value!r} har mere end {decimals} decimaler"
    ),
    "amount_too_large": Text("{value!r} is too large an amount", "{value!r} er et for stort beløb"),
    "number_too_large": Text("{value!r} is too large a number", "{value!r} er et for stort tal"),
    "not_calendar_date": Text(
        "{value!r} is not a calendar date", "{value!r} er ikke en dato i kalenderen"
    ),
    "date_outside_file_year": Text(
        "{value} is not in the file name's year {year}",
        "{value} ligger ikke i filnavnets år {year}",
    ),
    "tid_differs_from_file_name": Text(
        "TID {value} differs from the file name's year {year}",
        "TID {value} er ikke filnavnets år {year}",
    ),
    "selskab_differs_from_file_name": Text(
        "{value!r} differs from the organisation in the file name, {org!r}",
        "{value!r} er ikke organisationen i filnavnet, {org!r}",
    ),
    "effort_file_type": Text(
        "expected indsatser.csv or indsatser.xlsx",
        "indsatsregistret skal være indsatser.csv eller indsatser.xlsx",
    ),
    # The loader (loading/warehouse.py): which files a source has, and reaching them.
    "no_file": Text(
        "no file for source {source!r} (expected {patterns})",
        "ingen fil til kilden {source!r} (forventet: {patterns})",
    ),
    "several_files": Text(
        "only one of {files} may exist, found {count}",
        "kun én af {files} må findes, men der er {count}",
    ),
    "link_outside": Text(
        "a symbolic link to outside the sources folder is refused "
        "(copy the file into the folder instead)",
        "et symbolsk link til noget uden for kildemappen afvises (kopiér filen ind i mappen)",
    ),
    "file_changed": Text(
        "file changed while being read: run again when the delivery is complete",
        "filen blev ændret, mens den blev læst: kør igen, når leverancen er komplet",
    ),
    "file_permission": Text(
        "cannot be read: permission denied (the file's access rights)",
        "kan ikke læses: ingen adgang (filens rettigheder)",
    ),
    "file_missing": Text(
        "cannot be read: it is gone (moved or deleted while being read, or a link to nothing)",
        "kan ikke læses: den findes ikke (flyttet eller slettet under læsningen, eller et link "
        "til ingenting)",
    ),
    "file_is_folder": Text(
        "is a folder, where a file is expected", "er en mappe, hvor der skal være en fil"
    ),
    "file_not_regular": Text(
        "is not a regular file (a pipe, a socket or a device)",
        "er ikke en almindelig fil (men en pipe, en socket eller en enhed)",
    ),
    "file_unreadable": Text(
        "cannot be read: {detail}", "kan ikke læses (teknisk detalje: {detail})"
    ),
    # `boligsocial check`'s own.
    "not_a_directory": Text(
        "boligsocial check: {path} is not a directory", "boligsocial check: {path} er ikke en mappe"
    ),
    "unknown_file": Text(
        "no source reads this file (check its name against docs/sources.md)",
        "ingen kilde læser denne fil (tjek navnet mod kildekontrakten, docs/sources.md)",
    ),
    "optional_absent": Text(
        "optional, and not delivered ({patterns}): the pipeline runs without it",
        "valgfri og ikke leveret ({patterns}): pipelinen kører uden den",
    ),
    "lookups_not_checked": Text(
        "its rules were not checked: they look up {references}, which cannot be read",
        "kildens regler er ikke kontrolleret: de slår op i {references}, som ikke kan læses",
    ),
    "checked_without_unreadable": Text(
        "its rules were checked without its {count} unreadable file(s); rules across files "
        "(duplicates, completeness) may find more once they are fixed",
        "kildens regler er kontrolleret uden de {count} fil(er), der ikke kan læses; regler på "
        "tværs af filer (dubletter, fuldstændighed) kan finde mere, når de er rettet",
    ),
    "more_unreadable": Text(
        "the check stopped looking after {count} unreadable files: there may be more",
        "kontrollen holdt op med at lede efter {count} filer, der ikke kan læses: der kan være "
        "flere",
    ),
    "summary_ok": Text(
        "All OK: {files} files can be delivered.", "Alt i orden: {files} filer kan leveres."
    ),
    "summary_errors": Text(
        "{errors} error(s); {bad} of {files} files have errors. Fix them and check again.",
        "{errors} fejl; {bad} af {files} filer har fejl. Ret dem, og kør kontrollen igen.",
    ),
    # The installation's configuration (configuration/config.py): one sentence per problem,
    # naming the file, the key and what is allowed.
    "config_unknown_section": Text(
        "{file}: there is no section or setting {key}; allowed are {allowed}",
        "{file}: der findes ingen sektion eller indstilling {key}; tilladt er {allowed}",
    ),
    "config_unknown_key": Text(
        "{file}: there is no setting {key}; allowed in its section are {allowed}",
        "{file}: der findes ingen indstilling {key}; tilladt i sektionen er {allowed}",
    ),
    "config_wrong_value": Text(
        "{file}: {key} = {value} is not allowed; it must be {config_expected}",
        "{file}: {key} = {value} er ikke tilladt; den skal være {config_expected}",
    ),
    "config_not_toml": Text(
        "{file} is not valid TOML: {detail}", "{file} er ikke gyldig TOML: {detail}"
    ),
    "config_not_utf8": Text("{file} is not UTF-8 text", "{file} er ikke UTF-8-tekst"),
    "config_missing": Text(
        "{variable} names {file}, which does not exist",
        "{variable} peger på {file}, som ikke findes",
    ),
    "config_not_regular": Text(
        "{file} is not a regular file (a pipe, a socket or a folder): it is not read",
        "{file} er ikke en almindelig fil (men en pipe, en socket eller en mappe): den læses ikke",
    ),
    "config_unreadable": Text(
        "{file} cannot be read: {detail}", "{file} kan ikke læses (teknisk detalje: {detail})"
    ),
    "config_code_mismatch": Text(
        "{file}: [municipality] code = {code}, but {areas} gives municipality code {found}: "
        "the report and the StatBank queries use {code}",
        "{file}: [municipality] code = {code}, men {areas} angiver kommunekode {found}: "
        "rapporten og StatBank-forespørgslerne bruger {code}",
    ),
    "delivered_config_ignored": Text(
        "not read: the configuration is the installation's ({installed}), never the delivery's",
        "læses ikke: konfigurationen er installationens ({installed}), aldrig leverancens",
    ),
    # A failed Great Expectations rule: what is wrong, by expectation type; `check` adds the
    # rule (the suite's description), a suggestion and the count.
    "expect_table_columns_to_match_set": Text("columns are missing", "der mangler kolonner"),
    "expect_column_values_to_be_of_type": Text(
        "{value} has the wrong type", "{value} har forkert type"
    ),
    "expect_table_row_count_to_be_between": Text(
        "the source has {observed} row(s)", "kilden har {observed} række(r)"
    ),
    "expect_column_distinct_values_to_contain_set": Text(
        "no row has {value}", "ingen række har {value}"
    ),
    "expect_column_values_to_not_be_null": Text("the value is missing", "værdien mangler"),
    "expect_column_values_to_be_null": Text("{value} breaks the rule", "{value} bryder reglen"),
    "expect_column_values_to_be_in_set": Text(
        "{value} is not one of the allowed values", "{value} er ikke en af de tilladte værdier"
    ),
    "expect_column_values_to_be_unique": Text(
        "{value} occurs more than once", "{value} forekommer mere end én gang"
    ),
    "expect_compound_columns_to_be_unique": Text(
        "{value} occurs more than once", "{value} forekommer mere end én gang"
    ),
    "expect_column_values_to_match_regex": Text(
        "{value} does not have the required form", "{value} har ikke den krævede form"
    ),
    "expect_column_values_to_be_between": Text(
        "{value} is outside the allowed range", "{value} ligger uden for det tilladte interval"
    ),
    "expect_column_pair_values_to_be_equal": Text(
        "the values {value} differ", "værdierne {value} er forskellige"
    ),
    "expect_column_pair_values_a_to_be_greater_than_b": Text(
        "the values {value} are in the wrong order", "værdierne {value} står i forkert orden"
    ),
    "expect_column_values_to_be_json_parseable": Text(
        "{value} is not JSON", "{value} er ikke JSON"
    ),
    "did_you_mean": Text("did you mean {suggestion!r}?", "mente du {suggestion!r}?"),
    "count_in_file": Text("{count} row(s) in this file", "{count} række(r) i denne fil"),
    "count_at_least": Text(
        "at least {count} row(s) in this file, {total} in all of the source's files",
        "mindst {count} række(r) i denne fil, {total} i alt i kildens filer",
    ),
    "count_in_source": Text(
        "{total} row(s) in all of the source's files", "{total} række(r) i alt i kildens filer"
    ),
    "count_validated": Text(
        "{count} row(s) of the files validated", "{count} række(r) i de kontrollerede filer"
    ),
}


# --- rendering ---------------------------------------------------------------------------------


def visible(text: str) -> str:
    """`text` with every character that is not printable (control characters such as ESC,
    line breaks, bidirectional overrides, zero-width spaces) written as Python writes it in a
    string literal (`\\x1b`, `\\n`, `\\u202e`): a value from a file cannot act on a terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "r":
            return repr(value)  # quoted; unprintable characters escaped as in visible()
        return visible(value) if isinstance(value, str) else value

    def format_field(self, value: Any, format_spec: str) -> str:
        text = super().format_field(value, format_spec)
        if self.lang == "da" and "," in format_spec:
            text = text.replace(",", ".")  # Danish thousands separator
        return text


_FORMATTERS = {lang: _Formatter(lang) for lang in LANGUAGES}


def listed(values: Sequence[Any], lang: str) -> str:
    """`a, b or c` in the language."""
    items = [visible(str(v)) for v in values]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {LABELS['or'](lang)} {items[-1]}"


def render(kind: str, lang: str, /, **params: Any) -> str:
    """The message of `kind` in `lang` ("da" or "en") with its parameters."""
    values = {}
    for name, value in params.items():
        if name in PHRASES:
            value = PHRASES[name][value](lang)
        elif isinstance(value, list | tuple):
            value = listed(value, lang)
        values[name] = value
    return _FORMATTERS[lang].vformat(MESSAGES[kind](lang), (), values)


def shown(value: Any, lang: str, column: str | None = None) -> str:
    """A value from the data as a message shows it: text quoted (control characters visible),
    numbers in the language's form, several values (a key's columns) comma-separated, a
    derived column's value in its form (`VALUE_FORMS`)."""
    if column in VALUE_FORMS and isinstance(value, list | tuple):
        return VALUE_FORMS[column](lang).format(*(visible(str(v)) for v in value))
    if isinstance(value, Mapping):
        return ", ".join(shown(v, lang) for v in value.values())
    if isinstance(value, list | tuple):
        return ", ".join(shown(v, lang) for v in value)
    if value is None:
        return LABELS["empty"](lang)
    if isinstance(value, bool):
        return LABELS["true" if value else "false"](lang)
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", ",") if lang == "da" else text
    if isinstance(value, int):
        return str(value)
    return repr(str(value))


def suggestion(value: Any, known: Sequence[str]) -> str | None:
    """The known value closest to `value` when it is a near miss of a name or code (a typo, a
    dropped or swapped letter: difflib's ratio at least 0.8, ignoring case), else None. Only
    values with the same digits are candidates: a department or year number is not guessed."""
    if not isinstance(value, str) or not value.strip():
        return None
    digits = [c for c in value if c.isdigit()]
    by_key = {k.casefold(): k for k in reversed(known) if [c for c in k if c.isdigit()] == digits}
    found = difflib.get_close_matches(value.casefold(), list(by_key), n=1, cutoff=0.8)
    if not found or by_key[found[0]] == value:
        return None
    return by_key[found[0]]
