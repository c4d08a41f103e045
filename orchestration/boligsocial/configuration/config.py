"""The municipality's configuration: `boligsocial.toml`.

The file is `$BOLIGSOCIAL_CONFIG`, or else `boligsocial.toml` in the sources directory (the
bundled example's is `sources/example/boligsocial.toml`). Without one, the neutral defaults
below apply: nothing here names a municipality. Every key is optional; an unknown section or
key is an error naming it, so a misspelt setting is never silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from boligsocial.configuration import settings

CONFIG_VARIABLE = "BOLIGSOCIAL_CONFIG"
FILE_NAME = "boligsocial.toml"


class ConfigError(ValueError):
    """The configuration file is unreadable or holds an unknown or mistyped setting."""


@dataclass(frozen=True)
class Municipality:
    name: str = "Kommunen"
    code: int | None = None  # the municipality code (e.g. 330); None: every area's own


@dataclass(frozen=True)
class Report:
    title: str = "Boligsocial indsats – bestyrelsesrapport"
    organisation: str = ""  # who publishes the report, shown under the title
    footer: str = ""


@dataclass(frozen=True)
class Contact:
    name: str = ""
    email: str = ""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file or one wait may cost (a hostile or broken delivery)."""

    # A source file larger than this is refused before it is read. Its rows are parsed and
    # validated whole: 1.32 GB at the peak for a 95 MiB incidents file (one character beyond
    # Latin-1 in it; GX included), so with this limit a run stays under 2 GB for any one file.
    max_file_bytes: int = 100 << 20
    max_xlsx_rows: int = 100_000  # rows of an XLSX sheet, the header included
    warehouse_wait_seconds: int = 3600  # a run waits this long for another run's warehouse lock
    # DuckDB's own bounds, for every connection of the pipeline and dbt's (beyond the memory
    # limit DuckDB spills to disk); 0 threads: one per core.
    duckdb_memory_limit: str = "256MB"
    duckdb_threads: int = 0
    # Files are read, validated and staged this many bytes at a time (then swapped into raw
    # in one transaction), so a run's memory follows this, not the size of the delivery.
    # 16 MiB: the national ledger in 22.5 s at 855 + 421 MB (loader + reader process); 8 MiB
    # 28.5 s (GX's cost per batch), 32 MiB 24.3 s at 1,004 + 540 MB (docs/scaling.md).
    load_chunk_bytes: int = 16 << 20

    def duckdb_settings(self) -> dict[str, str | int]:
        """DuckDB's configuration for a connection (`duckdb.connect(config=...)`)."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": self.duckdb_threads or os.cpu_count() or 1,
        }


@dataclass(frozen=True)
class Alerts:
    """Who hears of a failed refresh, or of one with warning-level findings, by e-mail. The SMTP
    server and its credentials come from the environment (boligsocial/defs/automation/alerts.py),
    never from this file."""

    recipients: tuple[str, ...] = ()  # no recipients: no mail
    sender: str = "boligsocial@localhost"
    webserver_url: str = "http://127.0.0.1:3000"  # the Dagster UI as people open it, for links


@dataclass(frozen=True)
class Config:
    municipality: Municipality = field(default_factory=Municipality)
    report: Report = field(default_factory=Report)
    contact: Contact = field(default_factory=Contact)
    limits: Limits = field(default_factory=Limits)
    alerts: Alerts = field(default_factory=Alerts)
    owners: tuple[str, ...] = ("team:data",)  # Dagster asset owners
    path: Path | None = None  # the file read, None for the defaults


def config_path() -> Path:
    value = os.environ.get(CONFIG_VARIABLE, "").strip()
    return Path(value).expanduser().resolve() if value else settings.sources_dir() / FILE_NAME


def _section(kind: type, values: Any, where: str) -> Any:
    """One [section] as its dataclass; a setting must have its default's type (a list for a
    tuple; a whole number where the default is None)."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a table of settings, got {values!r}")
    defaults = kind()
    if unknown := sorted(set(values) - {f.name for f in fields(kind)}):
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    checked = {}
    for name, value in values.items():
        default = getattr(defaults, name)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        expected = int if default is None else type(default)
        if type(value) is not expected:
            raise ConfigError(f"{where}: {name} = {value!r} is not a {expected.__name__}")
        checked[name] = value
    return kind(**checked)


def parse(text: str, path: Path | None = None) -> Config:
    where = str(path) if path else FILE_NAME
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: {error}") from None
    sections = {f.name: f for f in fields(Config) if f.name != "path"}
    if unknown := sorted(set(data) - set(sections)):
        raise ConfigError(f"{where}: unknown section(s) {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        kind = sections[name].type
        if name == "owners":
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ConfigError(f"{where}: owners must be a list of strings")
            values[name] = tuple(value)
        else:
            values[name] = _section(globals()[kind], value, f"{where} [{name}]")
    return Config(**values, path=path)


@cache
def _load(path: Path, mtime_ns: int) -> Config:
    return parse(path.read_text(encoding="utf-8"), path)


def load() -> Config:
    """The configuration in force (re-read when the file changes)."""
    path = config_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        if os.environ.get(CONFIG_VARIABLE, "").strip():
            raise ConfigError(f"{CONFIG_VARIABLE} names {path}, which does not exist") from None
        return Config()
    return _load(path, stat.st_mtime_ns)
