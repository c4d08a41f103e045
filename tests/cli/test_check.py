"""`boligsocial check`: the bundled example passes; every case of the malformed-input corpus
fails with its file, row and column and a Danish sentence; nothing is left behind; what it says
(issue 29) and what it cannot read (issue 28 §6) are sentences, and a value cannot act on the
terminal (§5)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boligsocial.cli import check
from boligsocial.cli.main import main
from boligsocial.configuration import settings
from boligsocial.sources import messages
from tests.malformed.corpus import CASES, Case, set_cell, transform_lines

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _tree(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(directory).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
    }


def _repo_files() -> set[str]:
    """Untracked and ignored files of the repository (bytecode caches aside)."""
    listing = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return {line for line in listing if "__pycache__" not in line and ".pytest_cache" not in line}


def test_the_example_passes_through_the_installed_command_and_leaves_nothing(tmp_path: Path):
    """The entry point as installed, in a real process, with its own temporary directory."""
    command = Path(sys.executable).with_name("boligsocial")
    assert command.exists(), "the project's [project.scripts] entry point is installed"
    delivery = tmp_path / "delivery"
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, delivery)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    before, repo_before = _tree(delivery), _repo_files()
    done = subprocess.run(
        [str(command), "check", str(delivery)],
        env={**os.environ, "TMPDIR": str(scratch), "TEMP": str(scratch), "TMP": str(scratch)},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("Alt i orden: ")
    delivered = sorted(
        p.relative_to(delivery).as_posix()
        for p in delivery.rglob("*.*")
        if p.is_file() and p.name not in check.KNOWN_OTHER_FILES
    )
    for file in delivered:
        assert any(line.split()[-1] == file or f" {file}," in line for line in lines), file
    assert not [line for line in lines if line.startswith("FEJL")]
    assert _tree(delivery) == before, "the delivery is unchanged"
    assert list(scratch.iterdir()) == [], "the throw-away DuckDB is gone"
    assert set(tmp_path.iterdir()) == {delivery, scratch}, "nothing written where it ran"
    assert _repo_files() == repo_before, "nothing written in the repository"


def test_usage_errors_exit_2(tmp_path: Path, capsys):
    assert main(["check", str(tmp_path / "missing")]) == 2
    assert "er ikke en mappe" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["check"])
    assert exit_.value.code == 2


def _matches(problem: dict, case: Case) -> bool:
    named = problem["file"] == case.file or Path(case.file).name in problem["message_en"]
    if case.row == -1:
        row = problem["row"] is not None
    else:
        row = case.row is None or problem["row"] == case.row
    return named and row and (case.column is None or problem["column"] == case.column)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_malformed_case_is_named_in_danish(example_sources: Path, case: Case):
    """The JSON and the text form of one check (main's exit code is `ok`: see the tests of the
    command itself)."""
    case.edit(example_sources)
    before = _tree(example_sources)
    checked = check.check(example_sources)
    report = json.loads(json.dumps(checked.to_json(), ensure_ascii=False))
    assert report["ok"] is False
    problems = [
        p for entry in report["files"] for p in entry["problems"] if entry["status"] == "error"
    ] + report["other"]
    found = [p for p in problems if p["severity"] == "error" and _matches(p, case)]
    assert found, json.dumps(problems, ensure_ascii=False, indent=1)
    problem = found[0]
    assert problem["kind"] in messages.MESSAGES
    assert problem["message_da"] != problem["message_en"], problem
    # The text form names the file, the row and the column in Danish.
    lines = check.text(checked, "da").splitlines()
    where = [problem["file"]]
    if problem["row"] is not None:
        where.append(f"række {problem['row']}")
    if problem["column"] is not None:
        where.append(f"kolonne {problem['column']}")
    expected = f"FEJL     {', '.join(where)}: {problem['message_da']}"
    assert expected in lines, "\n".join(lines)
    assert _tree(example_sources) == before


def test_english_on_request(example_sources: Path, capsys):
    case = next(c for c in CASES if c.id == "text_in_number")
    case.edit(example_sources)
    assert main(["check", str(example_sources), "--lang", "en", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert (
        "ERROR    statistics/benchmarks.csv, row 6, column INDHOLD: "
        "'ca. 14' is not a number with decimal comma (412,6) or '..'"
    ) in out.splitlines()
    assert not [line for line in out.splitlines() if line.startswith("OK")]


def test_every_unreadable_file_of_a_source_is_named(example_sources: Path):
    """A run stops at the first bad ledger export; the check names each of them. A file no
    source reads is a warning; hidden files are not part of the delivery."""
    for name in ("FOB_2016-06.csv", "SB_2015-06.csv"):
        path = example_sources / "vandalism" / name
        path.write_bytes(path.read_bytes().replace(b";", b",", 3))
    shutil.copy(example_sources / "police/incidents_2015.csv", example_sources / "police/x.csv")
    (example_sources / ".DS_Store").write_bytes(b"\0")
    (example_sources / "efforts" / "~$indsatser.xlsx").write_bytes(b"\0")
    report = check.check(example_sources)
    bad = {p.file for p in report.problems if p.severity == check.ERROR}
    assert bad == {"vandalism/FOB_2016-06.csv", "vandalism/SB_2015-06.csv"}
    warned = {p.file: p.kind for p in report.problems if p.severity == check.WARNING}
    assert warned["police/x.csv"] == "unknown_file"
    assert not [f for f in warned if "DS_Store" in f or "~$" in f]


def test_an_official_list_error_leaves_the_other_sources_checked(example_sources: Path):
    """The official list is no reference data of other sources: its error is its own."""
    set_cell("reference/official_list.csv", 2, "kategori", "udsat")(example_sources)
    report = check.check(example_sources).to_json()
    problems = [
        p for entry in report["files"] for p in entry["problems"] if entry["status"] == "error"
    ] + report["other"]
    assert [(p["file"], p["row"], p["column"]) for p in problems] == [
        ("reference/official_list.csv", 2, "kategori")
    ]


def _problems(report: check.Report, kind: str) -> list[check.Problem]:
    return [p for p in report.problems if p.kind == kind]


def test_counts_are_per_file(example_sources: Path):
    """A rule failing in two files: each file's line says its own count, not the source's."""
    set_cell("police/incidents_2017.csv", 3, "område", "Atlantis")(example_sources)
    set_cell("police/incidents_2018.csv", 4, "område", "Atlantis")(example_sources)
    report = check.check(example_sources)
    found = _problems(report, "expect_column_values_to_be_in_set")
    assert [(p.file, p.row, p.count, p.source_count) for p in found] == [
        ("police/incidents_2017.csv", 3, 1, 2),
        ("police/incidents_2018.csv", 4, 1, 2),
    ]
    assert all(p.message_da.endswith("; 1 række(r) i denne fil") for p in found)
    assert all(p.message_en.endswith("; 1 row(s) in this file") for p in found)


def test_a_derived_value_reads_in_the_language_of_its_message(example_sources: Path):
    """The example's ledger lines of a department that left its area (warnings)."""
    found = _problems(check.check(example_sources), "expect_column_values_to_be_null")
    assert found and all(p.severity == check.WARNING for p in found)
    assert found[0].message_da.startswith("SAB/1 den 2020-07-26 bryder reglen: linjens afdeling")
    assert found[0].message_en.startswith("SAB/1 on 2020-07-26 breaks the rule: the line's")
    assert not [p for p in found if " on " in p.message_da]


def test_a_broken_rule_says_what_is_wrong_shows_the_value_as_written_and_suggests(
    example_sources: Path,
):
    set_cell("efforts/indsatser.csv", 2, "område", "RINGPARKN")(example_sources)
    set_cell("police/incidents_2017.csv", 3, "område", "RINGPARKN")(example_sources)

    def duplicate_upper_cased(lines: list[str]) -> list[str]:
        fields = lines[2].split(";")
        fields[1] = fields[1].upper()
        return [*lines[:3], ";".join(fields), *lines[3:]]

    transform_lines("reference/official_list.csv", duplicate_upper_cased)(example_sources)
    report = check.check(example_sources)
    [effort] = [p for p in report.problems if p.file == "efforts/indsatser.csv"]
    assert effort.message_en == (
        "'RINGPARKN' is not one of the allowed values: område is an area_id of "
        "reference/areas.csv or FÆLLES; 1 row(s) in this file; did you mean 'RINGPARKEN'?"
    )
    assert effort.message_da == (
        "'RINGPARKN' er ikke en af de tilladte værdier: område skal være et area_id fra "
        "reference/areas.csv eller FÆLLES; 1 række(r) i denne fil; mente du 'RINGPARKEN'?"
    )
    # A name is compared ignoring case but shown as written, and suggested as areas.csv has it.
    [incident] = [p for p in report.problems if p.file == "police/incidents_2017.csv"]
    assert incident.value == "RINGPARKN"
    assert incident.message_da.startswith("'RINGPARKN' er ikke en af de tilladte værdier")
    assert incident.message_da.endswith("mente du 'Ringparken'?")
    # The official list's line 3 (Motalavej) again, upper-cased: both as written.
    duplicates = _problems(report, "expect_compound_columns_to_be_unique")
    assert [(p.row, p.value["_omraade_key"]) for p in duplicates] == [
        (3, "Motalavej"),
        (4, "MOTALAVEJ"),
    ]
    assert duplicates[1].message_da.startswith("2013, 'MOTALAVEJ' forekommer mere end én gang")


def test_an_unreadable_file_leaves_the_rest_of_its_source_checked(example_sources: Path):
    """The rules of the source run on the files that can be read: a second mistake in
    another file shows at once, and the check says what it left out."""
    path = example_sources / "vandalism" / "FOB_2016-06.csv"
    path.write_bytes(path.read_bytes().replace(b";", b","))
    set_cell("vandalism/SB_2016-12.csv", 2, "Afdeling", "999")(example_sources)
    report = check.check(example_sources)
    errors = [(p.file, p.kind) for p in report.problems if p.severity == check.ERROR]
    assert errors == [
        ("vandalism/FOB_2016-06.csv", "other_delimiter"),
        ("vandalism/SB_2016-12.csv", "expect_column_values_to_be_in_set"),
    ]
    [note] = report.notes[1:] if report.notes[0].source == "official_list" else report.notes
    assert (note.source, note.kind, note.severity) == (
        "vandalism_ledger",
        "checked_without_unreadable",
        check.INFO,
    )
    assert "uden de 1 fil(er), der ikke kan læses" in note.message_da


def test_files_that_cannot_be_read_are_sentences_and_the_rest_is_checked(
    example_sources: Path, capsys
):
    """A folder, a pipe and a broken link where files are expected (as root, a mode-000 file
    is readable: these are unreadable for anyone): each is named with its cause, in words,
    and every other file is still checked."""
    incidents = example_sources / "police" / "incidents_2016.csv"
    incidents.unlink()
    incidents.mkdir()
    pipe = example_sources / "vandalism" / "FOB_2016-06.csv"
    pipe.unlink()
    os.mkfifo(pipe)
    link = example_sources / "vandalism" / "SB_2015-06.csv"
    link.unlink()
    link.symlink_to(example_sources / "vandalism" / "gone.csv")
    assert main(["check", str(example_sources)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = captured.out.splitlines()
    for expected in (
        "FEJL     police/incidents_2016.csv: er en mappe, hvor der skal være en fil",
        "FEJL     vandalism/FOB_2016-06.csv: er ikke en almindelig fil (men en pipe, en socket "
        "eller en enhed)",
        "FEJL     vandalism/SB_2015-06.csv: kan ikke læses: den findes ikke (flyttet eller "
        "slettet under læsningen, eller et link til ingenting)",
        "OK       police/incidents_2017.csv",
        "OK       vandalism/FOB_2016-12.csv",
        "OK       efforts/indsatser.csv",
    ):
        assert expected in lines, captured.out
    assert lines[-1].startswith("3 fejl; 3 af ")


# Root without the capabilities that let it read any file: mode bits hold for it.
NO_READ_ANYTHING = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux's setpriv")
def test_a_file_and_a_folder_without_permission_are_sentences_and_the_rest_is_checked(
    example_sources: Path,
):
    """Mode 000 on a file and on a folder, and the installed command run without the
    capabilities that let root read anything: a real PermissionError for each, named in
    words, and every other file is still checked."""
    command = Path(sys.executable).with_name("boligsocial")
    unreadable = example_sources / "police" / "tryghedsindeks.csv"
    folder = example_sources / "statistics"
    unreadable.chmod(0)
    folder.chmod(0)
    try:
        done = subprocess.run(
            [*NO_READ_ANYTHING, str(command), "check", str(example_sources)],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=settings.PROJECT_ROOT,
        )
    finally:
        unreadable.chmod(0o644)
        folder.chmod(0o755)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for expected in (
        "FEJL     police/tryghedsindeks.csv: kan ikke læses: ingen adgang (filens rettigheder)",
        "FEJL     statistics: kan ikke læses: ingen adgang (filens rettigheder)",
        "OK       police/incidents_2017.csv",
        "OK       vandalism/FOB_2016-12.csv",
        "OK       efforts/indsatser.csv",
    ):
        assert expected in lines, done.stdout


def test_an_unreadable_reference_says_which_rules_were_not_checked(example_sources: Path):
    areas = example_sources / "reference" / "areas.csv"
    areas.unlink()
    areas.mkdir()
    report = check.check(example_sources)
    assert [(p.file, p.kind) for p in report.problems if p.severity == check.ERROR] == [
        ("reference/areas.csv", "file_is_folder")
    ]
    skipped = [n.source for n in report.notes if n.kind == "lookups_not_checked"]
    assert "police_incidents" in skipped and "efforts" in skipped
    lines = check.text(report, "da").splitlines()
    assert (
        "INFO     efforts: kildens regler er ikke kontrolleret: de slår op i areas, som ikke kan "
        "læses"
    ) in lines


def test_escape_sequences_in_a_cell_are_shown_not_sent(example_sources: Path, capsys):
    """A cell that would erase the error line and write a fake "Alt i orden" on a terminal
    is printed with its control characters visible; JSON keeps the value, JSON-escaped."""
    value = "\x1b[2K\x1b[1GAlt i orden: 141 filer kan leveres."
    set_cell("police/incidents_2017.csv", 3, "område", value)(example_sources)
    assert main(["check", str(example_sources), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out
    [line] = [line for line in out.splitlines() if "incidents_2017" in line]
    assert line.startswith(
        "FEJL     police/incidents_2017.csv, række 3, kolonne område: "
        "'\\x1b[2K\\x1b[1GAlt i orden: 141 filer kan leveres.' er ikke en af de tilladte"
    )
    assert main(["check", str(example_sources), "--format", "json", "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\u001b[2K" in out
    [entry] = [e for e in json.loads(out)["files"] if e["file"] == "police/incidents_2017.csv"]
    assert entry["problems"][0]["value"] == value


def test_json_gives_the_readers_value_and_quiet_gives_only_the_problems(
    example_sources: Path, capsys
):
    next(c for c in CASES if c.id == "text_in_number").edit(example_sources)
    assert main(["check", str(example_sources), "--format", "json", "--quiet"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["file"] for e in report["files"] if e["status"] == "error"] == [
        "statistics/benchmarks.csv"
    ]
    assert all(e["status"] != "ok" for e in report["files"]) and report["notes"] == []
    [problem] = report["files"][[e["file"] for e in report["files"]].index(
        "statistics/benchmarks.csv")]["problems"]  # fmt: skip
    assert (problem["kind"], problem["value"]) == ("wrong_value", "ca. 14")


def test_an_absent_optional_source_is_said_not_an_error(example_sources: Path, capsys):
    (example_sources / "reference" / "official_list.csv").unlink()
    assert main(["check", str(example_sources)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        "INFO     official_list: valgfri og ikke leveret (reference/official_list.csv): "
        "pipelinen kører uden den"
    ) in lines
    assert lines[-1].startswith("Alt i orden: ")
    assert main(["check", str(example_sources), "--quiet", "--lang", "en"]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if "INFO" in line]


def test_the_danish_guide_shows_what_check_prints(example_sources: Path, capsys):
    """docs/da/kontrol.md's example answer is check's output (some lines left out) for the
    delivery it describes."""
    guide = (settings.PROJECT_ROOT / "docs" / "da" / "kontrol.md").read_text("utf-8")
    block = guide.split("## Sådan læser man svaret\n```\n", 1)[1].split("```", 1)[0]
    set_cell("statistics/area_statistics_2018.csv", 4, "AFDELING", "..")(example_sources)
    set_cell("efforts/indsatser.csv", 2, "område", "RINGPARKN")(example_sources)
    set_cell("police/incidents_2017.csv", 3, "område", "Atlantis")(example_sources)
    (example_sources / "reference" / "official_list.csv").unlink()
    police = example_sources / "police"
    shutil.copy(police / "incidents_2015.csv", police / "incidents2024.csv")
    assert main(["check", str(example_sources)]) == 1
    printed = capsys.readouterr().out.splitlines()
    missing = [line for line in block.splitlines() if line not in printed]
    assert not missing, "\n".join(printed)


@pytest.mark.parametrize("departments", ["delivered", "unreadable"])
def test_sources_checked_side_by_side_give_the_report_of_one_process(
    example_sources: Path, monkeypatch, departments: str
):
    """A delivery as large as SIDE_BY_SIDE_BYTES checks the sources no other looks up in a
    process each: the report is the one a single process gives, in the same order, with the
    reference sources' rows looked up as before (or the lookups said not checked)."""
    path = example_sources / "vandalism" / "FOB_2016-06.csv"
    path.write_bytes(path.read_bytes().replace(b";", b",", 3))
    set_cell("police/incidents_2017.csv", 3, "område", "Atlantis")(example_sources)
    set_cell("reference/official_list.csv", 2, "kategori", "udsat")(example_sources)
    if departments == "unreadable":
        (example_sources / "reference" / "departments.csv").write_bytes(b"\xff\xfe\0")
    one = check.check(example_sources)
    monkeypatch.setattr(check, "SIDE_BY_SIDE_BYTES", 0)
    spawned = []
    real_pool = check.ProcessPoolExecutor
    monkeypatch.setattr(
        check, "ProcessPoolExecutor", lambda **kw: spawned.append(kw) or real_pool(**kw)
    )
    side_by_side = check.check(example_sources)
    assert spawned, "the sources were not checked in processes of their own"
    assert side_by_side.to_json() == one.to_json()
    assert check.text(side_by_side, "da") == check.text(one, "da")
    # A rule of a source checked apart that looks up areas' rows, in its copy of them.
    assert [(p.file, p.row) for p in _problems(one, "expect_column_values_to_be_in_set")] == [
        ("police/incidents_2017.csv", 3)
    ]
    assert len({p.source for p in one.problems if p.severity == check.ERROR}) >= 2
    skipped = {n.source for n in one.notes if n.kind == "lookups_not_checked"}
    assert ("vandalism_ledger" in skipped) == (departments == "unreadable")
