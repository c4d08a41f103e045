"""Loading source files into the warehouse's raw tables (pure: no Dagster imports).

A raw table mirrors the files in the sources directory, per file and by content hash:
unchanged files keep their rows, new or changed files replace theirs, vanished files lose
theirs. Files are parsed, validated and staged a chunk at a time beside the raw table, and
the swap is one transaction, so a bad file leaves the table exactly as it was.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import time
from collections.abc import Collection, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import duckdb

from boligsocial.configuration import config
from boligsocial.loading.reading import Chunk, read_chunks
from boligsocial.sources.catalog import LINEAGE_COLUMNS, SourceSpec, is_hidden
from boligsocial.sources.errors import SourceError, file_error, open_source_file

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Incoming:
    """What a validator sees of a load: which files are new, changed, kept or removed, and the
    connection (inside the load's transaction: raw holds the rows as they will be committed)."""

    files: list[str]  # every delivered file of the source
    kept_files: list[str]  # files whose rows already in raw stay as they are
    con: duckdb.DuckDBPyConnection
    loaded_files: list[str] = field(default_factory=list)  # new or changed
    removed_files: list[str] = field(default_factory=list)  # in raw, no longer delivered

    @property
    def changed(self) -> bool:
        return bool(self.loaded_files or self.removed_files)


class Validator(Protocol):
    """Checks a load in two parts. `rows` sees each chunk of the new or changed files' rows
    before it is inserted; `table` sees raw as the load would commit it (kept rows and every
    chunk), inside the transaction, or the unchanged table when no file changed. `table`
    raises to reject the load, which is then rolled back."""

    def rows(self, incoming: Incoming, rows: pd.DataFrame) -> None: ...

    def table(self, incoming: Incoming) -> None: ...


@dataclass
class IngestResult:
    table: str
    files: list[str]
    files_loaded: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    rows_loaded: int = 0
    row_count: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.files_loaded or self.files_removed)


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open_source_file(path) as handle:
        try:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        except OSError as error:
            raise file_error(str(path), error) from None
    return digest.hexdigest()


def _stat(path: str) -> os.stat_result:
    try:
        return os.stat(path)
    except OSError as error:  # gone, or unreachable, since the folder was listed
        raise file_error(path, error) from None


# A refresh does not hash every delivered file again (a national delivery has 88,000 ledger
# exports): a file's hash is reused from the last ingest when its size, mtime,
# ctime and inode are all unchanged (ctime cannot be set back by copying or `touch`), and only
# if it had not been modified within RACY_NS before that hash was taken: a file rewritten in
# the same timestamp tick on a coarse-clocked filesystem is hashed again (git's "racy" rule).
FILE_STATS = "pipeline.source_file_stats"
# Per source, when its raw table's rows last changed (a file new, changed or removed): dbt reads
# it as the source's freshness (`loaded_at_query`), so a refresh rebuilds only what depends on a
# changed source. max(_loaded_at) would not move when a removed file's rows are deleted.
SOURCE_CHANGES = "pipeline.source_changes"
STAGING_SCHEMA = "staging_load"  # a load's rows before the swap, a table per source
RACY_NS = 2_000_000_000


def file_hashes(
    spec: SourceSpec, files: dict[str, str], con: duckdb.DuckDBPyConnection
) -> dict[str, str]:
    """sha256 of each of the source's files (relative path -> path), reusing the hashes kept
    in FILE_STATS where the file's stat is unchanged; FILE_STATS is updated."""
    import pyarrow as pa

    con.execute("create schema if not exists pipeline")
    con.execute(
        f"create table if not exists {FILE_STATS} (source varchar, file varchar, size bigint, "
        "mtime_ns bigint, ctime_ns bigint, inode bigint, sha256 varchar, hashed_at_ns bigint)"
    )
    # Taken before any file is read: a hash counts as taken no later than this.
    now = time.time_ns()
    stats = [_stat(path) for path in files.values()]
    current = pa.table(
        {
            "file": pa.array(list(files), pa.string()),
            "size": pa.array([st.st_size for st in stats], pa.int64()),
            "mtime_ns": pa.array([st.st_mtime_ns for st in stats], pa.int64()),
            "ctime_ns": pa.array([st.st_ctime_ns for st in stats], pa.int64()),
            "inode": pa.array([st.st_ino for st in stats], pa.int64()),
        }
    )
    # The kept hashes still good, and the kept files no longer delivered, compared in DuckDB:
    # a Python loop over 88,000 kept rows took longer than the stat calls.
    con.register("current_file_stats", current)
    try:
        hashes = dict(
            con.execute(
                f"select c.file, k.sha256 from current_file_stats c join {FILE_STATS} k "
                "on k.source = ? and k.file = c.file and k.size = c.size "
                "and k.mtime_ns = c.mtime_ns and k.ctime_ns = c.ctime_ns and k.inode = c.inode "
                f"where greatest(c.mtime_ns, c.ctime_ns) < k.hashed_at_ns - {RACY_NS}",
                [spec.name],
            ).fetchall()
        )
        gone = [
            file
            for (file,) in con.execute(
                f"select file from {FILE_STATS} where source = ? "
                "and file not in (select file from current_file_stats) order by file",
                [spec.name],
            ).fetchall()
        ]
    finally:
        con.unregister("current_file_stats")
    fresh: list[tuple] = []
    for (relative, path), st in zip(files.items(), stats, strict=True):
        if relative not in hashes:
            hashes[relative] = file_sha256(path)
            stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            fresh.append((relative, *stat, hashes[relative], now))
    if fresh or gone:
        _keep_file_stats(con, spec.name, fresh, gone)
    return hashes


def ensure_source_changes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists pipeline")
    con.execute(
        f"create table if not exists {SOURCE_CHANGES} (source varchar primary key, "
        "changed_at timestamp not null)"
    )


def _mark_changed(con: duckdb.DuckDBPyConnection, source: str) -> None:
    ensure_source_changes(con)
    # The clock, not the load's `loaded_at`: the time must move on every change.
    con.execute(
        f"insert or replace into {SOURCE_CHANGES} values (?, ?)",
        [source, datetime.now(UTC).replace(tzinfo=None)],
    )


def _keep_file_stats(
    con: duckdb.DuckDBPyConnection, source: str, fresh: list[tuple], gone: list[str]
) -> None:
    import pyarrow as pa

    names = ["file", "size", "mtime_ns", "ctime_ns", "inode", "sha256", "hashed_at_ns"]
    replaced = [row[0] for row in fresh] + gone
    with transaction(con):
        con.execute(
            f"delete from {FILE_STATS} where source = ? and file in (select unnest(?))",
            [source, replaced],
        )
        if fresh:
            # Column by column: a dict per file is slow for a national delivery's 88,000.
            rows = pa.table(dict(zip(names, zip(*fresh, strict=True), strict=True)))
            con.register("fresh_file_stats", rows)
            con.execute(
                f"insert into {FILE_STATS} select ?, {', '.join(names)} from fresh_file_stats",
                [source],
            )
            con.unregister("fresh_file_stats")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit what the block does, or roll it all back if it raises."""
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()


def connect(path: Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the configured memory limit and threads; in memory without
    `path`."""
    if path is not None and not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    settings = config.load().limits.duckdb_settings()
    return duckdb.connect(str(path or ":memory:"), read_only=read_only, config=settings)


def _table_columns(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [spec.name],
    ).fetchall()


def ensure_table(con: duckdb.DuckDBPyConnection, spec: SourceSpec) -> None:
    """Create the raw table; recreate it (empty) when the catalog's columns changed."""
    con.execute("create schema if not exists raw")
    wanted = [(n, t.upper()) for n, t in (*spec.columns, *LINEAGE_COLUMNS)]
    existing = [(n, t.upper()) for n, t in _table_columns(con, spec)]
    if existing and existing != wanted:
        con.execute(f"drop table {spec.table}")
        existing = []
    if not existing:
        con.execute(f"create table {spec.table} ({spec.ddl_columns()})")


def source_files(spec: SourceSpec, sources_dir: Path) -> dict[str, Path]:
    """The spec's files (as `SourceSpec.files` finds them), keyed by their path relative to the
    sources directory, in path order."""
    return {relative: Path(path) for relative, path in _source_paths(spec, sources_dir).items()}


def _refuse_link(path: str, root: str) -> None:
    """The sources folder is a boundary: a symbolic link must stay inside it. Refused before
    the target is read, so nothing of the target is shown."""
    if os.path.commonpath([os.path.realpath(path), root]) != root:
        raise SourceError(path, None, None, kind="link_outside")


def delivered_paths(spec: SourceSpec, sources_dir: Path) -> dict[str, str]:
    """The spec's files as delivered (relative path -> path, in path order), hidden files left
    out; a symbolic link leading out of the sources folder, or a folder that cannot be listed,
    raises SourceError. Whatever matches a pattern is listed, not only regular files: a folder,
    a pipe or a broken link where a file is expected is the reader's error, not left out."""
    # Strings, not Paths, and one directory listing per pattern: pathlib's glob, relative_to
    # and ordering, and a stat per file to tell files from folders, cost seconds for the
    # ≈ 88,000 ledger exports of the whole country (a listing says which entries are files,
    # and gives their paths).
    root = str(sources_dir)
    real_root = os.path.realpath(root)
    paths_by_folder: dict[str, dict[str, str]] = {}
    for pattern in spec.patterns:
        # The catalog's patterns are "<folder>/<file-name pattern>": wildcards in names only.
        folder, _, name_pattern = pattern.rpartition("/")
        matches = re.compile(fnmatch.translate(name_pattern)).match
        directory = os.path.join(root, folder)
        if os.path.islink(directory):
            _refuse_link(directory, real_root)
        try:
            entries = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            raise file_error(directory, error) from None
        with entries:
            found = paths_by_folder.setdefault(folder, {})
            for entry in entries:
                if is_hidden(entry.name) or not matches(entry.name):
                    continue
                # A listing says which entries are links: only those cost a realpath.
                if entry.is_symlink():
                    _refuse_link(entry.path, real_root)
                found[entry.name] = entry.path
    files = {}
    for folder, paths in sorted(paths_by_folder.items()):
        prefix = f"{folder}/" if folder else ""
        files.update((prefix + name, paths[name]) for name in sorted(paths))
    return files


def _source_paths(spec: SourceSpec, sources_dir: Path) -> dict[str, str]:
    """`delivered_paths`, checked: a source must have its file, a single-file source one."""
    files = delivered_paths(spec, sources_dir)
    if not files and not spec.optional:
        file = str(sources_dir / spec.patterns[0])
        raise SourceError(
            file, None, None, kind="no_file", source=spec.name, patterns=spec.patterns
        )
    if spec.single_file and len(files) > 1:
        file = str(sources_dir / next(iter(files)))
        raise SourceError(
            file, None, None, kind="several_files", files=sorted(files), count=len(files)
        )
    return files


def _parsed_hashes(
    files: dict[str, str], hashes: dict[str, str], parsed: dict[str, str | None]
) -> dict[str, str]:
    """The hash of the bytes each file's rows were parsed from: the rows are stored under it.
    A file hashed before (to compare with what raw holds) must not have changed since, or a
    file rewritten between the two would keep half its rows under the whole file's hash, and
    never be loaded again."""
    found = {}
    for relative, path in files.items():
        found[relative] = parsed[relative]
        if found[relative] is None or hashes.get(relative, found[relative]) != found[relative]:
            raise SourceError(str(path), None, None, kind="file_changed")
    return found


def _chunks(files: dict[str, str], sizes: dict[str, int], chunk_bytes: int) -> list[Chunk]:
    """`files` in path order, a run of files of about `chunk_bytes` at a time."""
    chunks: list[Chunk] = []
    chunk: Chunk = {}
    size = 0
    for relative, path in files.items():
        chunk[relative] = path
        size += sizes[relative]
        if size >= chunk_bytes:
            chunks.append(chunk)
            chunk, size = {}, 0
    if chunk:
        chunks.append(chunk)
    return chunks


def ingest(
    spec: SourceSpec,
    sources_dir: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    validate: Validator | None = None,
    loaded_at: datetime | None = None,
    without: Collection[str] = (),
) -> IngestResult:
    """Mirror the source's delivered files in raw.<name>, in one transaction: the rows of
    removed and changed files go, the new and changed files' rows come in, read and checked a
    chunk of [limits] load_chunk_bytes at a time (memory follows the chunk, not the delivery),
    and the validator's table rules see the result before it is committed.

    `without` (relative paths) are left out as if they were not delivered: `boligsocial
    check` validates the rest of a source whose other files cannot be read."""
    files = {r: p for r, p in _source_paths(spec, sources_dir).items() if r not in without}
    ensure_table(con, spec)
    loaded = dict(
        con.execute(f"select distinct _source_file, _source_sha256 from {spec.table}").fetchall()
    )
    # Only a file raw holds needs its hash now, to tell a changed file from an unchanged one.
    # A new file is read anyway, and hashed from the bytes its rows are parsed from: hashing it
    # first read every file of a first national load twice.
    hashes = file_hashes(spec, {r: p for r, p in files.items() if r in loaded}, con)
    to_load = {r: p for r, p in files.items() if r not in loaded or loaded[r] != hashes[r]}
    removed = sorted(set(loaded) - set(files))
    result = IngestResult(spec.table, sorted(files), sorted(to_load), removed)
    kept = sorted(set(files) - set(to_load))
    incoming = Incoming(sorted(files), kept, con, sorted(to_load), removed)

    if not result.changed:
        # Every file as loaded (and validated) before: nothing to read or write. The validator
        # still sees the source, as reference data it is checked against may have changed.
        if validate is not None:
            validate.table(incoming)
        result.row_count = con.execute(f"select count(*) from {spec.table}").fetchone()[0]
        return result

    import pyarrow as pa

    now = (loaded_at or datetime.now(UTC)).replace(tzinfo=None)
    casts = ", ".join(f'cast(r."{n}" as {t})' for n, t in spec.columns)
    chunk_bytes = config.load().limits.load_chunk_bytes
    hashed_at = time.time_ns()  # before the files are read: see file_hashes
    stats = {relative: _stat(path) for relative, path in to_load.items()}
    new_stats: list[tuple] = []
    # The chunks go to a staging table, each committed on its own: DuckDB holds a transaction's
    # own appends in memory (120 MB more per 32 MB chunk of ledger exports), while one
    # INSERT ... SELECT of them all writes to disk as it goes. A staging table left by a killed
    # run is replaced by the next load of the source.
    staging = f"{STAGING_SCHEMA}.{spec.name}"
    con.execute(f"create schema if not exists {STAGING_SCHEMA}")
    con.execute(f"create or replace table {staging} as select * from {spec.table} limit 0")
    try:
        sizes = {relative: st.st_size for relative, st in stats.items()}
        # The next chunk is read by a second process while this one is validated and staged.
        chunks = read_chunks(spec, _chunks(to_load, sizes, chunk_bytes))
        with closing(chunks):
            for chunk, rows, parsed in chunks:
                digests = _parsed_hashes(chunk, hashes, parsed)
                if validate is not None:
                    validate.rows(incoming, rows)
                chunk_hashes = pa.table({"file": list(digests), "sha256": list(digests.values())})
                con.register("incoming_rows", rows)
                con.register("incoming_hashes", chunk_hashes)
                try:
                    con.execute(
                        f"insert into {staging} select {casts}, r._source_file, h.sha256, "
                        "cast(r._source_row as integer), ? from incoming_rows r "
                        "join incoming_hashes h on h.file = r._source_file",
                        [now],
                    )
                finally:
                    con.unregister("incoming_rows")
                    con.unregister("incoming_hashes")
                result.rows_loaded += len(rows)
                del rows
                for relative, digest in digests.items():
                    if relative not in hashes:
                        st = stats[relative]
                        stat = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
                        new_stats.append((relative, *stat, digest, hashed_at))
        with transaction(con):
            con.execute(
                f"delete from {spec.table} where _source_file in (select unnest(?))",
                [[*to_load, *removed]],
            )
            con.execute(f"insert into {spec.table} select * from {staging}")
            _mark_changed(con, spec.name)
            if validate is not None:
                validate.table(incoming)
    finally:
        con.execute(f"drop table if exists {staging}")
    if new_stats:
        _keep_file_stats(con, spec.name, new_stats, [])
    result.row_count = con.execute(f"select count(*) from {spec.table}").fetchone()[0]
    return result
