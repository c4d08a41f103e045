"""The publish assets materialised by Dagster while a BI reader holds the published copy open."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from dagster import AssetCheckKey, AssetCheckSeverity, AssetKey, DagsterInstance, materialize

from boligsocial.defs.dbt.assets import dbt_cli, dbt_models
from boligsocial.defs.ingest.assets import ingest_assets
from boligsocial.defs.publication.assets import (
    DUCKDB_COPY,
    MARTS,
    PARQUET_DIR,
    REPORT_FILE,
    board_report,
    publication_set,
    published_marts,
)
from boligsocial.defs.resources import (
    PublishResource,
    SourcesResource,
    WarehouseResource,
    from_environment,
)
from boligsocial.publication.publish import RECORD
from boligsocial.runs.findings import step_failure_reason
from tests.publication.conftest import duckdb_checksums, refresh_marts
from tests.publication.test_publish_files import verify
from tests.support.marts_fixture import MARTS as FIXTURE_MARTS

# A BI tool: one read-only connection, opened before the refresh and queried in a loop until
# told to stop; prints what every query saw.
READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    copy, stop = sys.argv[1], Path(sys.argv[2])
    con = duckdb.connect(copy, read_only=True)
    query = (
        "select (select count(*) from marts.area_metrics), "
        "(select max(year) from marts.area_list_status), "
        "(select sum(vandalism_cost_dkk) from marts.area_safety), "
        "(select sum(police_incidents) from marts.area_safety)"
    )
    seen, queries = set(), 0
    print(json.dumps(con.execute(query).fetchone(), default=str), flush=True)
    while not stop.exists():
        seen.add(json.dumps(con.execute(query).fetchone(), default=str))
        queries += 1
        time.sleep(0.02)
    print(json.dumps({"queries": queries, "seen": sorted(seen)}), flush=True)
    con.close()
    """
)


def _snapshot(copy: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-c", READER, str(copy), str(copy)],  # stop file exists: query once
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()[0]


def _refresh_under_reader(copy: Path, stop: Path, refresh, timeout: float) -> tuple[object, str]:
    """Run `refresh` while a BI reader holds `copy` open; assert that the reader kept seeing the
    complete old copy and never failed, and that a new connection sees new data. Returns what
    `refresh` returned and the new snapshot."""
    old_snapshot = _snapshot(copy)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(copy), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == old_snapshot  # connected before the refresh
        refreshed = refresh()
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=timeout)
    assert reader.returncode == 0, err
    report = json.loads(out)
    assert report["queries"] > 0
    assert report["seen"] == [old_snapshot]
    new_snapshot = _snapshot(copy)
    assert new_snapshot != old_snapshot
    return refreshed, new_snapshot


PUBLISH = [published_marts, board_report, publication_set]


def _materialize(warehouse: Path, raise_on_error: bool = True):
    return materialize(
        PUBLISH,
        resources={**from_environment(), "warehouse": WarehouseResource(path=str(warehouse))},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=raise_on_error,
    )


def _metadata(result, key) -> dict:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    return event.materialization.metadata


@pytest.fixture
def publish_dir(tmp_path, monkeypatch) -> Path:
    directory = tmp_path / "publish"
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_DIR", str(directory))
    monkeypatch.delenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", raising=False)
    return directory


def test_publish_asset_depends_on_every_mart():
    assert sorted(MARTS) == sorted(FIXTURE_MARTS)
    deps = {key.to_user_string() for key in published_marts.asset_deps[published_marts.key]}
    assert deps == {f"marts/{mart}" for mart in FIXTURE_MARTS}
    assert published_marts.op.pool == "duckdb_warehouse"


def test_the_publication_goes_where_its_resource_says(marts_warehouse, tmp_path, monkeypatch):
    """The folder is the `publish` resource's (EnvVar-configured in the code location), not a
    variable read in the asset's body."""
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_DIR", str(tmp_path / "from_environment"))
    monkeypatch.delenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", raising=False)
    folder = tmp_path / "from_resource"
    result = materialize(
        PUBLISH,
        resources={
            "warehouse": WarehouseResource(path=str(marts_warehouse)),
            "publish": PublishResource(directory=str(folder)),
        },
        instance=DagsterInstance.ephemeral(),
    )
    assert verify(folder / "current") == result.run_id
    assert not (tmp_path / "from_environment").exists()


@pytest.mark.slow
def test_reader_holds_the_published_copy_open_through_a_refresh(
    marts_warehouse, marts_editions, publish_dir
):
    first = _materialize(marts_warehouse)
    assert first.success
    copy = publish_dir / DUCKDB_COPY

    def refresh():
        # Every mart rewritten in the warehouse, then published again.
        refresh_marts(marts_warehouse, marts_editions[2])
        return _materialize(marts_warehouse)

    second, _ = _refresh_under_reader(copy, publish_dir.parent / "stop-reader", refresh, 60)
    assert second.success
    with duckdb.connect(str(marts_editions[2]), read_only=True) as con:
        expected = duckdb_checksums(con)
    with duckdb.connect(str(copy), read_only=True) as con:
        assert duckdb_checksums(con) == expected

    metadata = _metadata(second, published_marts.key)
    assert metadata["row_counts"].value == {m: rows for m, (rows, _) in expected.items()}
    current = publish_dir / "current"
    assert current.resolve() == publish_dir / "sets" / second.run_id
    assert verify(current) == second.run_id
    assert "not published" in _metadata(second, publication_set.key)["postgres"].value
    files = sorted(p.name for p in (current / PARQUET_DIR).iterdir())
    assert files == sorted(f"{m}.parquet" for m in MARTS)

    report_metadata = _metadata(second, board_report.key)
    assert report_metadata["path"].value == str(current.resolve() / REPORT_FILE)
    assert report_metadata["charts"].value > 10
    assert "2025" in (publish_dir / REPORT_FILE).read_text(encoding="utf-8")  # edition 2's year
    assert sorted(p.name for p in publish_dir.iterdir()) == sorted(
        [PARQUET_DIR, DUCKDB_COPY, REPORT_FILE, "current", "sets", RECORD]
    )
    # The first set stays until the next publication starts.
    assert sorted(p.name for p in (publish_dir / "sets").iterdir()) == sorted(
        [first.run_id, second.run_id]
    )


@pytest.mark.slow
def test_reader_holds_the_published_copy_open_through_a_full_pipeline_refresh(
    example_sources, tmp_path, publish_dir
):
    """Every asset (ingest, GX, dbt, publish, report) on the bundled example, twice."""
    warehouse = tmp_path / "warehouse.duckdb"

    def full_refresh():
        return materialize(
            [*ingest_assets, dbt_models, published_marts, board_report, publication_set],
            resources={
                **from_environment(),
                "warehouse": WarehouseResource(path=str(warehouse)),
                "sources": SourcesResource(directory=str(example_sources)),
                "dbt": dbt_cli,
            },
            instance=DagsterInstance.ephemeral(),
        )

    assert full_refresh().success

    def a_month_later():
        # The newest police extract is gone from the sources.
        sorted((example_sources / "police").glob("incidents_*.csv"))[-1].unlink()
        return full_refresh()

    copy = publish_dir / DUCKDB_COPY
    second, new_snapshot = _refresh_under_reader(copy, tmp_path / "stop-reader", a_month_later, 120)
    assert second.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = con.execute("select sum(police_incidents) from marts.area_safety").fetchone()
    assert json.loads(new_snapshot)[-1] == expected[0]


def _failure_lines(result) -> list[str]:
    return [step_failure_reason(event) for event in result.get_step_failure_events()]


@pytest.mark.slow
def test_a_failure_before_the_switch_leaves_the_previous_set_whole(
    marts_warehouse, marts_editions, publish_dir, monkeypatch
):
    first = _materialize(marts_warehouse)
    assert first.success
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        expected = duckdb_checksums(con)
    refresh_marts(marts_warehouse, marts_editions[2])
    # PostgreSQL is unreachable: the last step fails after every file of the new set was built.
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", "postgresql://bi@127.0.0.1:1/x")
    second = _materialize(marts_warehouse, raise_on_error=False)
    assert not second.success
    (line,) = _failure_lines(second)
    assert "PostgreSQL postgresql://bi@127.0.0.1:1/x" in line
    assert (publish_dir / "sets" / second.run_id / DUCKDB_COPY).exists()  # staged, not switched
    assert verify(publish_dir / "current") == first.run_id
    with duckdb.connect(str(publish_dir / DUCKDB_COPY), read_only=True) as reader:
        assert duckdb_checksums(reader) == expected
    assert (publish_dir / REPORT_FILE).resolve().parent.name == first.run_id

    monkeypatch.delenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL")
    third = _materialize(marts_warehouse)
    assert verify(publish_dir / "current") == third.run_id
    assert sorted(p.name for p in (publish_dir / "sets").iterdir()) == sorted(
        [first.run_id, third.run_id]
    )


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real file system of 400 KiB: room for the Parquet files, not for the DuckDB copy."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_is_the_error_the_run_reports_and_the_next_run_succeeds(
    marts_warehouse, small_tmpfs, monkeypatch
):
    publish_dir = small_tmpfs / "publish"
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_DIR", str(publish_dir))
    monkeypatch.delenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", raising=False)
    full = _materialize(marts_warehouse, raise_on_error=False)
    assert not full.success
    (line,) = _failure_lines(full)
    assert "No space left on device" in line
    assert str(publish_dir / "sets" / full.run_id / DUCKDB_COPY) in line
    assert "detach" not in line.lower()
    # Nothing of the failed publication is left to fill the disk or block the next run.
    assert sorted(p.name for p in publish_dir.iterdir()) == [RECORD, "sets"]
    assert list((publish_dir / "sets").iterdir()) == []

    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
    after = _materialize(marts_warehouse)
    assert after.success
    assert verify(publish_dir / "current") == after.run_id


# The refresh job's publish steps, run as `make run` runs the job: in its own process, against
# the instance in DAGSTER_HOME; prints the run's failure line as boligsocial.runs.refresh does.
PUBLISH_RUN = textwrap.dedent(
    """
    from dagster import AssetKey, DagsterInstance, execute_job, reconstructable
    from boligsocial.runs.findings import run_findings
    from boligsocial.runs.refresh import RUN_CONFIG, refresh_job

    keys = [AssetKey(["publish", name]) for name in ("marts", "board_report", "current")]
    result = execute_job(
        reconstructable(refresh_job), instance=DagsterInstance.get(), run_config=RUN_CONFIG,
        raise_on_error=False, asset_selection=keys,
    )
    errors, _ = run_findings(result.all_events)
    print(f"Run {result.run_id} FAILED: {errors[0]}" if errors else "succeeded")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://bi:pa%ZZss@127.0.0.1:1/boligsocial", "pa%ZZss"),  # breaks URL decoding
        ("postgresql://bi:Hemmelig%2FKode@127.0.0.1:1/boligsocial", "Hemmelig"),  # wrong port
        ("host=127.0.0.1 port=1 user=bi password=Hemmelig-Kode dbname=x", "Hemmelig"),
    ],
    ids=["bad-escape", "wrong-port", "keywords"],
)
def test_the_postgres_password_is_nowhere_after_a_failed_run(
    url, password, marts_warehouse, tmp_path
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (Path(__file__).parents[2] / "dagster.yaml").read_text(encoding="utf-8")
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BOLIGSOCIAL_WAREHOUSE": str(marts_warehouse),
        "BOLIGSOCIAL_PUBLISH_DIR": str(tmp_path / "publish"),
        "BOLIGSOCIAL_PUBLISH_POSTGRES_URL": url,
        "BOLIGSOCIAL_LOG_LEVEL": "DEBUG",
    }
    run = subprocess.run(
        [sys.executable, "-c", PUBLISH_RUN],
        env=env,
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    console = run.stdout + run.stderr
    assert "FAILED: PostgreSQL postgresql://bi@127.0.0.1" in run.stdout, console
    assert password not in console
    stored = [p for p in home.rglob("*") if p.is_file()]
    assert any("compute_logs" in str(p) for p in stored), stored  # the steps' captured output
    assert [p for p in stored if password.encode() in p.read_bytes()] == []
    assert not (tmp_path / "publish" / "current").exists()  # nothing switched


@pytest.mark.slow
def test_a_failing_dbt_test_on_a_mart_leaves_publish_untouched(
    example_sources, tmp_path, publish_dir
):
    """The marts' rules are dbt tests: one that fails in the run's dbt build stops publication."""
    warehouse = tmp_path / "warehouse.duckdb"

    def refresh():
        return materialize(
            [*ingest_assets, dbt_models, *PUBLISH],
            resources={
                **from_environment(),
                "warehouse": WarehouseResource(path=str(warehouse)),
                "sources": SourcesResource(directory=str(example_sources)),
                "dbt": dbt_cli,
            },
            instance=DagsterInstance.ephemeral(),
            raise_on_error=False,
        )

    first = refresh()
    assert first.success
    published = {p: p.stat().st_ino for p in publish_dir.rglob("*")}

    # Every department joins its area only in 2099: the file passes its own rules (GX), but no
    # area has statistics in any year, so marts.area_metrics comes out empty (dbt's has_rows).
    departments = example_sources / "reference" / "departments.csv"
    header, *lines = departments.read_text(encoding="utf-8").splitlines()
    departments.write_text(
        "\n".join([header, *(";".join([*line.split(";")[:5], "2099-01-01", ""]) for line in lines)])
        + "\n",
        encoding="utf-8",
    )
    second = refresh()
    assert not second.success
    failed = [
        e.asset_check_key
        for e in second.get_asset_check_evaluations()
        if not e.passed and e.severity == AssetCheckSeverity.ERROR
    ]
    assert failed == [AssetCheckKey(AssetKey(["marts", "area_metrics"]), "has_rows_area_metrics")]
    publish_keys = {key for asset in PUBLISH for key in asset.keys}
    assert [
        e for e in second.get_asset_materialization_events() if e.asset_key in publish_keys
    ] == []
    # Not a file added, removed or replaced: the set of the first run is what readers see.
    assert {p: p.stat().st_ino for p in publish_dir.rglob("*")} == published
    assert verify(publish_dir / "current") == first.run_id


KILLABLE_RUN = textwrap.dedent(
    """
    import sys
    from dagster import DagsterInstance, materialize
    from boligsocial.defs.resources import WarehouseResource, from_environment
    from tests.publication.test_publish_assets import PUBLISH

    materialize(
        PUBLISH,
        resources={**from_environment(), "warehouse": WarehouseResource(path=sys.argv[1])},
        instance=DagsterInstance.ephemeral(),
    )
    """
)


@pytest.mark.slow
def test_a_publication_killed_after_its_last_file_leaves_one_whole_set(
    marts_warehouse, marts_editions, publish_dir
):
    first = _materialize(marts_warehouse)
    refresh_marts(marts_warehouse, marts_editions[2])
    run = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_RUN, str(marts_warehouse)],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # SIGKILL as soon as the new set holds its report: between the last file and the switch
        # (the report of the previous refresh beside the new marts, before).
        while run.poll() is None and not list((publish_dir / "sets").glob(f"*/{REPORT_FILE}"))[1:]:
            time.sleep(0.001)
        run.kill()
    finally:
        run.wait()
    assert run.returncode == -signal.SIGKILL
    # Whichever set `current` names, it is whole: every file is the one its manifest lists.
    current = verify(publish_dir / "current")
    with duckdb.connect(str(publish_dir / DUCKDB_COPY), read_only=True) as reader:
        copy = duckdb_checksums(reader)
    edition = 1 if current == first.run_id else 2
    with duckdb.connect(str(marts_editions[edition]), read_only=True) as con:
        assert copy == duckdb_checksums(con)

    after = _materialize(marts_warehouse)
    assert verify(publish_dir / "current") == after.run_id
    assert sorted(p.name for p in (publish_dir / "sets").iterdir()) == sorted(
        [current, after.run_id]
    )
