"""PostgreSQL publication against the local server (127.0.0.1:5432, trust auth, database test).

The server is shared: the library tests publish to a schema named for this branch; the asset
test to `marts`, the schema the asset always uses.
"""

from __future__ import annotations

import os

import duckdb
import psycopg
import pytest
from dagster import DagsterInstance, materialize

from boligsocial.defs.publication.assets import board_report, publication_set, published_marts
from boligsocial.defs.resources import WarehouseResource, from_environment
from boligsocial.publication.publish import (
    PublicationError,
    mart_columns,
    postgres_type,
    publish_postgres,
    redact_url,
)
from tests.publication.conftest import checksum, duckdb_checksums
from tests.support import postgres
from tests.support.marts_fixture import MARTS

URL = os.environ.get("BOLIGSOCIAL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "publish_set_marts"
READER_ROLE = "publish_set_bi_reader"


def _reachable() -> str | None:
    try:
        with psycopg.connect(URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"no PostgreSQL at {URL} ({str(error).strip().splitlines()[0]})"


_unreachable = _reachable()
pytestmark = postgres.required(_unreachable)


def _drop(connection: psycopg.Connection, *schemas: str) -> None:
    for schema in schemas:
        connection.execute(f"drop schema if exists {schema} cascade")
        connection.execute(f"drop schema if exists {schema}_new cascade")


@pytest.fixture
def pg():
    with psycopg.connect(URL, autocommit=True) as connection:
        _drop(connection, SCHEMA)
        yield connection
        connection.execute("drop view if exists public.publish_set_test_view")
        _drop(connection, SCHEMA)
        connection.execute(f"drop role if exists {READER_ROLE}")


def _publish(warehouse, run_id: str = "run-1", marts=MARTS) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return publish_postgres(con, marts, URL, run_id=run_id, schema=SCHEMA)


def _postgres_checksums(pg: psycopg.Connection, schema: str = SCHEMA) -> dict[str, tuple]:
    result = {}
    for mart in MARTS:
        rows = pg.execute(f"select * from {schema}.{mart}").fetchall()
        result[mart] = (len(rows), checksum(rows))
    return result


def _run_id(pg: psycopg.Connection, schema: str = SCHEMA) -> str:
    (row,) = pg.execute(f"select run_id from {schema}.publication").fetchall()
    return row[0]


def _postgres_columns(pg: psycopg.Connection, mart: str) -> list[tuple[str, str]]:
    return pg.execute(
        "select column_name, "
        "  case when data_type = 'numeric' "
        "       then format('numeric(%%s,%%s)', numeric_precision, numeric_scale) "
        "       else data_type end "
        "from information_schema.columns where table_schema = %s and table_name = %s "
        "order by ordinal_position",
        [SCHEMA, mart],
    ).fetchall()


def test_every_mart_has_the_same_rows_columns_and_types_as_in_duckdb(pg, marts_warehouse):
    copied = _publish(marts_warehouse)
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        expected = duckdb_checksums(con)
        contract = {
            m: [(name, postgres_type(t)) for name, t in mart_columns(con, m)] for m in MARTS
        }
    assert copied == {m: rows for m, (rows, _) in expected.items()}
    assert _postgres_checksums(pg) == expected
    assert {m: _postgres_columns(pg, m) for m in MARTS} == contract
    assert contract["area_safety"][9] == ("vandalism_cost_dkk", "numeric(18,2)")
    assert _run_id(pg) == "run-1"
    leftover = pg.execute("select 1 from pg_namespace where nspname = %s", [f"{SCHEMA}_new"])
    assert leftover.fetchone() is None


def test_republishing_replaces_the_schema_and_keeps_readers_grants(
    pg, marts_warehouse, marts_editions
):
    _publish(marts_warehouse)
    pg.execute(f"create role {READER_ROLE}")
    pg.execute(f"grant usage on schema {SCHEMA} to {READER_ROLE}")
    pg.execute(f"grant select on all tables in schema {SCHEMA} to {READER_ROLE}")

    _publish(marts_editions[2], "run-2")
    with duckdb.connect(str(marts_editions[2]), read_only=True) as con:
        expected = duckdb_checksums(con)
    assert _postgres_checksums(pg) == expected
    assert _run_id(pg) == "run-2"
    for mart in [*MARTS, "publication"]:
        granted = pg.execute(
            "select has_table_privilege(%s, %s, 'select')", [READER_ROLE, f"{SCHEMA}.{mart}"]
        ).fetchone()[0]
        assert granted, mart
    usage = pg.execute("select has_schema_privilege(%s, %s, 'usage')", [READER_ROLE, SCHEMA])
    assert usage.fetchone()[0]


def test_a_dependent_view_stops_the_swap_and_the_old_marts_stay(
    pg, marts_warehouse, marts_editions
):
    _publish(marts_warehouse)
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        before = duckdb_checksums(con)
    pg.execute(f"create view public.publish_set_test_view as select * from {SCHEMA}.area_metrics")
    with pytest.raises(PublicationError, match=r"DependentObjectsStillExist.*area_metrics"):
        _publish(marts_editions[2], "run-2")
    assert _postgres_checksums(pg) == before
    assert _run_id(pg) == "run-1"


def test_a_failure_inside_the_load_transaction_leaves_the_published_schema(
    pg, marts_warehouse, marts_editions
):
    _publish(marts_warehouse)
    with duckdb.connect(str(marts_warehouse), read_only=True) as con:
        before = duckdb_checksums(con)
    # The first marts are loaded, then the transaction fails on a mart that does not exist.
    with pytest.raises(PublicationError, match="no_such_mart does not exist"):
        _publish(marts_editions[2], "run-2", [*MARTS, "no_such_mart"])
    assert _postgres_checksums(pg) == before
    assert _run_id(pg) == "run-1"
    leftover = pg.execute("select 1 from pg_namespace where nspname = %s", [f"{SCHEMA}_new"])
    assert leftover.fetchone() is None  # rolled back with its transaction


def test_the_publish_assets_publish_to_postgres_with_the_sets_run_id(
    marts_warehouse, tmp_path, monkeypatch
):
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_DIR", str(tmp_path / "publish"))
    monkeypatch.setenv("BOLIGSOCIAL_PUBLISH_POSTGRES_URL", URL)
    with psycopg.connect(URL, autocommit=True) as pg:
        _drop(pg, "marts")
        try:
            result = materialize(
                [published_marts, board_report, publication_set],
                resources={
                    **from_environment(),
                    "warehouse": WarehouseResource(path=str(marts_warehouse)),
                },
                instance=DagsterInstance.ephemeral(),
            )
            assert result.success
            (event,) = [
                e
                for e in result.get_asset_materialization_events()
                if e.asset_key == publication_set.key
            ]
            metadata = event.materialization.metadata
            assert metadata["postgres"].value == f"schema marts in {redact_url(URL)}"
            with duckdb.connect(str(marts_warehouse), read_only=True) as con:
                assert _postgres_checksums(pg, "marts") == duckdb_checksums(con)
            # Readers compare it with publish/current/manifest.json.
            assert _run_id(pg, "marts") == result.run_id == metadata["run_id"].value
        finally:
            _drop(pg, "marts")
