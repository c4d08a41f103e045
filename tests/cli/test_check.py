"""`boligsocial check`: the bundled example passes; every case of the malformed-input corpus
fails with its file, row and column and a Danish sentence; nothing is left behind."""

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
from tests.malformed.corpus import CASES, Case, set_cell

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
    if case.kind == "reader":
        assert messages.danish(problem["message_en"]) == problem["message_da"]
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
