"""The dbt project on PostgreSQL: the bundled example's raw tables copied into a fresh database
on the local server (BOLIGSOCIAL_PG_*, default 127.0.0.1:5432), `dbt build --target postgres`
(seeds, models, data tests, unit tests), and every mart compared with the DuckDB build.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from psycopg import sql

from boligsocial.configuration import settings
from boligsocial.loading.postgres_raw import copy_raw
from boligsocial.loading.warehouse import connect, ingest
from boligsocial.publication.publish import postgres_type
from boligsocial.sources.catalog import LINEAGE_COLUMNS, SOURCES
from tests.dbt.conftest import dbt_command
from tests.support import postgres

PG = {
    "host": os.environ.get("BOLIGSOCIAL_PG_HOST", "127.0.0.1"),
    "port": os.environ.get("BOLIGSOCIAL_PG_PORT", "5432"),
    "user": os.environ.get("BOLIGSOCIAL_PG_USER", "postgres"),
    "password": os.environ.get("BOLIGSOCIAL_PG_PASSWORD", ""),
}
# The database the test connects to in order to create (and drop) its own.
MAINTENANCE_DB = os.environ.get("BOLIGSOCIAL_PG_DATABASE", "test")


def _url(dbname: str) -> str:
    return psycopg.conninfo.make_conninfo(dbname=dbname, connect_timeout=3, **PG)


def _unreachable() -> str | None:
    try:
        with psycopg.connect(_url(MAINTENANCE_DB)):
            return None
    except psycopg.OperationalError as error:
        where = f"{PG['host']}:{PG['port']}/{MAINTENANCE_DB}"
        return f"no PostgreSQL at {where} ({str(error).strip().splitlines()[0]})"


_reason = _unreachable()
pytestmark = [pytest.mark.slow, *postgres.required(_reason)]


def run_dbt_builds(builds: dict[str, tuple[Path, dict[str, str]]]) -> dict[str, dict]:
    """`dbt build` of the whole project per (work folder, environment), side by side (they are
    independent); returns each build's run_results.json."""
    processes = {
        name: subprocess.Popen(
            dbt_command("build", work=work),
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for name, (work, env) in builds.items()
    }
    outputs = {name: process.communicate()[0] for name, process in processes.items()}
    for name, process in processes.items():
        assert process.returncode == 0, f"{name}: {outputs[name][-5000:]}"
    return {
        name: json.loads((work / "target" / "run_results.json").read_text())
        for name, (work, _) in builds.items()
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict]]:
    """(DuckDB warehouse built by dbt, URL of the PostgreSQL database built by dbt, its
    run_results) from the same raw tables of the bundled example."""
    work = tmp_path_factory.mktemp("postgres_target")
    warehouse = work / "wh.duckdb"
    with connect(warehouse) as con:
        for spec in SOURCES:
            ingest(spec, settings.EXAMPLE_SOURCES_DIR, con)
    database = f"boligsocial_dbt_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_url(MAINTENANCE_DB), autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        with connect(warehouse, read_only=True) as con:
            copy_raw(con, _url(database))
        results = run_dbt_builds(
            {
                "postgres": (
                    work / "postgres",
                    {"BOLIGSOCIAL_DBT_TARGET": "postgres", "BOLIGSOCIAL_PG_DATABASE": database},
                ),
                "duckdb": (
                    work / "duckdb",
                    {"BOLIGSOCIAL_DBT_TARGET": "duckdb", "BOLIGSOCIAL_WAREHOUSE": str(warehouse)},
                ),
            }
        )
        yield warehouse, _url(database), results["postgres"]
    finally:
        with psycopg.connect(_url(MAINTENANCE_DB), autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )


def duckdb_query(warehouse: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(query).fetchall()


def postgres_query(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as pg:
        return pg.execute(query).fetchall()


def comparable(rows: list[tuple]) -> list[tuple]:
    """Rows in a fixed order: by their values, doubles to 6 significant digits."""
    return sorted(
        rows,
        key=lambda row: [(v is None, f"{v:.6g}" if isinstance(v, float) else str(v)) for v in row],
    )


def approximately(rows: list[tuple]) -> list[tuple]:
    """Doubles as `pytest.approx` (relative 1e-9): sums may add in another order, and values
    rounded to a fixed number of digits can still round apart (…928713 against …928712)."""
    return [
        tuple(pytest.approx(v, rel=1e-9, abs=1e-12) if isinstance(v, float) else v for v in row)
        for row in rows
    ]


def test_raw_tables_are_copied_with_the_catalog_types(builds):
    warehouse, url, _ = builds
    for spec in SOURCES:
        columns = postgres_query(
            url,
            "select column_name, case when data_type = 'numeric' "
            "  then format('numeric(%s,%s)', numeric_precision, numeric_scale) "
            "  else data_type end "
            f"from information_schema.columns where table_schema = 'raw' and table_name = "
            f"'{spec.name}' order by ordinal_position",
        )
        assert columns == [
            (name, postgres_type(duckdb_type).replace("timestamp", "timestamp without time zone"))
            for name, duckdb_type in (*spec.columns, *LINEAGE_COLUMNS)
        ], spec.name
        count = f"select count(*) from {spec.table}"
        assert postgres_query(url, count) == duckdb_query(warehouse, count), spec.name


def test_build_runs_seeds_models_data_tests_and_unit_tests(builds):
    _, _, results = builds
    statuses: dict[str, set[str]] = {}
    for result in results["results"]:
        statuses.setdefault(result["unique_id"].split(".")[0], set()).add(result["status"])
    # dbt lists the exposures (the board report, the BI publication) among the results too.
    assert set(statuses) == {"seed", "model", "test", "unit_test", "exposure"}
    assert statuses["seed"] == statuses["model"] == {"success"}
    assert statuses["unit_test"] == {"pass"}
    # Ledger lines of departments outside every area are reported with severity warn.
    assert statuses["test"] <= {"pass", "warn"}


def test_every_mart_equals_the_duckdb_build(builds):
    warehouse, url, _ = builds
    marts = [
        name
        for (name,) in duckdb_query(
            warehouse,
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by table_name",
        )
    ]
    assert len(marts) == 13
    assert [
        name
        for (name,) in postgres_query(
            url,
            "select table_name from information_schema.tables "
            "where table_schema = 'marts' order by table_name",
        )
    ] == marts
    for mart in marts:
        expected = duckdb_query(warehouse, f"select * from marts.{mart}")
        actual = postgres_query(url, f"select * from marts.{mart}")
        assert expected, mart
        assert len(actual) == len(expected), mart
        assert comparable(actual) == approximately(comparable(expected)), mart


SUB_2013_LIST_2015 = (
    "select area_id from marts.area_list_status "
    "where ruleset = 'sub_2013' and year = 2015 and status <> 'none' order by area_id"
)
SAFETY_2014_2015 = (
    "select year, sum(arson_incidents), sum(vandalism_cases), sum(vandalism_cost_dkk) "
    "from marts.area_safety where year in (2014, 2015) group by year order by year"
)


def test_key_figures_of_the_example(builds):
    """The 2015 list under sub_2013, arson 2014-2015 and vandalism 2015 (123 cases, DKK 228,968)."""
    warehouse, url, _ = builds
    for query in (SUB_2013_LIST_2015, SAFETY_2014_2015):
        assert postgres_query(url, query) == duckdb_query(warehouse, query)
    assert postgres_query(url, SUB_2013_LIST_2015) == [("MOTALAVEJ",), ("RINGPARKEN",)]
    (_, arson_2014, _, _), safety_2015 = postgres_query(url, SAFETY_2014_2015)
    assert arson_2014 == 31
    assert safety_2015 == (2015, 15, 123, Decimal("228968.00"))
