"""Publishing the marts for readers that must not hold a lock on the warehouse (no Dagster imports).

A refresh publishes one set: every artefact (Parquet files, the DuckDB copy, the board report)
is written into a new folder `sets/<run id>/` that no reader looks at, a `manifest.json` with
the run id and every file's SHA-256 is written last, and then the symlink `current` is
replaced by one pointing at the new set, with one atomic rename. A reader that resolves
`current` gets either the previous set or the new one, whole. The previous set stays until the
next publication starts, which first removes every set but the current one (also what an
interrupted publication left). `publish/<artefact>` are symlinks through `current`.

The publication removes only what it can prove it wrote, and starts only where it owns what is
there (the folder may be a share that other teams also use):
- the folder: its record `.boligsocial-publication.json` names every set it made, written
  before the set's folder is; `current`, `publish/<artefact>` and the temporary link are its
  symlinks by their form; anything else in the folder (or a set it did not record) stops the
  publication before it writes or removes anything, with a sentence naming what and where.
  Removing never follows a symbolic link. A folder of the layout before the record adopts the
  sets whose manifest names them (their run id).

- DuckDB: the copy is written in storage version v1.0.0, so BI drivers built on older DuckDB
  releases can read it.
- PostgreSQL: schema `marts` with the warehouse's column names and types plus the table
  `marts.publication` (the run id), loaded into `marts_new` and swapped in with one
  transaction; readers see the old schema until it commits. Its errors never carry the URL.
  The schemas and tables it makes carry the comment OWNER_MARK (readers see it as their
  description); it drops only those, and does not start while either schema holds anything
  else, or exists without the mark (a schema of the version before the mark is adopted when it
  holds its `publication` table and marts only). Whoever hands a schema over to it says so with
  `COMMENT ON SCHEMA ... IS 'boligsocial publication'`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
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
# The publication folder's record of the sets it made (the proof that it may remove them).
RECORD = ".boligsocial-publication.json"
_SWITCHING = f".{CURRENT}.tmp-"  # the link made beside `current` and renamed over it
# The start of the comment on every PostgreSQL schema and table the publication makes.
OWNER_MARK = "boligsocial publication"


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
    """Remove a path the publication wrote, without following a symbolic link: a link is
    unlinked, and rmtree does not descend into one (shutil.rmtree.avoids_symlink_attacks)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _recorded_sets(publish_dir: Path) -> list[str] | None:
    """The sets the record names, or None without a record."""
    try:
        record = json.loads((publish_dir / RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise PublicationError(f"{publish_dir / RECORD}: unreadable ({error})") from error
    return [str(name) for name in record.get("sets", [])]


def _write_record(publish_dir: Path, sets: Iterable[str]) -> None:
    record = {"written_by": OWNER_MARK, "sets": sorted(set(sets))}
    temporary = publish_dir / f"{RECORD}.tmp"
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    _fsync(temporary)
    os.replace(temporary, publish_dir / RECORD)
    _fsync(publish_dir)


def _manifest_names(folder: Path) -> bool:
    """Whether a set of the layout before the record is the publication's: a folder (not a
    link) whose manifest names it."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["run_id"] == folder.name
    except (OSError, ValueError, KeyError, TypeError):
        return False


def owned_sets(publish_dir: Path) -> set[str]:
    """The sets the publication made: those its record names (without a record, those whose
    manifest names them)."""
    recorded = _recorded_sets(publish_dir)
    if recorded is not None:
        return set(recorded)
    sets = publish_dir / SETS
    if sets.is_symlink() or not sets.is_dir():
        return set()
    return {entry.name for entry in sets.iterdir() if _manifest_names(entry)}


def _links_to(path: Path, target: Path) -> bool:
    return path.is_symlink() and Path(os.readlink(path)) == target


def foreign_entries(publish_dir: Path, keep: Iterable[Path] = ()) -> list[str]:
    """What the publication folder holds that the publication did not write (paths relative to
    it); `keep`: the pipeline's other folders in it (the GX Data Docs site), left alone."""
    if not publish_dir.exists():
        return []
    owned = owned_sets(publish_dir)
    kept = {Path(k).resolve() for k in keep}
    foreign = []
    for entry in sorted(publish_dir.iterdir()):
        name = entry.name
        if name in (RECORD, f"{RECORD}.tmp") and not entry.is_symlink() and entry.is_file():
            continue
        if name == SETS and entry.is_dir() and not entry.is_symlink():
            foreign += [f"{SETS}/{s.name}" for s in sorted(entry.iterdir()) if s.name not in owned]
            continue
        if name == CURRENT or name.startswith(_SWITCHING):
            if entry.is_symlink() and os.readlink(entry) in {f"{SETS}/{s}" for s in owned}:
                continue
        elif _links_to(entry, Path(CURRENT) / name) or entry.resolve() in kept:
            continue
        foreign.append(name + ("/" if entry.is_dir() and not entry.is_symlink() else ""))
    return foreign


def _refuse_foreign_entries(publish_dir: Path, keep: Iterable[Path]) -> None:
    foreign = foreign_entries(publish_dir, keep)
    if foreign:
        shown = ", ".join(foreign[:10]) + (
            f" and {len(foreign) - 10} more" if len(foreign) > 10 else ""
        )
        raise PublicationError(
            f"{publish_dir} holds what the publication did not write: {shown}. It removes only "
            "what it wrote, so it does not publish there: move those away, or set "
            "BOLIGSOCIAL_PUBLISH_DIR to a folder of its own"
        )


def begin_set(publish_dir: Path, run_id: str, keep: Iterable[Path] = ()) -> Path:
    """A new empty set folder for `run_id`, after removing every set but the current one and
    whatever an interrupted publication left (publications never overlap). Refuses (nothing
    written or removed) when the folder holds anything the publication did not write
    (foreign_entries; `keep`: the pipeline's other folders in it)."""
    _refuse_foreign_entries(publish_dir, keep)
    sets = publish_dir / SETS
    sets.mkdir(parents=True, exist_ok=True)
    current = current_set(publish_dir)
    if current is not None and current.name == run_id:
        raise PublicationError(f"{current}: run {run_id} is already the published set")
    owned = owned_sets(publish_dir)
    for leftover in publish_dir.glob(f"{_SWITCHING}*"):
        leftover.unlink()  # a link foreign_entries proved the publication's
    for name in sorted(owned):
        if current is None or name != current.name:
            _remove(sets / name)
    kept = {current.name} if current is not None else set()
    # Recorded before the folder exists: an interrupted publication's set is provably its own.
    _write_record(publish_dir, kept | {run_id})
    staged = sets / run_id
    staged.mkdir()
    return staged


def staged_set(publish_dir: Path, run_ids: Iterable[str]) -> Path:
    """The set staged by the first of `run_ids` that has one (a re-executed run finds the set
    of the run it re-executes); never the current set, never one the publication did not
    record."""
    current = current_set(publish_dir)
    owned = owned_sets(publish_dir)
    for run_id in run_ids:
        candidate = publish_dir / SETS / run_id
        if (
            run_id in owned
            and candidate.is_dir()
            and not candidate.is_symlink()
            and (current is None or candidate.name != current.name)
        ):
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
    `publish/<artefact>` lead through `current` (an artefact path that is anything else was not
    written by the publication: it is named, not replaced)."""
    link = publish_dir / f"{_SWITCHING}{staged.name}"
    try:
        link.unlink(missing_ok=True)  # left by an interrupted switch of this set
        link.symlink_to(staged.relative_to(publish_dir))
        os.replace(link, publish_dir / CURRENT)
        _fsync(publish_dir)
        for name in artefacts:
            stable = publish_dir / name
            if _links_to(stable, Path(CURRENT) / name):
                continue
            if stable.exists() or stable.is_symlink():
                raise PublicationError(
                    f"{stable}: not written by the publication, so not replaced by a link to "
                    f"{CURRENT}/{name}; the set is published under {publish_dir / CURRENT}"
                )
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


# What a schema holds besides tables: these the publication never makes.
_SCHEMA_OBJECTS = """
select c.relname, c.relkind::text, coalesce(obj_description(c.oid, 'pg_class'), '')
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %(schema)s and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S', 'c')
union all
select p.proname || '()', 'function', ''
from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = %(schema)s
union all
select t.typname, 'type', ''
from pg_type t join pg_namespace n on n.oid = t.typnamespace
where n.nspname = %(schema)s and t.typtype in ('b', 'd', 'e', 'r', 'm') and t.typcategory <> 'A'
"""


def _owned_tables(
    pg: psycopg.Connection, schema: str, marts: Sequence[str]
) -> tuple[list[str] | None, list[str]]:
    """(the tables of `schema` the publication made, or None when the schema does not exist;
    what else it holds, as "<schema>.<name>", or the schema itself when it is not one the
    publication made)."""
    found = pg.execute(
        "select coalesce(obj_description(oid, 'pg_namespace'), '') from pg_namespace "
        "where nspname = %s",
        [schema],
    ).fetchone()
    if found is None:
        return None, []
    objects = pg.execute(_SCHEMA_OBJECTS, {"schema": schema}).fetchall()
    if found[0].startswith(OWNER_MARK):
        owned = [
            n for n, kind, comment in objects if kind == "r" and comment.startswith(OWNER_MARK)
        ]
    else:
        # The layout before the mark: its publication table and marts, nothing else.
        names = {n for n, kind, _ in objects if kind == "r"}
        ours = PUBLICATION_TABLE in names and all(
            kind == "r" and n in {*marts, PUBLICATION_TABLE} for n, kind, _ in objects
        )
        if not ours:
            others = [f"{schema}.{n}" for n, *_ in objects]
            return [], [f"schema {schema} (not made by the publication)", *others]
        owned = sorted(names)
    return owned, [f"{schema}.{n}" for n, *_ in objects if n not in owned]


def _refuse_foreign_objects(
    pg: psycopg.Connection, schemas: Sequence[str], marts: Sequence[str]
) -> None:
    foreign = [item for schema in schemas for item in _owned_tables(pg, schema, marts)[1]]
    if foreign:
        raise PublicationError(
            f"PostgreSQL holds what the publication did not make: {', '.join(foreign)}. It "
            "drops only what it made, so it does not publish there: move those away, or "
            f"publish to another schema (a schema handed over to it: COMMENT ON SCHEMA ... IS "
            f"'{OWNER_MARK}')"
        )


def _drop_owned(pg: psycopg.Connection, schema: str, marts: Sequence[str]) -> None:
    """Drop the publication's tables of `schema` and the schema, each without CASCADE: an object
    of others that depends on them, or was put in the schema, stops the drop."""
    owned, _ = _owned_tables(pg, schema, marts)
    for table in owned or []:
        pg.execute(
            sql.SQL("drop table {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        )
    if owned is not None:
        pg.execute(sql.SQL("drop schema {}").format(sql.Identifier(schema)))


def _comment(pg: psycopg.Connection, kind: str, name: sql.Composable, run_id: str) -> None:
    text = f"{OWNER_MARK}: run {run_id}; replaced by the next publication"
    pg.execute(sql.SQL("comment on {} {} is {}").format(sql.SQL(kind), name, sql.Literal(text)))


def _publish_postgres(
    con: duckdb.DuckDBPyConnection, marts: Sequence[str], url: str, schema: str, run_id: str
) -> dict[str, int]:
    staging = f"{schema}_new"
    rows = {}
    with psycopg.connect(url, autocommit=True) as pg:
        _refuse_foreign_objects(pg, [schema, staging], marts)  # before anything is written
        with pg.transaction():
            _drop_owned(pg, staging, marts)  # left by a publication whose swap failed
            pg.execute(sql.SQL("create schema {}").format(sql.Identifier(staging)))
            _comment(pg, "schema", sql.Identifier(staging), run_id)
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
            for table in [*marts, PUBLICATION_TABLE]:
                name = sql.SQL("{}.{}").format(sql.Identifier(staging), sql.Identifier(table))
                _comment(pg, "table", name, run_id)
        with pg.transaction():
            pg.execute(f"set local lock_timeout = '{POSTGRES_LOCK_TIMEOUT}'")
            _refuse_foreign_objects(pg, [schema], marts)  # again: it may have changed since
            if _owned_tables(pg, schema, marts)[0] is not None:
                _carry_grants(pg, schema, staging)
                _drop_owned(pg, schema, marts)
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
    Nothing starts while either schema holds what the publication did not make (OWNER_MARK).
    Any failure is a PublicationError whose text and traceback hold no part of the URL's
    secret (psycopg quotes the connection string in some of its errors).
    """
    try:
        return _publish_postgres(con, marts, url, schema, run_id)
    except Exception as error:  # every error may quote the URL
        message = redact_secrets(str(error).strip(), url)
        kind = "" if isinstance(error, PublicationError) else f"{type(error).__name__}: "
    raise PublicationError(f"PostgreSQL {redact_url(url)}: {kind}{message}") from None


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
