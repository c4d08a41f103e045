"""PostgreSQL publication against the local server (127.0.0.1:5432, trust auth, database test)."""

from __future__ import annotations

import os

import duckdb
import psycopg
import pytest
from dagster import DagsterInstance, materialize

from orchestration.defs.publish import published_marts
from orchestration.defs.resources import WarehouseResource
from publication.publish import mart_columns, postgres_type, publish_postgres, redact_url
from tests.publication.conftest import checksum, duckdb_checksums
from tests.support.marts_fixture import MARTS

URL = os.environ.get("BOLIGSOCIAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
READER_ROLE = "boligsocial_test_bi_reader"


def _reachable() -> str | None:
    try:
        with psycopg.connect(URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"no PostgreSQL at {URL} ({str(error).strip().splitlines()[0]})"


_unreachable = _reachable()
pytestmark = pytest.mark.skipif(_unreachable is not None, reason=_unreachable or "")


@pytest.fixture
def pg():
    with psycopg.connect(URL, autocommit=True) as connection:
        for schema in ("marts", "marts_new"):
            connection.execute(f"drop schema if exists {schema} cascade")
        yield connection
        connection.execute("drop view if exists public.boligsocial_test_view")
        for schema in ("marts", "marts_new"):
            connection.execute(f"drop schema if exists {schema} cascade")
        connection.execute(f"drop role if exists {READER_ROLE}")


def _postgres_checksums(pg: psycopg.Connection) -> dict[str, tuple]:
    result = {}
    for mart in MARTS:
        rows = pg.execute(f"select * from marts.{mart}").fetchall()
        result[mart] = (len(rows), checksum(rows))
    return result


def _postgres_columns(pg: psycopg.Connection, mart: str) -> list[tuple[str, str]]:
    return pg.execute(
        "select column_name, "
        "  case when data_type = 'numeric' "
        "       then format('numeric(%%s,%%s)', numeric_precision, numeric_scale) "
        "       else data_type end "
        "from information_schema.columns where table_schema = 'marts' and table_name = %s "
        "order by ordinal_position",
        [mart],
    ).fetchall()


def test_every_mart_has_the_same_rows_columns_and_types_as_in_duckdb(pg, marts_warehouse):
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        copied = publish_postgres(con, MARTS, URL)
        expected = duckdb_checksums(con)
        contract = {
            m: [(name, postgres_type(t)) for name, t in mart_columns(con, m)] for m in MARTS
        }
    assert copied == {m: rows for m, (rows, _) in expected.items()}
    assert _postgres_checksums(pg) == expected
    assert {m: _postgres_columns(pg, m) for m in MARTS} == contract
    assert contract["area_safety"][9] == ("vandalism_cost_dkk", "numeric(18,2)")
    leftover = pg.execute("select 1 from pg_namespace where nspname = 'marts_new'").fetchone()
    assert leftover is None


def test_republishing_replaces_the_schema_and_keeps_readers_grants(
    pg, marts_warehouse, marts_editions
):
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        publish_postgres(con, MARTS, URL)
    pg.execute(f"create role {READER_ROLE}")
    pg.execute(f"grant usage on schema marts to {READER_ROLE}")
    pg.execute(f"grant select on all tables in schema marts to {READER_ROLE}")

    with duckdb.connect(str(marts_editions[2]), read_only=True) as con:
        publish_postgres(con, MARTS, URL)
        expected = duckdb_checksums(con)
    assert _postgres_checksums(pg) == expected
    for mart in MARTS:
        granted = pg.execute(
            "select has_table_privilege(%s, %s, 'select')", [READER_ROLE, f"marts.{mart}"]
        ).fetchone()[0]
        assert granted, mart
    usage = pg.execute("select has_schema_privilege(%s, 'marts', 'usage')", [READER_ROLE])
    assert usage.fetchone()[0]


def test_a_dependent_view_stops_the_swap_and_the_old_marts_stay(
    pg, marts_warehouse, marts_editions
):
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        publish_postgres(con, MARTS, URL)
        before = duckdb_checksums(con)
    pg.execute("create view public.boligsocial_test_view as select * from marts.area_metrics")
    stopped = pytest.raises(psycopg.errors.DependentObjectsStillExist, match="area_metrics")
    with duckdb.connect(str(marts_editions[2]), read_only=True) as con, stopped:
        publish_postgres(con, MARTS, URL)
    assert _postgres_checksums(pg) == before


def test_the_publish_asset_publishes_to_postgres_when_the_url_is_set(
    pg, marts_warehouse, tmp_path, monkeypatch
):
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_DIR", str(tmp_path / "publish"))
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", URL)
    result = materialize(
        [published_marts],
        resources={"warehouse": WarehouseResource(path=str(marts_warehouse))},
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["postgres"].value == f"schema marts in {redact_url(URL)}"
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        assert _postgres_checksums(pg) == duckdb_checksums(con)
