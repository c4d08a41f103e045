"""Publishing the marts for readers that must not hold a lock on the warehouse (no Dagster imports).

A refresh publishes one set: every artefact (Parquet files, the DuckDB copy, the board report)
is written into a new folder `sets/<run id>/` that no reader looks at, a `manifest.json` with
the run id and every file's SHA-256 is written last, and then the symlink `current` is
replaced by one pointing at the new set, with one atomic rename. A reader that resolves
`current` gets either the previous set or the new one, whole. The previous set stays until the
next publication starts, which first removes every set but the current one (also what an
interrupted publication left). `publish/<artefact>` are symlinks through `current`.

- DuckDB: the copy is written in storage version v1.0.0, so BI drivers built on older DuckDB
  releases can read it.
- PostgreSQL: schema `marts` with the warehouse's column names and types plus the table
  `marts.publication` (the run id), loaded into `marts_new` and swapped in with one
  transaction; readers see the old schema until it commits. Its errors never carry the URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import duckdb
import psycopg
from psycopg import sql

SCHEMA = "marts"
# Oldest DuckDB storage format that holds the marts' types: readable by DuckDB >= 1.0.
COPY_STORAGE_VERSION = "v1.0.0"
# How long the PostgreSQL swap waits for readers' locks on the old tables before failing.
POSTGRES_LOCK_TIMEOUT = "60s"
FETCH_ROWS = 10_000
SETS = "sets"
CURRENT = "current"
MANIFEST = "manifest.json"
# The table in the published schema that names the set its marts belong to.
PUBLICATION_TABLE = "publication"


class PublicationError(RuntimeError):
    """A publication failed; its message names the path or the (redacted) database."""


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
    """Flush a file (or a folder's entries) to disk before the switch makes it visible."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_set(publish_dir: Path) -> Path | None:
    """The set readers see now, or None before the first publication."""
    link = publish_dir / CURRENT
    return (publish_dir / os.readlink(link)) if link.is_symlink() else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def begin_set(publish_dir: Path, run_id: str) -> Path:
    """A new empty set folder for `run_id`, after removing every set but the current one and
    whatever an interrupted publication left (publications never overlap)."""
    sets = publish_dir / SETS
    sets.mkdir(parents=True, exist_ok=True)
    current = current_set(publish_dir)
    if current is not None and current.name == run_id:
        raise PublicationError(f"{current}: run {run_id} is already the published set")
    for entry in sets.iterdir():
        if current is None or entry.name != current.name:
            _remove(entry)
    for leftover in publish_dir.glob(f".{CURRENT}.tmp-*"):
        leftover.unlink()
    staged = sets / run_id
    staged.mkdir()
    return staged


def staged_set(publish_dir: Path, run_ids: Iterable[str]) -> Path:
    """The set staged by the first of `run_ids` that has one (a re-executed run finds the set
    of the run it re-executes); never the current set."""
    current = current_set(publish_dir)
    for run_id in run_ids:
        candidate = publish_dir / SETS / run_id
        if candidate.is_dir() and (current is None or candidate.name != current.name):
            return candidate
    raise PublicationError(
        f"{publish_dir / SETS}: no set staged by run {' or '.join(run_ids)}: publish/marts "
        "must be materialised in the same run"
    )


def _failed(path: Path, error: Exception) -> PublicationError:
    """The error on one line, its cause first: DuckDB reports a failed checkpoint (a full
    disk, typically) as a failed DETACH, with the I/O error at the end."""
    reason = " ".join(str(error).split())
    if "Original error:" in reason:
        reason = reason.rsplit("Original error:", 1)[1].strip()
    return PublicationError(f"publishing {path} failed: {reason}")


def write_parquet(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], directory: Path
) -> list[PublishedFile]:
    """Write `<directory>/<mart>.parquet` for every mart into a new folder of a staged set."""
    directory.mkdir()
    published = []
    for mart in marts:
        path = directory / f"{mart}.parquet"
        try:
            con.execute(
                f"copy (select * from {_mart(mart)} order by all) to {_sql_string(path)} "
                "(format parquet, compression zstd)"
            )
            _fsync(path)
        except (duckdb.IOException, OSError) as error:
            raise _failed(path, error) from error
        published.append(PublishedFile(path, path.stat().st_size, {mart: row_count(con, mart)}))
    return published


def write_duckdb_copy(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], target: Path
) -> PublishedFile:
    """Copy the marts into the new DuckDB file `target` (schema `marts`) of a staged set."""
    # The same marts make the same bytes: the alias is stored in the file, rows are sorted, and
    # FSST is off (whether a column gets FSST or dictionary compression varies between runs).
    alias = "publish_copy"
    con.execute("set disabled_compression_methods = 'fsst'")
    # The warehouse connection may be read-only; the copy is attached read-write explicitly.
    try:
        con.execute(
            f"attach {_sql_string(target)} as {alias} "
            f"(read_only false, storage_version '{COPY_STORAGE_VERSION}')"
        )
        try:
            con.execute(f"create schema {alias}.{SCHEMA}")
            rows = {}
            for mart in marts:
                con.execute(
                    f'create table {alias}.{SCHEMA}."{mart}" as from {_mart(mart)} order by all'
                )
                rows[mart] = row_count(con, mart)
        except BaseException:
            # The first error is the one to report: a second one from detaching would hide it.
            with contextlib.suppress(duckdb.Error):
                con.execute(f"detach database if exists {alias}")
            raise
        # Detaching checkpoints the copy into its single file (no WAL is left beside it); if
        # the checkpoint fails, the database is detached all the same.
        con.execute(f"detach {alias}")
        _fsync(target)
    except (duckdb.IOException, OSError) as error:
        raise _failed(target, error) from error
    finally:
        con.execute("reset disabled_compression_methods")
    return PublishedFile(target, target.stat().st_size, rows)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(staged: Path, run_id: str, postgres: str | None) -> dict:
    """Write `manifest.json` (run id, time, every file's size and SHA-256) into the set."""
    files = sorted(p for p in staged.rglob("*") if p.is_file() and p.name != MANIFEST)
    manifest = {
        "run_id": run_id,
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "postgres": postgres,
        "files": {
            str(p.relative_to(staged)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in files
        },
    }
    path = staged / MANIFEST
    try:
        path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _fsync(path)
        for folder in {p.parent for p in files} | {staged}:
            _fsync(folder)
    except OSError as error:
        raise _failed(path, error) from error
    return manifest


def switch_to(publish_dir: Path, staged: Path, artefacts: Sequence[str]) -> None:
    """Make `staged` the current set with one atomic rename of the `current` symlink, and let
    `publish/<artefact>` lead through `current` (replacing the files of the old layout)."""
    link = publish_dir / f".{CURRENT}.tmp-{uuid.uuid4().hex}"
    try:
        link.symlink_to(staged.relative_to(publish_dir))
        os.replace(link, publish_dir / CURRENT)
        _fsync(publish_dir)
        for name in artefacts:
            stable = publish_dir / name
            if not stable.is_symlink():
                if stable.exists():
                    _remove(stable)
                stable.symlink_to(Path(CURRENT) / name)
    except OSError as error:
        link.unlink(missing_ok=True)
        raise _failed(publish_dir / CURRENT, error) from error


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


def _publish_postgres(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], url: str, schema: str, run_id: str
) -> dict[str, int]:
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
            pg.execute(
                sql.SQL(
                    "create table {}.{} as select %s::text as run_id, now() as published_at"
                ).format(sql.Identifier(staging), sql.Identifier(PUBLICATION_TABLE)),
                [run_id],
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


def publish_postgres(
    con: duckdb.DuckDBPyConnection,
    marts: Sequence[str],
    url: str,
    *,
    run_id: str,
    schema: str = SCHEMA,
) -> dict[str, int]:
    """Replace PostgreSQL schema `schema` with the marts and the table `publication` holding
    `run_id`; returns the rows copied per mart.

    The tables are loaded into `<schema>_new` first; one transaction then drops the old
    schema's tables and schema (without CASCADE: objects of others that depend on them stop
    the publication rather than vanish) and renames the new schema, carrying the grants over.
    Any failure is a PublicationError whose text and traceback hold no part of the URL's
    secret (psycopg quotes the connection string in some of its errors).
    """
    try:
        return _publish_postgres(con, marts, url, schema, run_id)
    except Exception as error:  # every error may quote the URL
        message = redact_secrets(str(error).strip(), url)
        kind = type(error).__name__
    raise PublicationError(f"PostgreSQL {redact_url(url)}: {kind}: {message}") from None


def redact_url(url: str) -> str:
    """The connection URL without its password, for logs and metadata."""
    with contextlib.suppress(Exception):
        info = psycopg.conninfo.conninfo_to_dict(url)
        host = info.get("host", "localhost")
        port = info.get("port", "5432")
        return f"postgresql://{info.get('user', '')}@{host}:{port}/{info.get('dbname', '')}"
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.username or ''}@{parts.hostname or ''}"
    return "postgresql://…"


def redact_secrets(text: str, url: str) -> str:
    """`text` with the URL and its password (as written, and decoded) replaced."""
    secrets = {url}
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
        if password:
            secrets |= {password, unquote(password)}
    with contextlib.suppress(Exception):
        password = psycopg.conninfo.conninfo_to_dict(url).get("password")
        if password:
            secrets.add(password)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
