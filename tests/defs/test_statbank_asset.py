"""The StatBank responses asset and raw/statbank, materialised by Dagster against a local
server that replays recorded StatBank answers."""

import shutil
from pathlib import Path

import pytest
from dagster import materialize

from boligsocial.defs.ingest.assets import ingest_assets
from boligsocial.defs.ingest.statbank import statbank_api_responses
from boligsocial.defs.resources import SourcesResource, WarehouseResource
from boligsocial.loading.warehouse import connect
from boligsocial.sources import statbank_client
from tests.sources.test_statbank_client import RECORDINGS, TABLES, ReplayServer

RAW_STATBANK = next(a for a in ingest_assets if a.key.path == ["raw", "statbank"])


@pytest.fixture
def replay(monkeypatch: pytest.MonkeyPatch):
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(variable, raising=False)
    server = ReplayServer()
    monkeypatch.setenv(statbank_client.URL_ENV, server.base_url)
    yield server
    server.close()


def run(sources: Path, warehouse: Path):
    return materialize(
        [statbank_api_responses, RAW_STATBANK],
        resources={
            "sources": SourcesResource(directory=str(sources)),
            "warehouse": WarehouseResource(path=str(warehouse)),
        },
        raise_on_error=False,
    )


def test_live_refresh_fills_the_cache_and_raw(replay, monkeypatch, example_sources, tmp_path):
    shutil.rmtree(example_sources / "statbank")
    monkeypatch.setenv(statbank_client.LIVE_ENV, "1")
    result = run(example_sources, tmp_path / "w.duckdb")
    assert result.success
    assert sorted(replay.tables_requested()) == sorted(TABLES)
    for table in TABLES:
        cached = example_sources / "statbank" / f"{table}.csv"
        assert cached.read_bytes() == (RECORDINGS / f"{table}.csv").read_bytes()
    with connect(tmp_path / "w.duckdb", read_only=True) as con:
        tables = con.execute("select distinct table_id from raw.statbank order by 1").fetchall()
    assert [t for (t,) in tables] == sorted(TABLES)


def test_offline_sends_nothing_and_reads_the_cache(replay, monkeypatch, example_sources, tmp_path):
    monkeypatch.delenv(statbank_client.LIVE_ENV, raising=False)
    result = run(example_sources, tmp_path / "w.duckdb")
    assert result.success
    assert replay.requests == []
    [event] = [e for e in result.get_asset_materialization_events() if "statbank" in str(e)][:1]
    assert "offline" in event.materialization.metadata["mode"].value
    # raw.statbank holds every cached response, row for row.
    with connect(tmp_path / "w.duckdb", read_only=True) as con:
        loaded = dict(
            con.execute("select table_id, count(*) from raw.statbank group by 1").fetchall()
        )
    cached = {
        path.stem: len(path.read_text(encoding="utf-8-sig").splitlines()) - 1
        for path in (example_sources / "statbank").glob("*.csv")
    }
    assert loaded == cached
    assert sorted(loaded) == sorted(TABLES)


def test_an_api_error_fails_the_refresh_and_keeps_the_cache(
    replay, monkeypatch, example_sources, tmp_path
):
    from tests.sources.test_statbank_client import Reply

    before = {p.name: p.read_bytes() for p in (example_sources / "statbank").iterdir()}
    monkeypatch.setenv(statbank_client.LIVE_ENV, "1")
    replay.script["FOLK1E"].append(
        Reply(status=400, body=b'{"errorTypeCode": "x", "message": "Ukendt variabel"}')
    )
    result = run(example_sources, tmp_path / "w.duckdb")
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "StatBank refresh failed" in failure.event_specific_data.error.message
    assert "FOLK1E" in failure.event_specific_data.error.message
    after = {p.name: p.read_bytes() for p in (example_sources / "statbank").iterdir()}
    assert after == before
