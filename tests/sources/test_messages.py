"""One table for both languages: every kind has its English and Danish form, every raise site
and every message of `check` uses a kind of the table (no free text), and real reader errors of
each kind render in both."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from boligsocial.sources import messages
from boligsocial.sources.efforts import read_efforts
from boligsocial.sources.errors import SourceError
from boligsocial.sources.police import read_police_incidents, read_tryghedsindeks
from boligsocial.sources.reference import read_areas, read_departments, read_official_list
from boligsocial.sources.statistics import read_area_statistics
from boligsocial.sources.vandalism import read_vandalism_ledger
from tests.support.workbooks import workbook_bytes

PACKAGE = Path(messages.__file__).parents[1]
AREAS = "area_id;area_name;town;municipality_code;region_code\n"
DEPARTMENTS = "housing_org;department_no;department_name;area_id;dwellings;valid_from;valid_to\n"
LEDGER = "Selskab;Afdeling;Sagsnr;Linje;Dato;Kategori;Tekst;Beløb\n"
EFFORTS = "indsats_id;navn;indsatsområde;spor;område;år;årsværk;budget_kr\n"
EFFORT_HEADER = ["indsats_id", "navn", "indsatsområde", "spor", "område", "år", "årsværk",
                 "budget_kr"]  # fmt: skip
EFFORT_ROW = ["E", "N", "O", "drift", "A", 2020, 1, 1]
STATS = "BOLIGORGANISATION;AFDELING;MÅL;TID;INDHOLD\n"


CASES = [
    ("file_name", read_police_incidents, "incidents2020.csv", "x"),
    ("missing_column", read_areas, "areas.csv", "area_id;area_name\nA;B\n"),
    ("no_data", read_areas, "areas.csv", AREAS),
    ("not_utf8", read_areas, "areas.csv", (AREAS + "A;Å;C;330;1085\n").encode("latin-1")),
    ("file_empty", read_areas, "areas.csv", ""),
    ("empty_line", read_areas, "areas.csv", AREAS + "A;B;C;330;1085\n\nD;E;F;330;1085\n"),
    ("field_count", read_areas, "areas.csv", AREAS + "A;B;C;330\n"),
    ("malformed_csv", read_areas, "areas.csv", AREAS + 'A;"B"x;C;330;1085\n'),
    ("wrong_delimiter", read_areas, "areas.csv", "area_id area_name\nA B\n"),
    ("other_delimiter", read_areas, "areas.csv", AREAS.replace(";", ",") + "A,B,C,1,2\n"),
    ("unnamed_header", read_areas, "areas.csv", AREAS.strip() + ";\nA;B;C;330;1085;\n"),
    ("duplicate_header", read_areas, "areas.csv", "area_id;AREA_ID\nA;B\n"),
    ("unexpected_column", read_areas, "areas.csv", AREAS.strip() + ";x\nA;B;C;330;1085;y\n"),
    ("empty_cell", read_departments, "departments.csv", DEPARTMENTS + "A;;B;C;1;2020-01-01;\n"),
    ("suppressed_outside_statistics", read_departments, "departments.csv",
     DEPARTMENTS + "A;..;B;C;1;2020-01-01;\n"),
    ("wrong_value", read_departments, "departments.csv", DEPARTMENTS + "A;x;B;C;1;2020-01-01;\n"),
    ("integer_range", read_departments, "departments.csv",
     DEPARTMENTS + "A;99999999999;B;C;1;2020-01-01;\n"),
    ("not_calendar_date", read_departments, "departments.csv",
     DEPARTMENTS + "A;1;B;C;1;2019-02-29;\n"),
    ("amount_decimals", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER + "ORG;1;S;1;01-01-2024;K;T;1,234\n"),
    ("amount_too_large", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER + "ORG;1;S;1;01-01-2024;K;T;123456789012345678\n"),
    ("amount_decimals", read_efforts, "indsatser.csv", EFFORTS + "E;N;O;drift;A;2020;0,12345;1\n"),
    ("number_too_large", read_efforts, "indsatser.csv",
     EFFORTS + "E;N;O;drift;A;2020;123456789012345;1\n"),
    ("selskab_differs_from_file_name", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER + "XYZ;1;S;1;01-01-2024;K;T;1\n"),
    ("not_utf8_or_cp1252", read_vandalism_ledger, "ORG_2024-01.csv",
     LEDGER.encode() + b"ORG;1;S;1;01-01-2024;K;\x81;1\n"),
    ("date_outside_file_year", read_police_incidents, "incidents_2020.csv",
     "anmeldelse_id;dato;område;kategori\nX;01-01-2019;A;B\n"),
    ("tid_differs_from_file_name", read_area_statistics, "area_statistics_2020.csv",
     STATS + "ORG;1;BEF;2019;1\n"),
    ("effort_file_type", read_efforts, "indsatser.txt", EFFORTS),
    ("wrong_value", read_tryghedsindeks, "tryghedsindeks.csv", "år;område;indeks\n2020;A;1.5\n"),
    ("wrong_value", read_official_list, "official_list.csv", "år;område;kategori\n14;A;udsat\n"),
    ("xlsx_unreadable", read_efforts, "indsatser.xlsx", b"not a workbook"),
    ("sheet_empty", read_efforts, "indsatser.xlsx", workbook_bytes()),
    ("header_empty", read_efforts, "indsatser.xlsx", workbook_bytes([None], EFFORT_ROW)),
    ("value_without_header", read_efforts, "indsatser.xlsx",
     workbook_bytes(EFFORT_HEADER, [*EFFORT_ROW, "x"])),
    ("empty_sheet_row", read_efforts, "indsatser.xlsx",
     workbook_bytes(EFFORT_HEADER, EFFORT_ROW, [None], EFFORT_ROW)),
    ("file_is_folder", read_areas, "folder/", ""),
]  # fmt: skip
# Kinds made real elsewhere: the loader's in tests/loading (no_file, several_files,
# link_outside, file_changed), the limits' in tests/sources/test_bounded_reads.py, the files
# that cannot be read in tests/sources/test_errors.py, check's own in tests/cli/test_check.py.
# Not reachable from a file: not_csv and cannot_convert guard what the checks before them catch.
ELSEWHERE = {"no_file", "several_files", "link_outside", "file_changed", "too_many_rows",
             "file_too_large", "file_permission", "file_missing", "file_not_regular",
             "file_unreadable", "not_csv", "cannot_convert",
             # tests/sources/test_bounded_reads.py: files built to break a bound
             "xlsx_inflated_too_large", "xlsx_text_too_large", "dimensions_too_large",
             "out_of_memory", "too_many_columns", "line_too_long", "combining_marks",
             "too_many_sheets",
             # tests/validation/test_suites.py: a rule's count in the load's findings
             "count_validated"}  # fmt: skip
# The configuration's, in tests/configuration (config_unreadable: an OSError other than a
# missing file, which a test run as root cannot provoke).
CONFIGURATION = {"config_unknown_section", "config_unknown_key", "config_wrong_value",
                 "config_not_toml",
                 "config_not_utf8", "config_missing", "config_not_regular", "config_unreadable",
                 "config_code_mismatch", "delivered_config_ignored"}  # fmt: skip


@pytest.mark.parametrize(("kind", "reader", "name", "content"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_reader_error_reads_in_both_languages(tmp_path: Path, kind, reader, name,
                                                           content):  # fmt: skip
    path = tmp_path / name
    if name.endswith("/"):
        path.mkdir()
    else:
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    with pytest.raises(SourceError) as raised:
        reader(path)
    error = raised.value
    assert error.kind == kind, str(error)
    assert str(error).endswith(f": {error.text('en')}")
    assert error.text("da") and error.text("da") != error.text("en")


def test_every_reader_kind_is_made_real():
    readers = {k for k in messages.MESSAGES if not k.startswith("expect_")}
    check_own = (
        _literals(PACKAGE / "cli") - _literals(PACKAGE / "sources") - _literals(PACKAGE / "loading")
    )
    assert {c[0] for c in CASES} | ELSEWHERE | CONFIGURATION | check_own >= readers


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _texts() -> dict[str, messages.Text]:
    texts = {f"message {k}": t for k, t in messages.MESSAGES.items()}
    texts |= {f"label {k}": t for k, t in messages.LABELS.items()}
    texts |= {f"value form {k}": t for k, t in messages.VALUE_FORMS.items()}
    for name, phrases in messages.PHRASES.items():
        texts |= {f"{name} {k!r}": t for k, t in phrases.items()}
    return texts


def test_every_kind_has_both_languages_with_the_same_parameters():
    same_in_both = {"label info", "label ok"}
    for name, text in _texts().items():
        assert text.en.strip() and text.da.strip(), name
        assert _fields(text.en) == _fields(text.da), name
        if name not in same_in_both:
            assert text.en != text.da, name


def test_every_kind_renders_with_its_parameters():
    values = {"expected": "integer", "delimiter": ",", "config_expected": "text"}
    for kind, text in messages.MESSAGES.items():
        params = {f: values.get(f, 7) for f in _fields(text.en)}
        for lang in messages.LANGUAGES:
            assert "{" not in messages.render(kind, lang, **params), kind


def _calls(path: Path) -> list[tuple[str, ast.Call]]:
    """Every call in the module, with the (innermost) function it is made in."""
    found: list[tuple[str, ast.Call]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                found.append((function, child))
            visit(child, child.name if isinstance(child, ast.FunctionDef) else function)

    visit(ast.parse(path.read_text("utf-8")), "<module>")
    return found


def _name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _kind_argument(call: ast.Call) -> ast.expr | None:
    """Where each way of making a message takes its kind."""
    keywords = {k.arg: k.value for k in call.keywords}
    positions = {"render": 0, "_problem": 3, "check": 2, "_exact": 4, "ConfigError": 0,
                 "ConfigMessage": 0}  # fmt: skip
    name = _name(call)
    if name == "SourceError":
        return keywords.get("kind")
    if name in positions and len(call.args) > positions[name]:
        return call.args[positions[name]]
    return None


def _literals(folder: Path) -> set[str]:
    """The kinds the code in `folder` names literally: as a kind argument, or returned by a
    function that picks the kind for the offending cell (`_csv.not_expected`)."""
    found, pickers = set(), set()
    for path in folder.rglob("*.py"):
        for _, call in _calls(path):
            kind = _kind_argument(call)
            if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                found.add(kind.value)
            elif isinstance(kind, ast.Name | ast.Attribute):
                pickers.add(kind.id if isinstance(kind, ast.Name) else kind.attr)
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in pickers:
                found |= {
                    r.value.value
                    for r in ast.walk(node)
                    if isinstance(r, ast.Return) and isinstance(r.value, ast.Constant)
                }
    return found


def test_every_raise_site_uses_a_known_kind_and_no_free_text():
    """Every SourceError names a kind (the file, row and column are its only positional
    arguments: a message text has nowhere to go); every literal kind, of an error, a
    `Table.check`, a `render` or a problem of check, is in the table; a kind that is not a
    literal is only passed on (by the checks that pick the kind for the offending cell, and
    by unpickling, and by naming the file relative to the sources folder)."""
    forwarding = {"check", "_restore", "within"}
    sites = 0
    for path in PACKAGE.rglob("*.py"):
        for function, call in _calls(path):
            if _name(call) == "SourceError":
                sites += 1
                where = f"{path.relative_to(PACKAGE)}: {function}"
                assert len(call.args) == 3, where
                assert {k.arg for k in call.keywords} >= {"kind"}, where
                assert "message" not in {k.arg for k in call.keywords}, where
            kind = _kind_argument(call)
            if isinstance(kind, ast.Constant):
                assert kind.value in messages.MESSAGES, f"{path.name}: {kind.value!r}"
            elif kind is not None and _name(call) == "SourceError":
                assert function in forwarding, f"{path.name}: {function}"
    assert sites >= 40  # the scan sees them (40 when this was written)
    assert _literals(PACKAGE) <= set(messages.MESSAGES)  # the pickers' kinds too


def test_every_kind_is_used_and_every_rule_type_has_its_sentence():
    used = _literals(PACKAGE)
    types = {
        e["type"]
        for suite in (settings.EXPECTATIONS_DIR).glob("*.json")
        for e in json.loads(suite.read_text("utf-8"))["expectations"]
    }
    # Named by check from its results: the rule's type, the suggestion and the counts.
    built_by_check = {"did_you_mean", "count_in_file", "count_at_least", "count_in_source"}
    assert types <= set(messages.MESSAGES)
    assert set(messages.MESSAGES) == used | types | built_by_check


def test_rendering_shows_values_safely_in_each_language():
    assert messages.render("wrong_value", "da", value="ca. 14", expected="statistic") == (
        "'ca. 14' er ikke et tal med decimalkomma (412,6) eller '..'"
    )
    assert messages.render("other_delimiter", "da", delimiter="\t").endswith(
        "den ser ud til at være adskilt med tabulator"
    )
    assert messages.render("file_too_large", "da", size=123_456_789, limit=1000).startswith(
        "filen fylder 123.456.789 byte, mere end grænsen på 1.000"
    )
    assert messages.render("file_too_large", "en", size=123_456_789, limit=1000).startswith(
        "the file is 123,456,789 bytes"
    )
    assert messages.render("several_files", "da", files=["a.csv", "b.xlsx"], count=2) == (
        "kun én af a.csv eller b.xlsx må findes, men der er 2"
    )
    # Escape sequences, line breaks and bidirectional overrides become visible text.
    shown = messages.render("date_outside_file_year", "en", value="\x1b[2K\n\u202eX", year=2020)
    assert shown == "\\x1b[2K\\n\\u202eX is not in the file name's year 2020"
    assert messages.visible("Søparken Øst") == "Søparken Øst"


def test_a_derived_value_reads_in_the_message_language():
    value = ["SAB/1", "2020-07-26"]
    assert messages.shown(value, "da", "_department_outside_area") == "SAB/1 den 2020-07-26"
    assert messages.shown(value, "en", "_department_outside_area") == "SAB/1 on 2020-07-26"
    assert messages.shown({"aar": 2019, "omraade": "Søparken"}, "da") == "2019, 'Søparken'"
    assert messages.shown(0.62, "da") == "0,62"
    assert [messages.shown(v, "da") for v in (None, True, False)] == ["(tom)", "sand", "falsk"]


def test_a_near_miss_gets_a_suggestion():
    known = ["RINGPARKEN", "SYDBYEN", "MOTALAVEJ", "FÆLLES"]
    assert messages.suggestion("KORNMARKN", ["KORNMARKEN", *known]) == "KORNMARKEN"
    assert messages.suggestion("Ringparken", known) == "RINGPARKEN"  # ids are upper case
    assert messages.suggestion("fælles", known) == "FÆLLES"
    assert messages.suggestion("ATLANTIS", known) is None  # not near anything
    assert messages.suggestion("RINGPARKEN", known) is None  # nothing to suggest
    # Numbers are not guessed: another department is not a typo's correction.
    assert messages.suggestion("SB/15", ["SB/14", "SB/16"]) is None
    assert messages.suggestion("SBB/14", ["SB/14", "SB/16"]) == "SB/14"
