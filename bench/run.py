"""`make bench`: full and incremental refresh of a national delivery, against a plain scan.

    uv run python -m bench.run [--seed N] [--size national|tiny] [--reuse-baseline]
    uv run python -m bench.run --baseline-only [--baseline-files N]

1. Generates the synthetic national delivery once (`sources.synthetic.national`, cached
   under .bench/national/).
2. Runs, each in a fresh process as `make run` does (`orchestration.run`'s job, in process)
   with its own warehouse, DAGSTER_HOME and publish folder under .bench/runs/:
   the bundled example twice (the first warms caches; the second is the timed one), the
   national full refresh, and the incremental refresh after one new month of ledger exports:
   the run `source_files_sensor` requests for them (its tick evaluated as the daemon does,
   untimed), i.e. the ledger, what is downstream of it and their checks. For comparison, the
   whole `refresh_all` job on the same month, from a copy of the warehouse before it.
3. The baseline: DuckDB `read_csv` of every input file once (into in-memory tables), in
   batches of files of one shape (`child_baseline`). `--baseline-only` runs just this step
   and sets the ratio against the last bench's refresh runs in .bench/results.json.
4. The Dagster code location's load time (`import orchestration.definitions`, fresh process).

Peak memory is the largest resident set of the process tree, sampled from /proc every
0.2 s. Stage times come from the run's step events: ingest = the raw/* steps less their
validation time, validation = the `gx_seconds` of each raw materialisation (GX on the incoming
rows and the table-scope rules in SQL), dbt = the dbt step, publish = the
publish/* steps. Results go to .bench/results.json and are printed with each target's
PASS/MISS.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / ".bench"
RUNS_DIR = BENCH_DIR / "runs"
PAGE = os.sysconf("SC_PAGE_SIZE")
GB = 1024**3

TARGETS = (
    # key, description, limit, unit
    ("data_ratio", "data-dependent full refresh / baseline scan", 3.0, "×"),
    ("national_full_s", "national full refresh", 300.0, "s"),
    ("peak_gb", "peak memory (any run)", 4.0, "GB"),
    ("incremental_ratio", "incremental (the sensor's run) / full refresh", 0.20, "×"),
    ("code_location_s", "Dagster code location load", 3.0, "s"),
    ("example_warm_s", "`make run` on the bundled example, warm", 60.0, "s"),
)


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
    return {"wall_s": time.perf_counter() - started, "exit": code, "peak_bytes": peak}


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

    from orchestration.failures import run_findings
    from orchestration.run import RUN_CONFIG, refresh_job

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

    from orchestration.definitions import defs
    from orchestration.defs.resources import SourcesResource
    from orchestration.defs.sensors import source_files_sensor

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

BASELINE_BATCH = 2000  # files per read_csv call


def _file_shape(path: Path) -> tuple[str, str, bool, bool]:
    """(header line, DuckDB encoding, UTF-8 BOM, CRLF) of one CSV file."""
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        data.decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"  # cp1252: DuckDB has no cp1252 reader; see child_baseline
    first = data.split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf")
    header = first.rstrip(b"\r").decode(encoding.replace("-", ""))
    return header, encoding, bom, first.endswith(b"\r")


def baseline_batches(sources: Path, limit: int | None = None) -> list[tuple[str, str, list[str]]]:
    """(source, encoding, files) batches of at most BASELINE_BATCH files of one shape.

    Files of a batch share their header line (so the same column order), encoding, BOM and
    line ending, so one `read_csv` reads them by position without `union_by_name`.
    `limit` keeps the first `limit` ledger files (a subset to check the scan scales).
    """
    from sources.catalog import SOURCES

    batches: list[tuple[str, str, list[str]]] = []
    for spec in SOURCES:
        files = [p for p in spec.files(sources) if p.suffix == ".csv"]
        if spec.name == "vandalism_ledger" and limit is not None:
            files = files[:limit]
        shapes: dict[tuple, list[str]] = {}
        for path in files:
            shapes.setdefault(_file_shape(path), []).append(str(path))
        for (_, encoding, _, _), paths in shapes.items():
            for start in range(0, len(paths), BASELINE_BATCH):
                batches.append((spec.name, encoding, paths[start : start + BASELINE_BATCH]))
    return batches


def child_baseline(sources: Path, out: Path, limit: int | None = None) -> int:
    """Every input file read once by DuckDB's read_csv into in-memory tables.

    The files are grouped (before the clock starts) by header line, encoding, BOM and line
    ending, and read in batches of at most BASELINE_BATCH files per `read_csv` call:
    `union_by_name` over all 88,000 ledger files in one call grows worse than linearly with
    the file count (it did not finish in 16 minutes), while batches of one shape scale
    linearly. Each batch goes into its own table (the ledgers' column order and header case
    vary) and its rows are counted. DuckDB reads UTF-8 and latin-1 but not cp1252; the cp1252
    ledgers are read as latin-1, which differs only in bytes 0x80–0x9f (€, curly quotes), so
    the scan is the same work. Columns are VARCHAR (no type sniffing). `scan_s` (the clock
    around the read_csv calls) is the baseline; the process's wall time adds Python start-up,
    the DuckDB import and the grouping.
    """
    import duckdb

    batches = baseline_batches(sources, limit)
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    seconds: dict[str, float] = {}
    files_read: dict[str, int] = {}
    started = time.perf_counter()
    rows: dict[str, int] = {}
    for i, (name, encoding, files) in enumerate(batches):
        t = time.perf_counter()
        con.execute(
            f"create table t{i} as select * from read_csv(?, delim=';', header=true, "
            f"all_varchar=true, encoding='{encoding}')",
            [files],
        )
        count = con.execute(f"select count(*) from t{i}").fetchone()[0]
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t
        files_read[name] = files_read.get(name, 0) + len(files)
        rows[name] = rows.get(name, 0) + count
    total = time.perf_counter() - started
    out.write_text(
        json.dumps(
            {
                "scan_s": total,
                "files": sum(files_read.values()),
                "read_csv_calls": len(batches),
                "rows": sum(rows.values()),
                "by_source": {
                    name: {"seconds": seconds[name], "files": files_read[name], "rows": rows[name]}
                    for name in seconds
                },
            },
            indent=2,
        )
    )
    return 0


# --- the bench -------------------------------------------------------------------------------


def code_location_seconds() -> float:
    """Wall time of a fresh process importing the code location (the better of two)."""
    times = []
    for _ in range(2):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "import orchestration.definitions"], cwd=ROOT, check=True
        )
        times.append(time.perf_counter() - t)
    return min(times)


def add_increment(delivery) -> list[Path]:
    target = delivery.sources / "vandalism"
    added = []
    for path in sorted((delivery.increment / "vandalism").iterdir()):
        shutil.copy2(path, target / path.name)
        added.append(target / path.name)
    return added


def remove_increment(delivery) -> None:
    """Put the cached delivery back as generated (also after an interrupted bench)."""
    for path in (delivery.increment / "vandalism").iterdir():
        (delivery.sources / "vandalism" / path.name).unlink(missing_ok=True)


def run_baseline(sources: Path, limit: int | None = None) -> dict:
    """The baseline scan in a fresh process; saved as .bench/runs/baseline.json (all files)."""
    label = "baseline scan" + (f" ({limit} ledger files)" if limit is not None else "")
    print(f"{label} ...", flush=True)
    out = RUNS_DIR / ("baseline.json" if limit is None else f"baseline-{limit}.json")
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "bench.run", "--child-baseline", str(sources), str(out)]
    if limit is not None:
        command += ["--baseline-files", str(limit)]
    baseline = measured(command, dict(os.environ), RUNS_DIR / "baseline.log")
    baseline |= json.loads(out.read_text()) if out.exists() else {"scan_s": float("nan")}
    out.write_text(json.dumps(baseline, indent=2))
    print(
        f"  {label}: scan {baseline['scan_s']:.1f} s ({baseline.get('files', '?')} files, "
        f"{baseline.get('read_csv_calls', '?')} read_csv calls, {baseline.get('rows', '?')} "
        f"rows); process {baseline['wall_s']:.1f} s, exit {baseline['exit']}",
        flush=True,
    )
    return baseline


def baseline_only(size_name: str, seed: int, limit: int | None) -> int:
    """Only the baseline scan; the ratio against the last bench's refresh runs, if any.

    With all files (no `limit`) and a previous bench in .bench/results.json, its baseline,
    data-dependent ratio and target are replaced by this scan's.
    """
    from sources.synthetic import national
    from sources.synthetic.national import SIZES

    delivery = national.generate(SIZES[size_name], seed)
    remove_increment(delivery)
    baseline = run_baseline(delivery.sources, limit)
    path = BENCH_DIR / "results.json"
    if limit is not None or not path.exists():
        return 0 if baseline["exit"] == 0 else 1
    results = json.loads(path.read_text())
    runs = results["runs"]
    data_part = runs["national_full"]["wall_s"] - runs["example_full"]["wall_s"]
    runs["baseline"] = baseline
    results["data_dependent_s"] = data_part
    results["figures"]["data_ratio"] = data_part / baseline["scan_s"]
    results["figures"]["peak_gb"] = max(r["peak_bytes"] for r in runs.values()) / GB
    for key, _, limit_, _ in TARGETS:
        value = results["figures"][key]
        results["targets"][key] = {"limit": limit_, "value": value, "pass": value <= limit_}
    path.write_text(json.dumps(results, indent=2, default=str))
    print(
        f"national full {runs['national_full']['wall_s']:.1f} s − example "
        f"{runs['example_full']['wall_s']:.1f} s = {data_part:.1f} s data-dependent; "
        f"/ baseline {baseline['scan_s']:.1f} s = {data_part / baseline['scan_s']:.2f} × "
        f"({'PASS' if data_part / baseline['scan_s'] <= 3.0 else 'MISS'}, limit 3 ×)"
    )
    print()
    print(report(results))
    return 0 if baseline["exit"] == 0 else 1


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = int(Path("/proc/meminfo").read_text().split()[1]) * 1024 / GB
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GB RAM, Linux {os.uname().release}"


def bench(size_name: str, seed: int, *, reuse_baseline: bool = False) -> dict:
    from sources.synthetic import national
    from sources.synthetic.national import SIZES

    print("generate the national delivery (cached) ...", flush=True)
    t = time.perf_counter()
    delivery = national.generate(SIZES[size_name], seed)
    generation = {"wall_s": time.perf_counter() - t, **delivery.summary}
    remove_increment(delivery)
    print(f"  {delivery.sources} ({time.perf_counter() - t:.1f} s)", flush=True)

    print("refresh runs (each a fresh process, as `make run`):", flush=True)
    example = ROOT / "sources" / "example"
    refresh("warm-up", "example", example, fresh=True)
    example_full = refresh("example full", "example", example, fresh=True)
    national_full = refresh("national full", "national", delivery.sources, fresh=True)
    # The incremental refresh is the run the source-files sensor launches when the month's
    # exports arrive: the ledger and what is downstream of it, with their checks. The whole
    # refresh_all job on the same month (from a copy of the warehouse before it) is measured
    # too, for comparison.
    cursor = RUNS_DIR / "national.sensor_cursor"
    cursor.unlink(missing_ok=True)
    sensor_tick("national", delivery.sources, cursor)  # first tick: the files before the month
    before = RUNS_DIR / "national-before-month"
    shutil.rmtree(before, ignore_errors=True)
    shutil.copytree(RUNS_DIR / "national", before, symlinks=True)  # publish/current is a link
    try:
        added = add_increment(delivery)
        request = sensor_tick("national", delivery.sources, cursor)
        incremental = refresh(
            "national incremental", "national", delivery.sources, fresh=False, selection=request
        )
        incremental["files_added"] = len(added)
        incremental["run_request"] = json.loads(request.read_text())
        shutil.rmtree(RUNS_DIR / "national")
        before.rename(RUNS_DIR / "national")
        whole_job = refresh(
            "national incremental, whole job", "national", delivery.sources, fresh=False
        )
    finally:
        remove_increment(delivery)

    out = RUNS_DIR / "baseline.json"
    if reuse_baseline and out.exists():
        print("baseline scan: reused from the last bench", flush=True)
        baseline = json.loads(out.read_text())
    else:
        baseline = run_baseline(delivery.sources)
    print("code location load ...", flush=True)
    location = code_location_seconds()

    runs = {
        "example_full": example_full,
        "national_full": national_full,
        "national_incremental": incremental,
        "national_incremental_whole_job": whole_job,
        "baseline": baseline,
    }
    data_part = national_full["wall_s"] - example_full["wall_s"]
    figures = {
        "data_ratio": data_part / baseline["scan_s"],
        "national_full_s": national_full["wall_s"],
        "peak_gb": max(r["peak_bytes"] for r in runs.values()) / GB,
        "incremental_ratio": incremental["wall_s"] / national_full["wall_s"],
        "code_location_s": location,
        "example_warm_s": example_full["wall_s"],
    }
    results = {
        "machine": machine(),
        "generation": generation,
        "runs": runs,
        "data_dependent_s": data_part,
        "figures": figures,
        "targets": {
            key: {"limit": limit, "value": figures[key], "pass": figures[key] <= limit}
            for key, _, limit, _ in TARGETS
        },
        "all_runs_succeeded": all(
            r["exit"] == 0 for r in (example_full, national_full, incremental, whole_job)
        ),
    }
    (BENCH_DIR / "results.json").write_text(json.dumps(results, indent=2, default=str))
    return results


RUN_ROWS = (
    "example_full",
    "national_full",
    "national_incremental",  # the sensor's run for the new month
    "national_incremental_whole_job",
)


def report(results: dict) -> str:
    runs = results["runs"]
    lines = [f"Machine: {results['machine']}", ""]
    g = results["generation"]
    lines.append(
        f"Delivery: {g['areas']} areas, {g['department_periods']} department periods, "
        f"{g['statistics_rows']:,} statistics rows, {g['incidents']:,} incidents, "
        f"{g['ledger_lines']:,} ledger lines in {g['ledger_files']:,} files "
        f"(+{g['increment_files']} files for the incremental month)"
    )
    lines += ["", "| run | wall s | peak MB | ingest | validation | dbt | publish | ok |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in RUN_ROWS:
        if name not in runs:  # a results file of an older bench
            continue
        r = runs[name]
        s = r.get("stages", {})
        cells = [
            f"{s.get(k, float('nan')):.1f}" for k in ("ingest", "validation", "dbt", "publish")
        ]
        ok = "yes" if r["exit"] == 0 else "FAILED"
        lines.append(
            f"| {name} | {r['wall_s']:.1f} | {r['peak_bytes'] / 2**20:.0f} | "
            + " | ".join(cells)
            + f" | {ok} |"
        )
    b = runs["baseline"]
    lines.append(
        f"| baseline scan (DuckDB read_csv) | {b['wall_s']:.1f} | {b['peak_bytes'] / 2**20:.0f} "
        f"| scan {b.get('scan_s', float('nan')):.1f} | | | | |"
    )
    lines += [
        "",
        f"data-dependent part of the full refresh: {results['data_dependent_s']:.1f} s",
        "",
    ]
    lines += ["| target | value | limit | |", "|---|---:|---:|---|"]
    for key, description, limit, unit in TARGETS:
        t = results["targets"][key]
        verdict = "PASS" if t["pass"] else "MISS"
        lines.append(f"| {description} | {t['value']:.2f} {unit} | {limit:g} {unit} | {verdict} |")
    if not results["all_runs_succeeded"]:
        lines.append("\nA refresh run FAILED: see .bench/runs/*/*.log")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="national")
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
        "--baseline-files",
        type=int,
        metavar="N",
        help="baseline over the first N ledger files only (to check that it scales)",
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
        return child_baseline(*args.child_baseline, args.baseline_files)
    if args.baseline_only:
        return baseline_only(args.size, args.seed, args.baseline_files)
    results = bench(args.size, args.seed, reuse_baseline=args.reuse_baseline)
    print()
    print(report(results))
    return 0 if results["all_runs_succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
