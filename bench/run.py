"""`make bench`: issue 30's six targets, each printed with its figure, its baseline, the
machine's load average at the time, the limit and PASS/MISS.

    uv run python -m bench.run [--size national|tiny] [--scale N] [--seed N] [--reuse-baseline]
    uv run python -m bench.run --baseline-only [--size national|tiny] [--scale N] [--seed N]
    uv run python -m bench.run --suite      # times `make test-fast` and `make test` (minutes)

Every run is a fresh process as `make run` is (`boligsocial.runs.refresh`'s job, in process),
with its own warehouse, DAGSTER_HOME and publish folder under .bench/runs/. The figures:

1. The bundled example: a warm-up, the full refresh (a fresh warehouse), then `make run` again
   on the unchanged files, then after one changed ledger file (a copy of sources/example in
   .bench/example-change/, one amount changed; sources/example is never changed).
2. `import boligsocial.definitions` in a fresh process with the manifest `make` prepared (the
   best of three), beside `import dagster` alone.
3. `make test-fast` in this checkout and `make test` in a fresh clone of HEAD (.bench/clone/):
   only with `--suite` (they take minutes and load both cores); the last figures are kept in
   .bench/suite.json and printed with their date.
4. The national delivery (`sources.synthetic.national`, cached under .bench/national/): the
   full refresh, and that of a delivery twice as large (peak memory). The floor is DuckDB
   storing the same rows on disk (`child_baseline`): `create table as select * from
   read_csv(...)` per source and encoding, file names kept, `preserve_insertion_order =
   false`, the cp1252 ledgers decoded to UTF-8 copies first (DuckDB has no cp1252 decoder).
   The data-dependent part of the full refresh (national − example, wall time) ≤ 1.5 × that
   store; peak memory ≤ 1.5 GB, and sub-linear in the delivery (issue 20's guard).
5. `boligsocial check` on the national delivery ≤ 1.25 × a count scan of the same files
   (`select count(*) from read_csv(...)`, the faster of two fresh processes).
6. The sensor's run for one new month of ledger exports, national / bundled example ≤ 2 ×
   (the sensor's ticks are evaluated untimed, as the daemon's work, carrying its cursor).

A target whose runs did not all succeed is a MISS. Peak memory is the largest resident set of
the process tree, sampled from /proc every 0.2 s; the load average is the machine's one-minute
figure when the run ended. Stage times come from the run's step events: ingest = the raw/*
steps less their validation time (`gx_seconds`), dbt = the dbt step, publish = the publish/*
steps. Results go to .bench/results.json.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / ".bench"
RUNS_DIR = BENCH_DIR / "runs"
EXAMPLE = ROOT / "sources" / "example"
PAGE = os.sysconf("SC_PAGE_SIZE")
GB = 1024**3
MB = 1024**2


@dataclass(frozen=True)
class Target:
    key: str
    issue: str  # the target's number in issue 30
    description: str
    limit: float
    unit: str
    strict: bool  # value < limit (else value <= limit)
    runs: tuple[str, ...]  # the runs the figure is computed from: all must succeed

    def passes(self, value: float) -> bool:
        return value < self.limit if self.strict else value <= self.limit


# The runs of the peak memory target: the national full refresh and the month's runs.
PEAK_RUNS = ("national_full", "national_month", "national_month_whole_job")
TARGETS = (
    Target(
        "example_unchanged",
        "1",
        "`make run` on the unchanged bundled example (warm)",
        15.0,
        "s",
        False,
        ("example_unchanged",),
    ),
    Target(
        "example_one_file",
        "1",
        "`make run` after one changed ledger file",
        20.0,
        "s",
        False,
        ("example_one_file",),
    ),
    Target(
        "code_location",
        "2",
        "importing boligsocial.definitions, warm, with a manifest",
        2.0,
        "s",
        False,
        ("code_location",),
    ),
    Target("suite_fast", "3", "`make test-fast`", 120.0, "s", False, ("suite_fast",)),
    Target("suite_all", "3", "`make test` from a fresh clone", 600.0, "s", False, ("suite_all",)),
    Target(
        "data_ratio",
        "4",
        "data-dependent part of the national full refresh (national − example) / DuckDB's store",
        1.5,
        "×",
        False,
        ("national_full", "example_full", "baseline"),
    ),
    Target(
        "peak_gb",
        "4",
        "peak memory, national full refresh and month runs",
        1.5,
        "GB",
        False,
        PEAK_RUNS,
    ),
    Target(
        "peak_growth",
        "4",
        "peak memory, full refresh of the ×2 delivery / of the delivery (sub-linear)",
        2.0,
        "×",
        True,
        ("national_full", "national_x2_full"),
    ),
    Target(
        "check_ratio",
        "5",
        "`boligsocial check` on the national delivery / count scan",
        1.25,
        "×",
        False,
        ("national_check", "baseline"),
    ),
    Target(
        "sensor_ratio",
        "6",
        "the sensor's run for one new month: national / bundled example",
        2.0,
        "×",
        False,
        ("national_month", "example_month"),
    ),
)
# The suite before issue 30 (`make test` from a fresh clone, this machine kind).
SUITE_BEFORE = "19–26 min before"


# --- measuring a child process ---------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    total = 0
    for pid in tree:
        with contextlib.suppress(OSError):  # the process has ended
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def measured(command: list[str], env: dict[str, str], log: Path) -> dict:
    """Run `command`; its wall time, exit code and the peak RSS of its process tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(process.pid))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        done.set()
        sampler.join()
    return {
        "wall_s": time.perf_counter() - started,
        "exit": code,
        "peak_bytes": peak,
        "load": os.getloadavg()[0],
    }


def run_env(name: str, sources: Path, *, fresh: bool) -> dict[str, str]:
    """The environment of one run: its own warehouse, Dagster instance and outputs."""
    home = RUNS_DIR / name
    if fresh and home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BOLIGSOCIAL_SOURCES_DIR": str(sources),
        "BOLIGSOCIAL_WAREHOUSE": str(home / "warehouse.duckdb"),
        "BOLIGSOCIAL_PUBLISH_DIR": str(home / "publish"),
        "BOLIGSOCIAL_GX_RESULTS": str(home / "gx_results"),
    }


def refresh(
    label: str, name: str, sources: Path, *, fresh: bool, selection: Path | None = None
) -> dict:
    env = run_env(name, sources, fresh=fresh)
    # Logs sit beside the run's folder: a fresh run removes the folder, not the last logs.
    slug = label.replace(" ", "-").replace(",", "")
    stages = RUNS_DIR / f"{slug}.stages.json"
    stages.unlink(missing_ok=True)  # a child that dies writes none: no figures of an older run
    command = [sys.executable, "-m", "bench.run", "--child-refresh", str(stages)]
    if selection is not None:
        command += ["--selection", str(selection)]
    print(f"  {label} ...", flush=True)
    result = measured(command, env, RUNS_DIR / f"{slug}.log")
    result |= json.loads(stages.read_text()) if stages.exists() else {"stages": {}}
    print(f"  {label}: {result['wall_s']:.1f} s, exit {result['exit']}", flush=True)
    return result


# --- inside the child: the job `make run` runs, and its stage times ------------------------


def child_refresh(stages_path: Path, selection_path: Path | None = None) -> int:
    """The refresh_all job, or the assets and checks of a sensor's run request."""
    from dagster import (
        AssetCheckKey,
        AssetKey,
        DagsterEventType,
        DagsterInstance,
        execute_job,
        reconstructable,
    )

    from boligsocial.runs.findings import run_findings
    from boligsocial.runs.refresh import RUN_CONFIG, refresh_job

    assets, checks = None, None
    if selection_path is not None:
        request = json.loads(selection_path.read_text())
        assets = [AssetKey(path) for path in request["assets"]]
        checks = {AssetCheckKey(AssetKey(path), name) for path, name in request["checks"]}
    instance = DagsterInstance.get()
    # execute_job takes assets only; their checks come with them, as the request lists them.
    result = execute_job(
        reconstructable(refresh_job),
        instance=instance,
        run_config=RUN_CONFIG,
        raise_on_error=False,
        asset_selection=assets,
    )
    if checks is not None:
        planned = {
            record.dagster_event.event_specific_data.asset_check_key
            for record in instance.all_logs(
                result.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
            )
        }
        if planned != checks:
            raise RuntimeError(f"the run's checks differ from the request's: {planned ^ checks}")
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    gx_raw = 0.0
    for record in instance.all_logs(result.run_id):
        event = record.dagster_event
        if event is None:
            continue
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            steps[event.step_key] = record.timestamp - starts.get(event.step_key, record.timestamp)
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            metadata = event.event_specific_data.materialization.metadata
            if "gx_seconds" in metadata:
                gx_raw += float(metadata["gx_seconds"].value)
    stages = {"ingest": -gx_raw, "validation": gx_raw, "dbt": 0.0, "publish": 0.0, "other": 0.0}
    for key, seconds in steps.items():
        if key.startswith("raw__"):
            stages["ingest"] += seconds
        elif key.startswith("dbt"):
            stages["dbt"] += seconds
        elif key.startswith("publish__"):
            stages["publish"] += seconds
        else:
            stages["other"] += seconds
    errors, warnings = run_findings(result.all_events)
    success = result.success and not errors
    report = {
        "success": success,
        "errors": errors,
        "warnings": warnings,
        "stages": stages,
        "steps": steps,
    }
    stages_path.write_text(json.dumps(report, indent=2))
    print("\n".join([*errors, *(f"warning: {w}" for w in warnings)]))
    return 0 if success else 1


def child_sensor_tick(cursor_path: Path, request_path: Path) -> int:
    """One tick of `source_files_sensor`, as the daemon evaluates it, carrying the cursor in
    `cursor_path` (none: the first tick); its run request's assets and checks go to
    `request_path`."""
    from dagster import build_sensor_context

    from boligsocial.definitions import defs
    from boligsocial.defs.automation.sensors import source_files_sensor
    from boligsocial.defs.resources import SourcesResource

    cursor = cursor_path.read_text() if cursor_path.exists() else None
    context = build_sensor_context(
        cursor=cursor,
        definitions=defs,
        resources={"sources": SourcesResource(directory=os.environ["BOLIGSOCIAL_SOURCES_DIR"])},
    )
    tick = source_files_sensor.evaluate_tick(context)
    cursor_path.write_text(tick.cursor or cursor or "")
    [request] = tick.run_requests or [None]
    request_path.write_text(
        json.dumps(
            {
                "assets": [key.path for key in (request.asset_selection or [])],
                "checks": [[c.asset_key.path, c.name] for c in (request.asset_check_keys or [])],
                "tags": dict(request.tags),
            }
            if request is not None
            else None
        )
    )
    return 0


def sensor_tick(name: str, sources: Path, cursor: Path) -> Path:
    """The sensor's run request for the sources as they are now (untimed: the daemon's work)."""
    request = RUNS_DIR / f"{name}.run_request.json"
    command = [sys.executable, "-m", "bench.run", "--child-sensor-tick", str(cursor), str(request)]
    subprocess.run(command, env=run_env(name, sources, fresh=False), cwd=ROOT, check=True)
    return request


# --- the baseline ----------------------------------------------------------------------------

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class BaselineRead:
    """One `read_csv` call of the baseline: the files of one source in one encoding."""

    source: str
    encoding: str  # DuckDB's name: "utf-8", or "latin-1" for the cp1252 files
    columns: tuple[str, ...]  # all read as VARCHAR, by position
    files: tuple[str, ...]
    null_padding: bool  # the source's files differ in column count (statbank's tables)


def _encoding_and_header(path: Path) -> tuple[str, list[str]]:
    """The file's DuckDB encoding (UTF-8 if its bytes decode as UTF-8, else latin-1: DuckDB
    has no cp1252 decoder) and its header's column names."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    first = data.split(b"\n", 1)[0].removeprefix(UTF8_BOM).rstrip(b"\r")
    return encoding, next(csv.reader([first.decode(encoding)], delimiter=";"), [])


def _column_names(header: list[str], width: int) -> tuple[str, ...]:
    """Names for `width` columns: the header's (lower case) where present and unique."""
    names: list[str] = []
    for i in range(width):
        name = header[i].strip().lower() if i < len(header) else ""
        names.append(name if name and name not in names else f"column{i}")
    return tuple(names)


def baseline_reads(sources: Path) -> list[BaselineRead]:
    """The baseline's `read_csv` calls: per source (the catalog's CSV files), one per encoding.

    Every file is read once here, before the clock starts, for its encoding and header. The
    columns are given explicitly (`auto_detect=false`): the ledgers' headers differ in case
    and order, so reading them by name fails ("Schema mismatch") and `union_by_name` over
    88,000 files did not finish in 16 minutes; by position every file of a source has the
    same columns. Their number is the widest header of the source (all agree but statbank's,
    one cached table per file with its own dimensions; those are padded with NULL).
    """
    from boligsocial.sources.catalog import SOURCES

    reads: list[BaselineRead] = []
    for spec in SOURCES:
        files = [p for p in spec.files(sources) if p.suffix == ".csv"]
        if not files:
            continue
        by_encoding: dict[str, list[str]] = {}
        headers = []
        for path in files:
            encoding, header = _encoding_and_header(path)
            by_encoding.setdefault(encoding, []).append(str(path))
            headers.append(header)
        widths = {len(h) for h in headers}
        columns = _column_names(headers[0], max(widths))
        for encoding, paths in by_encoding.items():
            reads.append(BaselineRead(spec.name, encoding, columns, tuple(paths), len(widths) > 1))
    return reads


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _read_csv(read: BaselineRead, extra: str = "") -> str:
    """The baseline's `read_csv` of `read`'s files (a parameter: the list of files)."""
    columns = ", ".join(f"{_sql_text(name)}: 'VARCHAR'" for name in read.columns)
    padding = ", null_padding=true" if read.null_padding else ""
    return (
        "read_csv(?, delim=';', header=true, auto_detect=false, "
        f"columns={{{columns}}}, encoding='{read.encoding}'{padding}{extra})"
    )


def _utf8_reads(reads: list[BaselineRead], folder: Path) -> list[BaselineRead]:
    """`reads` with the cp1252 files (read as latin-1 by the scan) decoded into UTF-8 copies
    in `folder`: DuckDB has no cp1252 decoder, and refuses cp1252's 0x80–0x9f as latin-1."""
    utf8 = []
    for number, read in enumerate(reads):
        if read.encoding == "utf-8":
            utf8.append(read)
            continue
        target = folder / str(number)
        target.mkdir(parents=True)
        copies = []
        for file in read.files:
            copy = target / Path(file).name
            copy.write_bytes(Path(file).read_bytes().decode("cp1252").encode("utf-8"))
            copies.append(str(copy))
        utf8.append(
            BaselineRead(read.source, "utf-8", read.columns, tuple(copies), read.null_padding)
        )
    return utf8


def _store_seconds(reads: list[BaselineRead], work: Path) -> float:
    """Target 4's floor: DuckDB storing the rows of `reads` on disk at its fastest, one `create
    table as select * from read_csv(...)` per source and encoding with each row's file name,
    without preserving insertion order (which halves the store); the cp1252 files decoded
    first, before the clock."""
    import duckdb

    shutil.rmtree(work, ignore_errors=True)
    utf8 = _utf8_reads(reads, work / "utf8")
    con = duckdb.connect(str(work / "store.duckdb"))
    try:
        con.execute("set enable_progress_bar = false; set preserve_insertion_order = false")
        started = time.perf_counter()
        for number, read in enumerate(utf8):
            con.execute(
                f"create table read_{number} as select * from {_read_csv(read, ', filename=true')}",
                [list(read.files)],
            )
        con.execute("checkpoint")
        return time.perf_counter() - started
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


def child_baseline(sources: Path, out: Path) -> int:
    """Every input CSV file scanned once by DuckDB's read_csv, its rows counted: the floor the
    data-dependent part of a full refresh is held against.

    One `read_csv(files, delim=';', header=true, auto_detect=false, columns={...: 'VARCHAR'},
    encoding=...)` per source and encoding over the list of its files (`baseline_reads`,
    grouped before the clock starts): no type sniffing or conversion, and every file decoded
    once, by DuckDB, while it is scanned. UTF-8 files (with or without BOM) are read as UTF-8;
    the cp1252 ledgers as latin-1: DuckDB has no cp1252 decoder, and latin-1 maps every byte
    to one character as cp1252 does (only 0x80–0x9f, e.g. €, decode to other characters), so
    it is the same decoding work. Each call's rows are counted, not kept: keeping them in
    in-memory tables made the scan 21–38 s instead of 13–14 s on the same machine and day, and
    a floor is the least a scan costs. `scan_s` (the clock around the read_csv calls) is the
    baseline; the process's wall time adds Python's start-up, the DuckDB import, the
    grouping and `_store_seconds`.
    """
    import duckdb

    reads = baseline_reads(sources)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    by_source: dict[str, dict] = {}
    started = time.perf_counter()
    for read in reads:
        t = time.perf_counter()
        [(count,)] = con.execute(
            f"select count(*) from {_read_csv(read)}", [list(read.files)]
        ).fetchall()
        entry = by_source.setdefault(
            read.source,
            {"seconds": 0.0, "files": 0, "rows": 0, "read_csv_calls": 0, "encodings": {}},
        )
        entry["seconds"] += time.perf_counter() - t
        entry["files"] += len(read.files)
        entry["rows"] += count
        entry["read_csv_calls"] += 1
        entry["encodings"][read.encoding] = len(read.files)
    total = time.perf_counter() - started
    out.write_text(
        json.dumps(
            {
                "sources": str(sources),
                "scan_s": total,
                "store_s": _store_seconds(reads, out.with_suffix(".store")),
                "files": sum(e["files"] for e in by_source.values()),
                "read_csv_calls": len(reads),
                "rows": sum(e["rows"] for e in by_source.values()),
                "by_source": by_source,
            },
            indent=2,
        )
    )
    return 0


# --- the bench -------------------------------------------------------------------------------


def import_seconds(module: str, tries: int = 3) -> dict:
    """A fresh process importing `module`, the best of `tries` (warm: bytecode compiled, files
    in the page cache), as a run of its own."""
    times = []
    for _ in range(tries):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True)
        times.append(time.perf_counter() - t)
    return {"wall_s": min(times), "exit": 0, "peak_bytes": 0, "load": os.getloadavg()[0]}


def change_one_ledger_file(sources: Path) -> Path:
    """Change one amount in the last ledger export of `sources` (one digit of its first line's
    last field, the amount), in the file's own bytes: a valid delivery, one file changed."""
    path = sorted((sources / "vandalism").glob("*.csv"))[-1]
    header, first, rest = path.read_bytes().split(b"\n", 2)
    line = first.rstrip(b"\r")
    assert line[-1:].isdigit(), path  # the amount's last decimal
    changed = line[:-1] + str((int(line[-1:]) + 1) % 10).encode() + first[len(line) :]
    path.write_bytes(b"\n".join([header, changed, rest]))
    return path


def example_runs() -> dict[str, dict]:
    """Target 1: the example's full refresh on a fresh warehouse (also the example half of
    target 4), `make run` again on the same files, and after one changed ledger file (a copy
    of sources/example, refreshed on the same warehouse: only that file differs)."""
    runs = {"full": refresh("example full", "example", EXAMPLE, fresh=True)}
    runs["unchanged"] = refresh("example unchanged", "example", EXAMPLE, fresh=False)
    changed = BENCH_DIR / "example-change" / "sources"
    shutil.rmtree(changed.parent, ignore_errors=True)
    shutil.copytree(EXAMPLE, changed)
    change_one_ledger_file(changed)
    runs["one_file"] = refresh("example one changed ledger file", "example", changed, fresh=False)
    return runs


def check_run(sources: Path) -> dict:
    """Target 5: `boligsocial check` on the delivery, a fresh process."""
    print("  check ...", flush=True)
    command = [sys.executable, "-m", "boligsocial.cli.main", "check", "--quiet", str(sources)]
    result = measured(command, dict(os.environ), RUNS_DIR / "national-check.log")
    print(f"  check: {result['wall_s']:.1f} s, exit {result['exit']}", flush=True)
    return result


SUITE_FILE = BENCH_DIR / "suite.json"


def suite() -> dict:
    """Target 3: `make test-fast` in this checkout, then `make test` in a fresh clone of HEAD
    (its own venv from uv.lock); saved in .bench/suite.json for the next bench's report."""
    clone = BENCH_DIR / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    runs = {}
    for key, folder, target in (("suite_fast", ROOT, "test-fast"), ("suite_all", clone, "test")):
        print(f"  make {target} ({folder}) ...", flush=True)
        # The clone's own paths (make's defaults), not this checkout's.
        own = ("VIRTUAL_ENV", "BOLIGSOCIAL_", "DAGSTER_", "DBT_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        log = RUNS_DIR / f"{key}.log"
        runs[key] = measured(["make", "-C", str(folder), target], env, log)
        print(f"  make {target}: {runs[key]['wall_s']:.0f} s, exit {runs[key]['exit']}")
    shutil.rmtree(clone, ignore_errors=True)
    runs["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    SUITE_FILE.write_text(json.dumps(runs, indent=2))
    return runs


def add_increment(delivery) -> list[Path]:
    """Copy the delivery's next month of ledger exports (`increment/vandalism/`) into its
    sources (copies: a link out of the sources folder would be refused)."""
    target = delivery.sources / "vandalism"
    added = []
    for path in sorted((delivery.increment / "vandalism").iterdir()):
        shutil.copy2(path, target / path.name)
        added.append(target / path.name)
    return added


def remove_increment(delivery) -> None:
    """Put the delivery back as it was before the month (also after an interrupted bench)."""
    for path in (delivery.increment / "vandalism").iterdir():
        (delivery.sources / "vandalism" / path.name).unlink(missing_ok=True)


def example_month_delivery(root: Path | None = None):
    """The bundled example with one new month of exports, shaped as a national delivery:
    `root/sources/` a copy of sources/example, `root/increment/vandalism/` the next month's
    ledger exports (`sources.synthetic.example.write_next_month`). Made afresh by every
    bench (a few hundred kB); sources/example itself is never changed."""
    from sources.synthetic.example import write_next_month
    from sources.synthetic.national import Delivery

    root = root or BENCH_DIR / "example-month"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(EXAMPLE, root / "sources")
    (root / "increment" / "vandalism").mkdir(parents=True)
    write_next_month(root / "sources", root / "increment")
    return Delivery(root)


def failed_run(reason: str) -> dict:
    print(f"  FAILED: {reason}", flush=True)
    return {"wall_s": math.nan, "exit": 1, "peak_bytes": 0, "error": reason, "stages": {}}


def month_runs(name: str, label: str, delivery, *, whole_job: bool = False) -> dict[str, dict]:
    """The sensor's run for one new month of exports, on the warehouse in .bench/runs/<name>
    (already refreshed on `delivery`): the sensor's first tick on the delivery as it is, the
    month's exports copied in, the next tick, and the run it requests (timed; the ticks are
    the daemon's work, untimed). With `whole_job`, also the whole refresh_all job on the same
    month, from a copy of the warehouse before it. {"month": ..., "whole_job": ...}"""
    cursor = RUNS_DIR / f"{name}.sensor_cursor"
    cursor.unlink(missing_ok=True)
    remove_increment(delivery)
    sensor_tick(name, delivery.sources, cursor)  # first tick: the files before the month
    before = RUNS_DIR / f"{name}-before-month"
    if whole_job:
        shutil.rmtree(before, ignore_errors=True)
        shutil.copytree(RUNS_DIR / name, before, symlinks=True)  # publish/current is a link
    runs: dict[str, dict] = {}
    try:
        added = add_increment(delivery)
        request_path = sensor_tick(name, delivery.sources, cursor)
        request = json.loads(request_path.read_text())
        if request is None:
            runs["month"] = failed_run(f"{label}: the sensor requested no run for the month")
        else:
            runs["month"] = refresh(
                f"{label} month sensor run",
                name,
                delivery.sources,
                fresh=False,
                selection=request_path,
            )
            runs["month"]["files_added"] = len(added)
            runs["month"]["run_request"] = request
        if whole_job:
            shutil.rmtree(RUNS_DIR / name)
            before.rename(RUNS_DIR / name)
            runs["whole_job"] = refresh(
                f"{label} month whole job", name, delivery.sources, fresh=False
            )
    finally:
        remove_increment(delivery)
    return runs


BASELINE_TRIES = 2


def run_baseline(sources: Path) -> dict:
    """The baseline scan, the faster of BASELINE_TRIES fresh processes (on a shared machine
    the scan's time varies with the machine's state: a floor is the best it does); saved as
    .bench/runs/baseline.json."""
    print("baseline scan ...", flush=True)
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    out = RUNS_DIR / "baseline.json"
    command = [sys.executable, "-m", "bench.run", "--child-baseline", str(sources), str(out)]
    tries = []
    for _ in range(BASELINE_TRIES):
        out.unlink(missing_ok=True)
        scan = measured(command, dict(os.environ), RUNS_DIR / "baseline.log")
        scan |= json.loads(out.read_text()) if out.exists() else {"scan_s": math.nan}
        tries.append(scan)
    baseline = min(tries, key=lambda scan: (scan["exit"] != 0, scan["scan_s"]))
    baseline["scan_s_tries"] = [scan["scan_s"] for scan in tries]
    out.write_text(json.dumps(baseline, indent=2))
    print(
        f"  baseline scan: scan {baseline['scan_s']:.1f} s ({baseline.get('files', '?')} files, "
        f"{baseline.get('read_csv_calls', '?')} read_csv calls, {baseline.get('rows', '?')} "
        f"rows); process {baseline['wall_s']:.1f} s, exit {baseline['exit']}",
        flush=True,
    )
    return baseline


def _ok(run: dict | None) -> bool:
    return run is not None and run.get("exit") == 0


def evaluate(results: dict) -> dict:
    """Each target's figure, baseline, load, limit and PASS/MISS, from `results["runs"]` (and
    the suite's runs, from `results["suite"]`)."""
    runs = {
        **results["runs"],
        **{k: v for k, v in results.get("suite", {}).items() if k != "measured_at"},
    }

    def wall(key: str) -> float:
        return runs[key]["wall_s"] if key in runs else math.nan

    def peak(key: str) -> float:
        return runs[key]["peak_bytes"] if key in runs else math.nan

    def ratio(a: float, b: float) -> float:
        return a / b if b and not math.isnan(b) else math.nan

    data_part = wall("national_full") - wall("example_full")
    baseline = runs.get("baseline", {})
    scan, store = baseline.get("scan_s", math.nan), baseline.get("store_s", math.nan)
    x2_peak = peak("national_x2_full")
    suite_at = results.get("suite", {}).get("measured_at", "not measured: bench --suite")
    figures = {
        "example_unchanged": wall("example_unchanged"),
        "example_one_file": wall("example_one_file"),
        "code_location": wall("code_location"),
        "suite_fast": wall("suite_fast"),
        "suite_all": wall("suite_all"),
        "data_ratio": ratio(data_part, store),
        "peak_gb": max((peak(k) for k in PEAK_RUNS if k in runs), default=math.nan) / GB,
        "peak_growth": ratio(peak("national_x2_full"), peak("national_full")),
        "check_ratio": ratio(wall("national_check"), scan),
        "sensor_ratio": ratio(wall("national_month"), wall("example_month")),
    }
    baselines = {
        "example_unchanged": f"full refresh {wall('example_full'):.1f} s",
        "example_one_file": f"full refresh {wall('example_full'):.1f} s",
        "code_location": f"import dagster {wall('import_dagster'):.2f} s",
        "suite_fast": f"{SUITE_BEFORE}; {suite_at}",
        "suite_all": f"{SUITE_BEFORE}; {suite_at}",
        "data_ratio": f"{data_part:.1f} s / store {store:.1f} s (scan {scan:.1f} s)",
        "peak_gb": f"baseline process {peak('baseline') / GB:.2f} GB",
        "peak_growth": f"{x2_peak / MB:,.0f} / {peak('national_full') / MB:,.0f} MB",
        "check_ratio": f"check {wall('national_check'):.1f} s / scan {scan:.1f} s",
        "sensor_ratio": f"{wall('national_month'):.1f} s / {wall('example_month'):.1f} s",
    }
    results["data_dependent_s"] = data_part
    results["figures"] = figures
    results["targets"] = {}
    for target in TARGETS:
        value = figures[target.key]
        succeeded = all(_ok(runs.get(k)) for k in target.runs)
        loads = [runs[k]["load"] for k in target.runs if "load" in runs.get(k, {})]
        results["targets"][target.key] = {
            "limit": target.limit,
            "value": value,
            "baseline": baselines[target.key],
            "load": max(loads, default=math.nan),
            "strict": target.strict,
            "runs_succeeded": succeeded,
            "pass": succeeded and target.passes(value),
        }
    results["all_runs_succeeded"] = all(_ok(r) for r in results["runs"].values())
    return results


def baseline_only(size_name: str, scale: int, seed: int) -> int:
    """Only the baseline scan; the ratio against the last bench's refresh runs, if any.

    With a previous bench of the same delivery in .bench/results.json, its baseline and
    targets are replaced by this scan's.
    """
    from sources.synthetic import national
    from sources.synthetic.national import SIZES

    delivery = national.generate(SIZES[size_name].scaled(scale), seed)
    remove_increment(delivery)
    baseline = run_baseline(delivery.sources)
    path = BENCH_DIR / "results.json"
    if not path.exists():
        return 0 if _ok(baseline) else 1
    results = json.loads(path.read_text())
    if results.get("generation", {}).get("sources") != str(delivery.sources):
        print(f"{path} is of another delivery: not updated")
        return 0 if _ok(baseline) else 1
    results["runs"]["baseline"] = baseline
    evaluate(results)
    path.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(report(results))
    return 0 if _ok(baseline) else 1


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) * 1024 / GB
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, Linux {os.uname().release}"


def generate(size, seed: int) -> tuple[object, dict]:
    from sources.synthetic import national

    t = time.perf_counter()
    delivery = national.generate(size, seed)
    remove_increment(delivery)
    seconds = time.perf_counter() - t
    print(f"  {delivery.sources} ({seconds:.1f} s)", flush=True)
    return delivery, {"wall_s": seconds, "sources": str(delivery.sources), **delivery.summary}


def bench(size_name: str, seed: int, *, scale: int = 1, reuse_baseline: bool = False) -> dict:
    from sources.synthetic.national import SIZES

    size = SIZES[size_name].scaled(scale)
    print("generate the national deliveries (cached) ...", flush=True)
    delivery, generation = generate(size, seed)
    delivery_x2, generation_x2 = generate(SIZES[size_name].scaled(2 * scale), seed)
    example_month = example_month_delivery()

    print("refresh runs (each a fresh process, as `make run`):", flush=True)
    # The warm-up is the full refresh of the example's copy the example's month starts from.
    refresh("warm-up example-month full", "example-month", example_month.sources, fresh=True)
    example = example_runs()
    example_month_run = month_runs("example-month", "example", example_month)["month"]
    national_full = refresh("national full", "national", delivery.sources, fresh=True)
    national_month = month_runs("national", "national", delivery, whole_job=True)
    national_x2_full = refresh("national x2 full", "national-x2", delivery_x2.sources, fresh=True)

    out = RUNS_DIR / "baseline.json"
    saved = json.loads(out.read_text()) if reuse_baseline and out.exists() else None
    if saved is not None and saved.get("sources") == str(delivery.sources):
        print("baseline scan: reused from the last bench", flush=True)
        baseline = saved
    else:
        baseline = run_baseline(delivery.sources)
    national_check = check_run(delivery.sources)
    print("code location load ...", flush=True)
    location = import_seconds("boligsocial.definitions")
    dagster = import_seconds("dagster")

    results = {
        "machine": machine(),
        "scale": scale,
        "generation": generation,
        "generation_x2": generation_x2,
        "runs": {
            "example_full": example["full"],
            "example_unchanged": example["unchanged"],
            "example_one_file": example["one_file"],
            "example_month": example_month_run,
            "national_full": national_full,
            "national_x2_full": national_x2_full,
            "national_month": national_month["month"],
            "national_month_whole_job": national_month["whole_job"],
            "national_check": national_check,
            "baseline": baseline,
            "code_location": location,
            "import_dagster": dagster,
        },
    }
    if SUITE_FILE.exists():
        results["suite"] = json.loads(SUITE_FILE.read_text())
    evaluate(results)
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    return results


def run_rows(scale: int = 1) -> tuple[tuple[str, str], ...]:
    """(results key, label) of the report's runs."""
    x = "" if scale == 1 else f" ×{scale}"
    return (
        ("example_full", "bundled example, full refresh (warm)"),
        ("example_unchanged", "bundled example, `make run` again, nothing changed"),
        ("example_one_file", "bundled example, after one changed ledger file"),
        ("national_full", f"national{x}, full refresh"),
        ("national_x2_full", f"national ×{2 * scale}, full refresh"),
        ("example_month", "bundled example, the sensor's run for one new month"),
        ("national_month", f"national{x}, the sensor's run for one new month"),
        ("national_month_whole_job", f"national{x}, whole job on the same month"),
        ("national_check", f"national{x}, `boligsocial check`"),
    )


def _delivery_line(label: str, g: dict) -> str:
    return (
        f"{label}: {g['areas']} areas, {g['department_periods']} department periods, "
        f"{g['statistics_rows']:,} statistics rows, {g['incidents']:,} incidents, "
        f"{g['ledger_lines']:,} ledger lines in {g['ledger_files']:,} files "
        f"(+{g['increment_files']} files for the new month)"
    )


def _value(value: float, unit: str) -> str:
    return f"{value:.2f} {unit}"


def report(results: dict) -> str:
    runs = results["runs"]
    scale = results.get("scale", 1)
    lines = [f"Machine: {results['machine']}", ""]
    lines.append(_delivery_line("Delivery", results["generation"]))
    if "generation_x2" in results:
        lines.append(_delivery_line(f"Delivery ×{2 * scale}", results["generation_x2"]))
    lines += ["", "| run | wall s | peak MB | load | ingest | validation | dbt | publish | ok |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for key, label in run_rows(scale):
        if key not in runs:  # a results file of an older bench
            continue
        r = runs[key]
        s = r.get("stages", {})
        cells = [f"{s.get(k, math.nan):.1f}" for k in ("ingest", "validation", "dbt", "publish")]
        lines.append(
            f"| {label} | {r['wall_s']:.1f} | {r['peak_bytes'] / MB:.0f} | "
            f"{r.get('load', math.nan):.1f} | "
            + " | ".join(cells)
            + f" | {'yes' if _ok(r) else 'FAILED'} |"
        )
    if "baseline" in runs:
        b = runs["baseline"]
        lines.append(
            f"| baseline (DuckDB read_csv, {b.get('read_csv_calls', '?')} calls) | "
            f"{b['wall_s']:.1f} | {b['peak_bytes'] / MB:.0f} | {b.get('load', math.nan):.1f} "
            f"| count scan {b.get('scan_s', math.nan):.1f} | store {b.get('store_s', math.nan):.1f}"
            f" | | | {'yes' if _ok(b) else 'FAILED'} |"
        )
    lines += [
        "",
        "| # | target | figure | baseline | load | limit | |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for target in TARGETS:
        t = results["targets"][target.key]
        value = _value(t["value"], target.unit)
        if not t["runs_succeeded"]:
            value += " (a run failed or was not run)"
        limit = f"{'<' if target.strict else '≤'} {target.limit:g} {target.unit}"
        verdict = "PASS" if t["pass"] else "MISS"
        lines.append(
            f"| {target.issue} | {target.description} | {value} | {t['baseline']} | "
            f"{t['load']:.1f} | {limit} | {verdict} |"
        )
    if not results["all_runs_succeeded"]:
        lines.append("\nA run FAILED: see .bench/runs/*.log")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="national", help="national (default) or tiny")
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        metavar="N",
        help="a delivery N times as large (default 1); the memory growth run uses 2N",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--reuse-baseline", action="store_true", help="take the baseline scan of the last bench"
    )
    parser.add_argument(
        "--baseline-only",
        action="store_true",
        help="only the baseline scan, with the ratio against the last bench's refresh runs",
    )
    parser.add_argument(
        "--suite",
        action="store_true",
        help="only target 3: time `make test-fast`, and `make test` in a fresh clone",
    )
    parser.add_argument("--child-refresh", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--selection", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-sensor-tick", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-baseline", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_refresh:
        return child_refresh(args.child_refresh, args.selection)
    if args.child_sensor_tick:
        return child_sensor_tick(*args.child_sensor_tick)
    if args.child_baseline:
        return child_baseline(*args.child_baseline)
    if args.suite:
        runs = suite()
        return 0 if all(_ok(runs[k]) for k in ("suite_fast", "suite_all")) else 1
    if args.baseline_only:
        return baseline_only(args.size, args.scale, args.seed)
    results = bench(args.size, args.seed, scale=args.scale, reuse_baseline=args.reuse_baseline)
    print()
    print(report(results))
    return 0 if results["all_runs_succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
