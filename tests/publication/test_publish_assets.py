"""The publish assets materialised by Dagster while a BI reader holds the published copy open."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterInstance, materialize

from orchestration.defs.dbt import DbtResource, dbt_models
from orchestration.defs.ingest import ingest_assets
from orchestration.defs.publish import (
    DUCKDB_COPY,
    MARTS,
    PARQUET_DIR,
    REPORT_FILE,
    board_report,
    published_marts,
)
from orchestration.defs.resources import SourcesResource, WarehouseResource
from tests.publication.conftest import duckdb_checksums, refresh_marts
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


def _materialize(warehouse: Path):
    return materialize(
        [published_marts, board_report],
        resources={"warehouse": WarehouseResource(path=str(warehouse))},
        instance=DagsterInstance.ephemeral(),
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
    assert metadata["duckdb_copy"].value == str(copy)
    assert "not published" in metadata["postgres"].value
    files = sorted(p.name for p in (publish_dir / PARQUET_DIR).iterdir())
    assert files == sorted(f"{m}.parquet" for m in MARTS)

    report_metadata = _metadata(second, board_report.key)
    assert report_metadata["path"].value == str(publish_dir / REPORT_FILE)
    assert report_metadata["charts"].value > 10
    assert "2025" in (publish_dir / REPORT_FILE).read_text(encoding="utf-8")  # edition 2's year
    assert sorted(p.name for p in publish_dir.iterdir()) == sorted(
        [PARQUET_DIR, DUCKDB_COPY, REPORT_FILE]
    )


@pytest.mark.slow
def test_reader_holds_the_published_copy_open_through_a_full_pipeline_refresh(
    example_sources, tmp_path, publish_dir, monkeypatch
):
    """Every asset (ingest, GX, dbt, publish, report) on the bundled example, twice."""
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))  # dbt's profile reads it

    def full_refresh():
        return materialize(
            [*ingest_assets, dbt_models, published_marts, board_report],
            resources={
                "warehouse": WarehouseResource(path=str(warehouse)),
                "sources": SourcesResource(directory=str(example_sources)),
                "dbt": DbtResource(),
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
