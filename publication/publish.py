"""Publishing the marts for readers that must not hold a lock on the warehouse (no Dagster imports).

- Parquet: one file per mart in a folder. The new files are written into a temporary folder
  next to it, which is then swapped with the published folder in one atomic rename (Linux
  `renameat2(RENAME_EXCHANGE)`; elsewhere each file is replaced with its own atomic rename).
  A reader opening a file at any moment gets either the old or the new complete file.
- DuckDB: a read-only copy of the marts, written aside and moved over the published file with
  `os.replace`. A reader holding the old file open keeps reading the old file (its inode);
  a new connection sees the new copy. Written in storage version v1.0.0, so BI drivers built
  on older DuckDB releases can read it.
- PostgreSQL: schema `marts` with the warehouse's column names and types, loaded into
  `marts_new` and swapped in with one transaction; readers see the old schema until it commits.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

SCHEMA = "marts"
# Oldest DuckDB storage format that holds the marts' types: readable by DuckDB >= 1.0.
COPY_STORAGE_VERSION = "v1.0.0"
# How long the PostgreSQL swap waits for readers' locks on the old tables before failing.
POSTGRES_LOCK_TIMEOUT = "60s"
FETCH_ROWS = 10_000


@dataclass(frozen=True)
class PublishedFile:
    path: Path
    bytes: int
    rows: dict[str, int]  # mart -> row count


def _sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _mart(name: str) -> str:
    return f'{SCHEMA}."{name}"'


def row_count(con: duckdb.DuckDBPyConnection, mart: str) -> int:
    return con.execute(f"select count(*) from {_mart(mart)}").fetchone()[0]


def _fsync(path: Path) -> None:
    """Flush a file to disk before renaming it into place (no empty file after a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _aside(target: Path, purpose: str) -> Path:
    """A fresh path next to target (same file system, so renames are atomic), hidden from globs."""
    return target.with_name(f".{target.name}.{purpose}-{uuid.uuid4().hex}")


def remove_leftovers(target: Path) -> None:
    """Remove what an interrupted publication left next to target (publications never overlap)."""
    for leftover in target.parent.glob(f".{target.name}.*-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange):
        error = ctypes.get_errno()
        if error in (errno.ENOSYS, errno.EINVAL):  # old kernel or file system without support
            return False
        raise OSError(error, os.strerror(error), str(first), None, str(second))
    return True


def swap_directory(new: Path, target: Path) -> None:
    """Put the directory `new` in place of `target`; afterwards `new` holds what `target` held."""
    if not target.exists():
        new.rename(target)
        return
    if _exchange(new, target):
        return
    # Per-file fallback: every file is still replaced atomically, and none is ever missing.
    incoming = {path.name for path in new.iterdir()}
    for name in sorted(incoming):
        os.replace(new / name, target / name)
    for stale in target.iterdir():
        if stale.name not in incoming:
            stale.unlink()


def publish_parquet(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], directory: Path
) -> list[PublishedFile]:
    """Write `<directory>/<mart>.parquet` for every mart, replacing the folder atomically."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(directory)
    staging = _aside(directory, "tmp")
    staging.mkdir()
    rows = {}
    try:
        for mart in marts:
            path = staging / f"{mart}.parquet"
            con.execute(
                f"copy (select * from {_mart(mart)}) to {_sql_string(path)} "
                "(format parquet, compression zstd)"
            )
            _fsync(path)
            rows[mart] = row_count(con, mart)
        swap_directory(staging, directory)
    finally:
        # After the swap this is the previous publication, kept until the swap was done.
        shutil.rmtree(staging, ignore_errors=True)
    return [
        PublishedFile(path, path.stat().st_size, {mart: rows[mart]})
        for mart in marts
        for path in [directory / f"{mart}.parquet"]
    ]


def publish_duckdb_copy(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], target: Path
) -> PublishedFile:
    """Copy the marts into the DuckDB file `target` (schema `marts`), replacing it atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    aside = _aside(target, "tmp")
    alias = f"publish_{uuid.uuid4().hex}"
    # The warehouse connection may be read-only; the copy is attached read-write explicitly.
    con.execute(
        f"attach {_sql_string(aside)} as {alias} "
        f"(read_only false, storage_version '{COPY_STORAGE_VERSION}')"
    )
    try:
        attached = True
        con.execute(f"create schema {alias}.{SCHEMA}")
        rows = {}
        for mart in marts:
            con.execute(f'create table {alias}.{SCHEMA}."{mart}" as select * from {_mart(mart)}')
            rows[mart] = row_count(con, mart)
        # Detaching checkpoints the copy into its single file (no WAL is left beside it).
        con.execute(f"detach {alias}")
        attached = False
        _fsync(aside)
        os.replace(aside, target)
    finally:
        if attached:
            con.execute(f"detach {alias}")
        for leftover in (aside, aside.with_name(aside.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return PublishedFile(target, target.stat().st_size, rows)


# DuckDB type (information_schema.columns.data_type) -> PostgreSQL type; DECIMAL(p,s) apart.
POSTGRES_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "UTINYINT": "smallint",
    "INTEGER": "integer",
    "USMALLINT": "integer",
    "BIGINT": "bigint",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(39,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "UUID": "uuid",
}


def postgres_type(duckdb_type: str) -> str:
    upper = duckdb_type.upper()
    if upper.startswith("DECIMAL("):
        return "numeric" + upper.removeprefix("DECIMAL").replace(" ", "")
    try:
        return POSTGRES_TYPES[upper]
    except KeyError:
        raise ValueError(f"no PostgreSQL type for DuckDB type {duckdb_type}") from None


def mart_columns(con: duckdb.DuckDBPyConnection, mart: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a mart, in table order."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [SCHEMA, mart],
    ).fetchall()
    if not columns:
        raise ValueError(f"mart {SCHEMA}.{mart} does not exist in the warehouse")
    return columns


def _postgres_ddl(con: duckdb.DuckDBPyConnection, schema: str, mart: str) -> sql.Composed:
    columns = []
    for name, duckdb_type in mart_columns(con, mart):
        try:
            pg_type = postgres_type(duckdb_type)
        except ValueError as error:
            raise ValueError(f"{SCHEMA}.{mart}.{name}: {error}") from None
        columns.append(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type)))
    return sql.SQL("create table {}.{} ({})").format(
        sql.Identifier(schema), sql.Identifier(mart), sql.SQL(", ").join(columns)
    )


def copy_to_postgres(
    con: duckdb.DuckDBPyConnection, query: str, pg: psycopg.Connection, schema: str, table: str
) -> int:
    """COPY the rows of a DuckDB query into an existing PostgreSQL table; returns the count."""
    result = con.execute(query)
    copied = 0
    statement = sql.SQL("copy {}.{} from stdin").format(
        sql.Identifier(schema), sql.Identifier(table)
    )
    with pg.cursor() as cursor, cursor.copy(statement) as copy:
        while batch := result.fetchmany(FETCH_ROWS):
            for row in batch:
                copy.write_row(row)
            copied += len(batch)
    return copied


def _carry_grants(pg: psycopg.Connection, old: str, new: str) -> None:
    """Give the new schema and its tables the privileges readers had on the old ones."""
    schema_grants = pg.execute(
        "select acl.privilege_type, coalesce(r.rolname, 'public') "
        "from pg_namespace n, aclexplode(n.nspacl) acl "
        "left join pg_roles r on r.oid = acl.grantee where n.nspname = %s",
        [old],
    ).fetchall()
    for privilege, role in schema_grants:
        grantee = sql.SQL("public") if role == "public" else sql.Identifier(role)
        pg.execute(
            sql.SQL("grant {} on schema {} to {}").format(
                sql.SQL(privilege), sql.Identifier(new), grantee
            )
        )
    table_grants = pg.execute(
        "select c.relname, acl.privilege_type, coalesce(r.rolname, 'public') "
        "from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) acl "
        "left join pg_roles r on r.oid = acl.grantee "
        "where n.nspname = %s and exists ("
        "  select 1 from pg_class c2 join pg_namespace n2 on n2.oid = c2.relnamespace"
        "  where n2.nspname = %s and c2.relname = c.relname)",
        [old, new],
    ).fetchall()
    for table, privilege, role in table_grants:
        grantee = sql.SQL("public") if role == "public" else sql.Identifier(role)
        pg.execute(
            sql.SQL("grant {} on {}.{} to {}").format(
                sql.SQL(privilege), sql.Identifier(new), sql.Identifier(table), grantee
            )
        )


def publish_postgres(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], url: str, *, schema: str = SCHEMA
) -> dict[str, int]:
    """Replace PostgreSQL schema `schema` with the marts; returns the rows copied per mart.

    The tables are loaded into `<schema>_new` first; one transaction then drops the old
    schema's tables and schema (without CASCADE: objects of others that depend on them stop
    the publication rather than vanish) and renames the new schema, carrying the grants over.
    """
    staging = f"{schema}_new"
    rows = {}
    with psycopg.connect(url, autocommit=True) as pg:
        with pg.transaction():
            pg.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(staging)))
            pg.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
            for mart in marts:
                pg.execute(_postgres_ddl(con, staging, mart))
                rows[mart] = copy_to_postgres(
                    con, f"select * from {_mart(mart)}", pg, staging, mart
                )
        with pg.transaction():
            pg.execute(f"set local lock_timeout = '{POSTGRES_LOCK_TIMEOUT}'")
            exists = pg.execute(
                "select 1 from pg_namespace where nspname = %s", [schema]
            ).fetchone()
            if exists:
                _carry_grants(pg, schema, staging)
                old_tables = pg.execute(
                    "select tablename from pg_tables where schemaname = %s", [schema]
                ).fetchall()
                for (table,) in old_tables:
                    pg.execute(
                        sql.SQL("drop table {}.{}").format(
                            sql.Identifier(schema), sql.Identifier(table)
                        )
                    )
                pg.execute(sql.SQL("drop schema {}").format(sql.Identifier(schema)))
            pg.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(staging), sql.Identifier(schema)
                )
            )
    return rows


def redact_url(url: str) -> str:
    """The connection URL without its password, for logs and metadata."""
    with contextlib.suppress(Exception):
        info = psycopg.conninfo.conninfo_to_dict(url)
        host = info.get("host", "localhost")
        port = info.get("port", "5432")
        return f"postgresql://{info.get('user', '')}@{host}:{port}/{info.get('dbname', '')}"
    return "postgresql://…"
