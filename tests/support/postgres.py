"""The local PostgreSQL (127.0.0.1:5432, trust, database `test`) for the tests that need one.

Where it cannot be reached, such a test skips with the reason; in CI (CI=true, where .ci/run
starts PostgreSQL) a missing server is a failure instead: a green CI must have run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

SERVER = {
    "host": os.environ.get("BOLIGSOCIAL_PG_HOST", "127.0.0.1"),
    "port": os.environ.get("BOLIGSOCIAL_PG_PORT", "5432"),
    "user": os.environ.get("BOLIGSOCIAL_PG_USER", "postgres"),
    "password": os.environ.get("BOLIGSOCIAL_PG_PASSWORD", ""),
}
# The database the tests connect to in order to create (and drop) their own.
MAINTENANCE_DB = os.environ.get("BOLIGSOCIAL_PG_DATABASE", "test")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def unreachable(conninfo: str | None = None) -> str | None:
    """Why PostgreSQL cannot be reached (None when it can)."""
    conninfo = conninfo or psycopg.conninfo.make_conninfo(dbname=MAINTENANCE_DB, **SERVER)
    try:
        with psycopg.connect(conninfo, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        where = f"{SERVER['host']}:{SERVER['port']}"
        return f"no PostgreSQL at {where} ({str(error).strip().splitlines()[0]})"


def required(reason: str | None) -> list[pytest.MarkDecorator]:
    """A test module's marks: the slow tier, and skip it for `reason` (None: PostgreSQL is
    there). In CI there is no skipping: the module fails to load, naming the reason."""
    if reason is None:
        return [pytest.mark.slow]
    if in_ci():
        pytest.fail(f"CI=true and {reason}: .ci/run must start PostgreSQL", pytrace=False)
    return [pytest.mark.slow, pytest.mark.skip(reason=reason)]


@contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new, empty database `<prefix>_<random>`, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = psycopg.conninfo.make_conninfo(dbname=MAINTENANCE_DB, **SERVER)
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'create database "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f'drop database if exists "{name}" with (force)')
