"""`boligsocial check DIR`: read and validate a delivery as a run would, without a warehouse.

Every source goes through `boligsocial.loading.warehouse.ingest` with the GX validator of a run, in
a DuckDB file in a temporary directory that is removed afterwards: the same readers, the same
suites, the same order (the reference sources first, as the rules of the others look up their
areas and departments). Where a run stops, the check goes on, to show as many problems at once
as it can:

- a run stops a source at its first unreadable file; the check reads the source's other files
  too, names every unreadable one, and then validates the rest of the source without them;
- a run skips the sources that look up a reference source with errors; the check looks them up
  in the reference's rows as delivered, and skips their rules only when it cannot be read.

What it could not check it says (INFO lines), as it says that an optional source is absent.
Every message comes from `boligsocial.sources.messages`, in Danish or English.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from boligsocial.configuration import config as configuration
from boligsocial.configuration import settings
from boligsocial.loading.warehouse import connect, ingest, source_files
from boligsocial.sources import messages
from boligsocial.sources.catalog import (
    REFERENCE_SOURCES,
    SOURCES,
    SOURCES_BY_NAME,
    SourceSpec,
    is_hidden,
)
from boligsocial.sources.errors import SourceError, file_error

ERROR = "error"
WARNING = "warning"
INFO = "info"  # what the check could not check, or an optional source that is absent
# A source that cannot be read stops at its first bad file; the check looks for more, this many.
MAX_READER_ERRORS = 50
# Files in a delivery that belong to no source but are expected there.
KNOWN_OTHER_FILES = ("README.md",)
IN_SET = "expect_column_values_to_be_in_set"  # the rules whose near misses get a suggestion
# Below this many bytes of the non-reference sources' files, starting a process per source
# (each imports GX and the readers) costs more than checking them side by side saves.
SIDE_BY_SIDE_BYTES = 64 * 2**20


@dataclass
class Problem:
    source: str
    file: str | None  # relative to the delivery, '/' separated; None: the whole source
    row: int | None
    column: str | None
    severity: str  # ERROR, WARNING or INFO
    kind: str  # the message's kind (sources/messages.py), or the failed GX expectation's type
    message_en: str
    message_da: str
    value: Any = None  # the offending value, as in the file, where there is one
    count: int | None = None  # rows of this file failing the rule, when known exactly
    source_count: int | None = None  # rows failing the rule in all of the source's files

    def message(self, lang: str) -> str:
        return self.message_da if lang == "da" else self.message_en


def _problem(
    source: str,
    file: str | None,
    severity: str,
    kind: str,
    *,
    row: int | None = None,
    column: str | None = None,
    **params: Any,
) -> Problem:
    """A problem whose message is the table's `kind`, in both languages."""
    return Problem(
        source=source,
        file=file,
        row=row,
        column=column,
        severity=severity,
        kind=kind,
        message_en=messages.render(kind, "en", **params),
        message_da=messages.render(kind, "da", **params),
    )


@dataclass
class Report:
    delivery: str
    files: dict[str, str] = field(default_factory=dict)  # file -> its source
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # INFO: not checked, or not delivered

    @property
    def ok(self) -> bool:
        return not any(p.severity == ERROR for p in self.problems)

    def to_json(self, *, quiet: bool = False) -> dict[str, Any]:
        """Every file with its status and problems, the problems of no delivered file
        (`other`) and the notes; `quiet`: only the files with problems, and no notes."""
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
            if not quiet or file in by_file
        ]
        elsewhere = [asdict(p) for p in self.problems if p.file not in self.files]
        notes = [] if quiet else [asdict(p) for p in self.notes]
        return {
            "delivery": self.delivery,
            "ok": self.ok,
            "files": files,
            "other": elsewhere,
            "notes": notes,
        }


def _status(problems: list[Problem]) -> str:
    if any(p.severity == ERROR for p in problems):
        return ERROR
    return WARNING if problems else "ok"


def _relative(delivery: Path, file: str) -> str:
    """The file's path in the delivery as listed (a link is named, not what it leads to)."""
    try:
        return Path(os.path.abspath(file)).relative_to(delivery).as_posix()
    except ValueError:
        return file


def _reader_problem(spec: SourceSpec, delivery: Path, error: SourceError) -> Problem:
    return Problem(
        source=spec.name,
        file=_relative(delivery, error.file),
        row=error.row,
        column=error.column,
        severity=ERROR,
        kind=error.kind,
        message_en=error.text("en"),
        message_da=error.text("da"),
        value=error.value,
    )


def _reader_errors(
    spec: SourceSpec, files: list[Path], first: SourceError, delivery: Path
) -> list[Problem]:
    """The first error, and those of the source's other unreadable files, each read as a run
    reads it (many small files at once with the batch reader)."""
    problems = [_reader_problem(spec, delivery, first)]
    remaining = {os.path.abspath(path): path for path in files}
    if remaining.pop(os.path.abspath(first.file), None) is None:
        return problems  # not one file's fault: reading again would say the same
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
            if remaining.pop(os.path.abspath(error.file), None) is None:
                break
    return problems


def _known_values(spec: SourceSpec, outcome: Any, reference: Any) -> list[str]:
    """The values an in-set rule allows, spelled as delivered (a name as areas.csv has it)."""
    from boligsocial.validation.suites import load_suite

    if outcome.expectation != IN_SET:
        return []
    values = load_suite(spec.name)["expectations"][outcome.order]["kwargs"]["value_set"]
    if isinstance(values, Mapping):
        values = reference.parameters().get(values["$PARAMETER"], [])
    # Name keys are casefolded: shown as areas.csv writes the name.
    names = {str(n).casefold(): str(n) for n in reference.areas["area_name"].dropna()}
    return [names.get(str(v), str(v)) for v in values]


def _rule_problems(
    spec: SourceSpec, outcome: Any, severity: str, known: list[str]
) -> list[Problem]:
    """One problem per sampled row of a failed expectation (the first SAMPLE_SIZE): what is
    wrong, the rule, a suggestion for a near miss, and how many rows of the file fail it."""
    total = outcome.unexpected_count or None
    samples = outcome.samples or [{}]
    per_file = Counter(s.get("file") for s in samples)
    # The samples are the first failing rows; when they are all of them, each file's count is
    # exact, otherwise only a least count.
    complete = total is not None and total <= len(samples)
    rule = messages.Text(outcome.description, outcome.description_da or outcome.description)
    problems = []
    for sample in samples:
        value, file = sample.get("value"), sample.get("file")
        near = messages.suggestion(value, known) if "value" in sample else None

        def sentence(lang: str, value: Any = value, file: Any = file, near: Any = near) -> str:
            what = messages.render(
                outcome.expectation,
                lang,
                value=messages.shown(value, lang, outcome.column),
                observed=messages.shown(outcome.observed, lang),
            )
            parts = [f"{what}: {rule(lang)}"]
            if total and file is None:
                parts.append(messages.render("count_in_source", lang, total=total))
            elif total and complete:
                parts.append(messages.render("count_in_file", lang, count=per_file[file]))
            elif total:
                count = per_file[file]
                parts.append(messages.render("count_at_least", lang, count=count, total=total))
            if near is not None:
                parts.append(messages.render("did_you_mean", lang, suggestion=near))
            return "; ".join(parts)

        problems.append(
            Problem(
                source=spec.name,
                file=file,
                row=sample.get("row"),
                column=outcome.header,
                severity=severity,
                kind=outcome.expectation,
                message_en=sentence("en"),
                message_da=sentence("da"),
                value=value,
                count=per_file[file] if total and complete and file is not None else None,
                source_count=total,
            )
        )
    return problems


def _validation_problems(spec: SourceSpec, report: Any, con: Any) -> list[Problem]:
    from boligsocial.validation.reference import Reference
    from boligsocial.validation.suites import ERROR as GX_ERROR
    from boligsocial.validation.suites import WARNING as GX_WARNING

    reference = None
    problems = []
    for gx_severity, severity in ((GX_ERROR, ERROR), (GX_WARNING, WARNING)):
        for outcome in report.failures(gx_severity):
            if outcome.expectation == IN_SET and reference is None:
                reference = Reference.from_warehouse(con)
            known = _known_values(spec, outcome, reference)
            problems += _rule_problems(spec, outcome, severity, known)
    return problems


def _check_source(
    spec: SourceSpec, delivery: Path, con: Any, files: dict[str, Path], validate: bool
) -> tuple[list[Problem], list[Problem], bool]:
    """The source's problems and notes, and whether all its files could be read. Its rows stay
    in the scratch warehouse for the sources that look them up, errors or not."""
    from boligsocial.validation.validate import ValidationFailed, raw_validator

    reports: list[Any] = []
    try:
        ingest(spec, delivery, con, validate=raw_validator(spec, reports) if validate else None)
    except SourceError as error:
        problems = _reader_errors(spec, list(files.values()), error, delivery)
    except ValidationFailed as failed:
        if spec.name in REFERENCE_SOURCES:
            # Rolled back: the rows go in unvalidated, for the rules that look them up.
            ingest(spec, delivery, con)
        return _validation_problems(spec, failed.report, con), [], True
    else:
        return (_validation_problems(spec, reports[0], con) if reports else []), [], True
    notes = []
    if len(problems) >= MAX_READER_ERRORS:
        notes.append(_problem(spec.name, None, INFO, "more_unreadable", count=len(problems)))
    unreadable = {p.file for p in problems} & set(files)
    readable = set(files) - unreadable
    if not validate or not unreadable or not readable:
        return problems, notes, False
    # Check what can be checked: the source's rules on the files that can be read.
    notes.append(
        _problem(spec.name, None, INFO, "checked_without_unreadable", count=len(unreadable))
    )
    reports = []
    try:
        ingest(spec, delivery, con, validate=raw_validator(spec, reports), without=unreadable)
    except SourceError as error:
        problems.append(_reader_problem(spec, delivery, error))
    except ValidationFailed as failed:
        problems += _validation_problems(spec, failed.report, con)
    else:
        problems += _validation_problems(spec, reports[0], con) if reports else []
    return problems, notes, False


Outcome = tuple[list[Problem], list[Problem], bool]  # problems, notes, all files readable


def _check_one(
    spec: SourceSpec, delivery: Path, con: Any, files: dict[str, Path], validate: bool
) -> Outcome:
    try:
        return _check_source(spec, delivery, con, files, validate)
    except OSError as error:  # reaching a file failed where no reader could say so
        file = error.filename or str(delivery / spec.patterns[0])
        return [_reader_problem(spec, delivery, file_error(str(file), error))], [], False


def _check_in_process(
    name: str, delivery: Path, database: Path, files: dict[str, Path], validate: bool
) -> Outcome:
    """A source that no other source looks up, checked in a process of its own on its own copy
    of the scratch warehouse (the reference sources' rows): DuckDB lets one process write a
    file."""
    with connect(database) as con:
        return _check_one(SOURCES_BY_NAME[name], delivery, con, files, validate)


def check(delivery: Path) -> Report:
    """Read and validate every source of `delivery` as a run would; nothing is written there.
    The installation's configuration first: with an error in it nothing else is checked (the
    readers' limits are in it).

    The reference sources are checked first, one after the other (the others' rules look up
    their rows); then the other sources side by side, a process each on the machine's cores:
    no source looks up their rows. The report lists everything in the catalog's order."""
    delivery = delivery.resolve()
    report = Report(str(delivery))
    try:
        installation = configuration.load()
    except configuration.ConfigError as error:
        report.problems.append(_config_problem(error, ERROR))
        return report
    unreadable_reference: list[str] = []
    found: dict[str, tuple[list[Problem], list[Problem]]] = {}  # per source: problems, notes
    later: list[tuple[SourceSpec, dict[str, Path]]] = []
    with tempfile.TemporaryDirectory(prefix="boligsocial-check-") as scratch:
        references = Path(scratch) / "check.duckdb"
        # The connection closes before its directory is removed (Windows cannot remove an
        # open file), and before the copies the other sources are checked on are taken.
        with connect(references) as con:
            for spec in SOURCES:
                try:
                    files = source_files(spec, delivery)
                except SourceError as error:  # no file, or more than one where one is allowed
                    found[spec.name] = ([_reader_problem(spec, delivery, error)], [])
                    if spec.name in REFERENCE_SOURCES:
                        unreadable_reference.append(spec.name)
                    continue
                if not files:
                    absent = _problem(
                        spec.name, None, INFO, "optional_absent", patterns=spec.patterns
                    )
                    found[spec.name] = ([], [absent])
                    continue
                report.files.update(dict.fromkeys(files, spec.name))
                if spec.name not in REFERENCE_SOURCES:
                    later.append((spec, files))
                    continue
                validate = _validate(spec, unreadable_reference)
                outcome = _check_one(spec, delivery, con, files, validate)
                found[spec.name] = _found(spec, outcome, unreadable_reference)
                if not outcome[2]:
                    unreadable_reference.append(spec.name)
            mismatch = configuration.municipality_mismatch(installation, _municipality_codes(con))
        outcomes = _check_side_by_side(later, delivery, references, unreadable_reference)
    for (spec, _), outcome in zip(later, outcomes, strict=True):
        found[spec.name] = _found(spec, outcome, unreadable_reference)
    for spec in SOURCES:
        problems, notes = found.get(spec.name, ([], []))
        report.problems += problems
        report.notes += notes
    if mismatch is not None:
        report.problems.append(_config_problem(mismatch, WARNING))
    report.problems += _stray_files(delivery, report.files)
    return report


def _validate(spec: SourceSpec, unreadable_reference: list[str]) -> bool:
    """A run skips a source whose reference data failed: its rules would look up nothing."""
    return not any(name in unreadable_reference for name in spec.references)


def _found(
    spec: SourceSpec, outcome: Outcome, unreadable_reference: list[str]
) -> tuple[list[Problem], list[Problem]]:
    """The source's problems and notes, the note of the lookups not checked included."""
    problems, notes, _ = outcome
    missing = [name for name in spec.references if name in unreadable_reference]
    if missing:
        notes = [*notes, _problem(spec.name, None, INFO, "lookups_not_checked", references=missing)]
    return problems, notes


def _check_side_by_side(
    sources: list[tuple[SourceSpec, dict[str, Path]]],
    delivery: Path,
    references: Path,
    unreadable_reference: list[str],
) -> list[Outcome]:
    """The sources' outcomes, each checked in a process of its own (`_check_in_process`), or
    all in this process on the reference sources' warehouse when their files are fewer than
    SIDE_BY_SIDE_BYTES or there is one core."""
    workers = min(len(sources), os.cpu_count() or 1)
    delivered = sum(_size(path) for _, files in sources for path in files.values())
    if workers < 2 or delivered < SIDE_BY_SIDE_BYTES:
        with connect(references) as con:
            return [
                _check_one(spec, delivery, con, files, _validate(spec, unreadable_reference))
                for spec, files in sources
            ]
    futures: list[Future[Outcome]] = []
    # Spawned, not forked: this process has DuckDB's threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for spec, files in sources:
            database = references.with_name(f"{spec.name}.duckdb")
            shutil.copyfile(references, database)
            validate = _validate(spec, unreadable_reference)
            args = (spec.name, delivery, database, files, validate)
            futures.append(pool.submit(_check_in_process, *args))
        return [future.result() for future in futures]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # the source's check names it
        return 0


def _config_problem(message: configuration.ConfigMessage, severity: str) -> Problem:
    """A problem of the installation's configuration: its sentence names the file and key."""
    return Problem(
        source="",
        file=None,
        row=None,
        column=None,
        severity=severity,
        kind=message.kind,
        message_en=message.text("en"),
        message_da=message.text("da"),
    )


def _municipality_codes(con: Any) -> list[str]:
    """The municipality codes of the delivered areas (as read, valid or not)."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'raw' and table_name = 'areas'"
    ).fetchone()[0]
    if not exists:
        return []
    rows = con.execute("select distinct municipality_code from raw.areas order by 1").fetchall()
    return [code for (code,) in rows if code is not None]


def _stray_files(delivery: Path, files: dict[str, str]) -> list[Problem]:
    """Files no source reads (a misspelt name is the usual cause): a run ignores them."""
    stray = []
    for path in sorted(delivery.rglob("*")):
        relative = path.relative_to(delivery)
        if any(is_hidden(part) for part in relative.parts) or not path.is_file():
            continue  # hidden files and folders are not part of a delivery
        name = relative.as_posix()
        if name in files or name in KNOWN_OTHER_FILES:
            continue
        if name == settings.CONFIG_FILE_NAME:
            # Never opened: it would let whoever delivers files steer the run.
            where = str(configuration.config_path())
            stray.append(_problem("", name, WARNING, "delivered_config_ignored", installed=where))
            continue
        stray.append(_problem("", name, WARNING, "unknown_file"))
    return stray


# --- output ----------------------------------------------------------------------------------


def _line(problem: Problem, lang: str) -> str:
    """`SEVERITY file, row n, column c: message`; what comes from the delivery (file names,
    headers, values) with its control characters made visible."""
    label = messages.LABELS[problem.severity](lang)
    if not (problem.file or problem.source):  # the configuration's: the sentence says where
        return f"{label:<8} {messages.visible(problem.message(lang))}"
    where = [messages.visible(problem.file or problem.source)]
    if problem.row is not None:
        where.append(f"{messages.LABELS['row'](lang)} {problem.row}")
    if problem.column is not None:
        where.append(f"{messages.LABELS['column'](lang)} {messages.visible(problem.column)}")
    return f"{label:<8} {', '.join(where)}: {messages.visible(problem.message(lang))}"


def text(report: Report, lang: str, *, quiet: bool = False) -> str:
    """Per file: OK, or each of its problems on its own line; then the other problems, the
    notes and a summary. `quiet`: the problems and the summary only."""
    lines = []
    by_file: dict[str | None, list[Problem]] = {}
    for problem in report.problems:
        by_file.setdefault(problem.file, []).append(problem)
    for file in sorted(report.files):
        found = by_file.get(file, [])
        if found:
            lines += [_line(p, lang) for p in found]
        elif not quiet:
            lines.append(f"{messages.LABELS['ok'](lang):<8} {messages.visible(file)}")
    lines += [_line(p, lang) for p in report.problems if p.file not in report.files]
    if not quiet:
        lines += [_line(p, lang) for p in report.notes]
    errors = [p for p in report.problems if p.severity == ERROR]
    bad = len({p.file for p in errors if p.file in report.files})
    summary = (
        messages.render("summary_ok", lang, files=len(report.files))
        if report.ok
        else messages.render(
            "summary_errors", lang, errors=len(errors), bad=bad, files=len(report.files)
        )
    )
    return "\n".join([*lines, summary])
