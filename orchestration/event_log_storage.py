"""Dagster's SQLite event log, with its database connections kept open (dagster.yaml).

The stock `SqliteEventLogStorage` creates a SQLAlchemy engine, opens a connection and disposes
of both for every read and write, and an asset check event takes three of them (the run's
database, the cross-run index twice). A refresh stores about 800 events, 365 of them the
planned materialisations and checks before its first step: at about 14 ms per event that was
5 s before any step ran, and 8 s of a 40 s incremental national refresh (docs/scaling.md).

This subclass keeps one engine per database file and reuses its pooled connection. Nothing
else changes: the same files, schema, transactions and locking (the storage's own lock still
serialises its connections), so a stock instance reads everything it writes, and the database
is still SQLite's, shared safely with the UI and the daemon. The engines are per process
(dropped in a forked child) and bounded, since the UI reads the databases of many runs; they
are disposed of before `wipe` deletes the files they point at.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine

# The cross-run index, the running run's database and a few runs the UI shows at once.
KEPT_ENGINES = 8


def default_base_dir() -> str:
    """Where Dagster keeps the event log when dagster.yaml names no storage."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("DAGSTER_HOME is not set: it holds the Dagster instance (dagster.yaml)")
    return os.path.join(home, "history", "runs")


class KeptConnectionsSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that keeps one engine, and its connection, per database file.

    dagster.yaml::

        event_log_storage:
          module: orchestration.event_log_storage
          class: KeptConnectionsSqliteEventLogStorage
          config:
            base_dir: /optional/path  # default: $DAGSTER_HOME/history/runs, Dagster's own
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # Set first: the parent's constructor already connects (to create the index).
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        super().__init__(base_dir, inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        base_dir = config_value.get("base_dir") or default_base_dir()
        return cls(base_dir=base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine, created (and its database initialised) on first use."""
        if self._engines_pid != os.getpid():  # a forked child must not share the parent's
            self._engines = OrderedDict()
            self._engines_pid = os.getpid()
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            # One connection is kept; initialising a database takes a second one for a moment.
            pool_size=1,
            max_overflow=4,
        )
        if shard not in self._initialized_dbs:
            self._initdb(engine)
            self._initialized_dbs.add(shard)
        self._engines[shard] = engine
        while len(self._engines) > KEPT_ENGINES:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _dispose_engines(self) -> None:
        with self._db_lock:
            while self._engines:
                _, engine = self._engines.popitem()
                engine.dispose()

    def wipe(self) -> None:
        self._dispose_engines()  # before their files are deleted
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
