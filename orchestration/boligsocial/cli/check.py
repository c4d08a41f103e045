"""`boligsocial check DIR`: read and validate a delivery as a run would, without a warehouse.

Every source goes through `boligsocial.loading.warehouse.ingest` with the GX validator of a run, in
a DuckDB file in a temporary directory that is removed afterwards: the same readers, the same
suites, the same order (the reference sources first, as the rules of the others look up their areas
and departments). A run stops a source at its first unreadable file; the check reads the source's
other files too, so every unreadable file is named at once. The GX rules of a source run once all
its files are readable (as in a run, they see the whole source).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from boligsocial.loading.warehouse import connect, ingest, source_files
from boligsocial.sources import messages
from boligsocial.sources.catalog import SOURCES, SourceSpec
from boligsocial.sources.errors import SourceError

ERROR = "error"
WARNING = "warning"
# A source that cannot be read stops at its first bad file; the check looks for more, this many.
MAX_READER_ERRORS = 50
# Files in a delivery that belong to no source but are expected there.
KNOWN_OTHER_FILES = ("boligsocial.toml", "README.md")
HIDDEN = (".", "~$")  # name prefixes of hidden files (SOURCES.md): .DS_Store, Excel's lock files


@dataclass
class Problem:
    source: str
    file: str | None  # relative to the delivery, '/' separated; None: the whole source
    row: int | None
    column: str | None
    severity: str  # ERROR or WARNING
    kind: str  # the reader message's kind (sources/messages.py) or the GX expectation
    message_en: str
    message_da: str
    value: Any = None
    count: int | None = None  # rows failing the rule, in all of the source's files

    def message(self, lang: str) -> str:
        return self.message_da if lang == "da" else self.message_en


@dataclass
class Report:
    delivery: str
    files: dict[str, str] = field(default_factory=dict)  # file -> its source
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def to_json(self) -> dict[str, Any]:
        by_file: dict[str | None, list[Problem]] = {}
        for problem in self.problems:
            by_file.setdefault(problem.file, []).append(problem)
        files = [
            {
                "file": file,
                "source": source,
                "status": _status(by_file.get(file, [])),
                "problems": [asdict(p) for p in by_file.get(file, [])],
            }
            for file, source in sorted(self.files.items())
        ]
        elsewhere = [asdict(p) for p in self.problems if p.file not in self.files]
        return {"delivery": self.delivery, "ok": self.ok, "files": files, "other": elsewhere}


def _status(problems: list[Problem]) -> str:
    if any(p.severity == ERROR for p in problems):
        return ERROR
    return WARNING if problems else "ok"


def _relative(delivery: Path, file: str) -> str:
    try:
        return Path(file).resolve().relative_to(delivery).as_posix()
    except ValueError:
        return file


def _reader_problem(spec: SourceSpec, delivery: Path, error: SourceError) -> Problem:
    return Problem(
        source=spec.name,
        file=_relative(delivery, error.file),
        row=error.row,
        column=error.column,
        severity=ERROR,
        kind=messages.kind(error.message) or "reader",
        message_en=error.message,
        message_da=messages.danish(error.message) or error.message,
    )


def _reader_errors(
    spec: SourceSpec, files: list[Path], first: SourceError, delivery: Path
) -> list[Problem]:
    """The first error, and those of the source's other unreadable files, each read as a run
    reads it (many small files at once with the batch reader)."""
    problems = [_reader_problem(spec, delivery, first)]
    remaining = {path.resolve(): path for path in files}
    remaining.pop(Path(first.file).resolve(), None)
    if spec.batch_reader is None:
        for path in remaining.values():
            try:
                spec.read(path)
            except SourceError as error:
                problems.append(_reader_problem(spec, delivery, error))
        return problems[:MAX_READER_ERRORS]
    while remaining and len(problems) < MAX_READER_ERRORS:
        try:
            spec.read_many(list(remaining.values()))
            break
        except SourceError as error:
            problems.append(_reader_problem(spec, delivery, error))
            if remaining.pop(Path(error.file).resolve(), None) is None:
                break  # not one file's fault: reading again would say the same
    return problems


def _value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _rule_problems(spec: SourceSpec, outcome: Any, severity: str) -> list[Problem]:
    """One problem per sampled row of a failed expectation (the first SAMPLE_SIZE)."""
    count = outcome.unexpected_count
    problems = []
    for sample in outcome.samples or [{}]:
        value = sample.get("value")
        en, da = outcome.description, outcome.description_da or outcome.description
        if "value" in sample:
            en += f" (value {_value_text(value)})"
            da += f" (værdien er {_value_text(value)})"
        if count:
            en += f"; {count} row(s) in all"
            da += f"; {count} række(r) i alt"
        problems.append(
            Problem(
                source=spec.name,
                file=sample.get("file"),
                row=sample.get("row"),
                column=outcome.header,
                severity=severity,
                kind=outcome.expectation,
                message_en=en,
                message_da=da,
                value=value,
                count=count,
            )
        )
    return problems


def _validation_problems(spec: SourceSpec, report: Any) -> list[Problem]:
    from boligsocial.validation.validate import ERROR as GX_ERROR
    from boligsocial.validation.validate import WARNING as GX_WARNING

    return [
        problem
        for gx_severity, severity in ((GX_ERROR, ERROR), (GX_WARNING, WARNING))
        for outcome in report.failures(gx_severity)
        for problem in _rule_problems(spec, outcome, severity)
    ]


def _not_validated(spec: SourceSpec, failed: list[str]) -> Problem:
    names = ", ".join(failed)
    return Problem(
        source=spec.name,
        file=None,
        row=None,
        column=None,
        severity=ERROR,
        kind="reference_failed",
        message_en=f"the rules of '{spec.name}' were not checked: {names} has errors, and they "
        "look up its rows",
        message_da=f"reglerne for '{spec.name}' er ikke kontrolleret: {names} har fejl, og "
        "reglerne slår op i den",
    )


def looks_up_reference(spec: SourceSpec) -> bool:
    """Whether the source's rules look up the reference sources (areas, departments): a rule
    whose set of allowed values is a suite parameter other than the delivered files."""
    from boligsocial.validation.validate import load_suite

    return any(
        isinstance(values := e["kwargs"].get("value_set"), dict)
        and values.get("$PARAMETER") != "delivered_files"
        for e in load_suite(spec.name)["expectations"]
    )


def check(delivery: Path) -> Report:
    """Read and validate every source of `delivery` as a run would; nothing is written there."""
    from boligsocial.validation.validate import REFERENCE_SOURCES, ValidationFailed, raw_validator

    delivery = delivery.resolve()
    report = Report(str(delivery))
    failed_reference: list[str] = []
    # The connection closes before its directory is removed (Windows cannot remove an open file).
    with (
        tempfile.TemporaryDirectory(prefix="boligsocial-check-") as scratch,
        connect(Path(scratch) / "check.duckdb") as con,
    ):
        for spec in SOURCES:
            try:
                files = source_files(spec, delivery)
            except SourceError as error:  # no file, or more than one where one is allowed
                report.problems.append(_reader_problem(spec, delivery, error))
                if spec.name in REFERENCE_SOURCES:
                    failed_reference.append(spec.name)
                continue
            report.files.update(dict.fromkeys(files, spec.name))
            # A run skips a source whose reference data failed: its rules would look up nothing.
            skip_rules = bool(failed_reference) and looks_up_reference(spec)
            reports: list[Any] = []
            try:
                ingest(
                    spec,
                    delivery,
                    con,
                    validate=None if skip_rules else raw_validator(spec, reports),
                )
            except SourceError as error:
                report.problems += _reader_errors(spec, list(files.values()), error, delivery)
            except ValidationFailed as failed:
                report.problems += _validation_problems(spec, failed.report)
            else:
                if skip_rules and files:
                    report.problems.append(_not_validated(spec, failed_reference))
                elif reports:
                    report.problems += _validation_problems(spec, reports[0])
                continue
            if spec.name in REFERENCE_SOURCES:
                failed_reference.append(spec.name)
    report.problems += _stray_files(delivery, report.files)
    return report


def _stray_files(delivery: Path, files: dict[str, str]) -> list[Problem]:
    """Files no source reads (a misspelt name is the usual cause): a run ignores them."""
    stray = []
    for path in sorted(delivery.rglob("*")):
        relative = path.relative_to(delivery)
        if any(part.startswith(HIDDEN) for part in relative.parts) or not path.is_file():
            continue  # hidden files and folders are not part of a delivery
        name = relative.as_posix()
        if name in files or name in KNOWN_OTHER_FILES:
            continue
        stray.append(
            Problem(
                source="",
                file=name,
                row=None,
                column=None,
                severity=WARNING,
                kind="unknown_file",
                message_en="no source reads this file (check its name against docs/sources.md)",
                message_da="ingen kilde læser denne fil (tjek navnet mod kildekontrakten, "
                "docs/sources.md)",
            )
        )
    return stray


# --- output ----------------------------------------------------------------------------------

_WORDS = {
    "da": {"row": "række", "column": "kolonne", ERROR: "FEJL", WARNING: "ADVARSEL", "ok": "OK"},
    "en": {"row": "row", "column": "column", ERROR: "ERROR", WARNING: "WARNING", "ok": "OK"},
}


def _line(problem: Problem, lang: str) -> str:
    words = _WORDS[lang]
    where = [problem.file or problem.source]
    if problem.row is not None:
        where.append(f"{words['row']} {problem.row}")
    if problem.column is not None:
        where.append(f"{words['column']} {problem.column}")
    return f"{words[problem.severity]:<8} {', '.join(where)}: {problem.message(lang)}"


def text(report: Report, lang: str, *, quiet: bool = False) -> str:
    """Per file: OK, or each of its problems on its own line; then the other problems and a
    summary."""
    words = _WORDS[lang]
    lines = []
    by_file: dict[str | None, list[Problem]] = {}
    for problem in report.problems:
        by_file.setdefault(problem.file, []).append(problem)
    for file in sorted(report.files):
        found = by_file.get(file, [])
        if found:
            lines += [_line(p, lang) for p in found]
        elif not quiet:
            lines.append(f"{words['ok']:<8} {file}")
    lines += [_line(p, lang) for p in report.problems if p.file not in report.files]
    errors = [p for p in report.problems if p.severity == ERROR]
    bad = len({p.file for p in errors if p.file in report.files})
    if lang == "da":
        summary = (
            f"Alt i orden: {len(report.files)} filer kan leveres."
            if report.ok
            else f"{len(errors)} fejl; {bad} af {len(report.files)} filer har fejl. "
            "Ret dem, og kør kontrollen igen."
        )
    else:
        summary = (
            f"All OK: {len(report.files)} files can be delivered."
            if report.ok
            else f"{len(errors)} error(s); {bad} of {len(report.files)} files have errors. "
            "Fix them and check again."
        )
    return "\n".join([*lines, summary])
