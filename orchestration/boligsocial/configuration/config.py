"""The installation's configuration: `boligsocial.toml`, a pydantic model.

The file is the operator's: `$BOLIGSOCIAL_CONFIG`, or else `boligsocial.toml` in the
installation home (`$BOLIGSOCIAL_HOME`, default the checkout, whose file is the bundled
example's). It is never read from the sources folder: whoever delivers files there must not
steer the run. Without a file the neutral defaults below apply; nothing here names a
municipality. Every key is optional; an unknown or mistyped key is a `ConfigError` naming the
file, the key and what is allowed, with a suggestion for a near miss, in Danish or English
(`boligsocial.sources.messages`). `docs/configuration.md` is generated from this model
(`python -m boligsocial.configuration.reference`).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
import sys
import tomllib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from boligsocial.configuration import settings
from boligsocial.sources import messages

CONFIG_VARIABLE = settings.CONFIG_VARIABLE
FILE_NAME = settings.CONFIG_FILE_NAME

# A list in TOML; the model keeps it as a tuple (the configuration is immutable).
Texts = Annotated[tuple[str, ...], Field(strict=False)]
# Dagster's asset owners: an e-mail address or `team:` and a name (Dagster refuses others).
OWNER = re.compile(r"^(team:[A-Za-z0-9_]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")
MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class ConfigMessage:
    """A message about the configuration: a kind of `sources/messages.py` and its parameters
    (the file, the key, what is allowed)."""

    def __init__(self, kind: str, near: str | None = None, **params: Any) -> None:
        self.kind = kind
        self.near = near  # the allowed key a misspelt one is closest to
        self.params = params

    def text(self, lang: str) -> str:
        sentence = messages.render(self.kind, lang, **self.params)
        if self.near is None:
            return sentence
        return f"{sentence}; {messages.render('did_you_mean', lang, suggestion=self.near)}"


class ConfigError(ConfigMessage, ValueError):
    """The configuration cannot be used."""

    def __init__(self, kind: str, near: str | None = None, **params: Any) -> None:
        ConfigMessage.__init__(self, kind, near, **params)
        ValueError.__init__(self, self.text("en"))


class _Section(BaseModel):
    # strict: a number where text is expected (or "3" for 3) is an error, not a conversion.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Municipality(_Section):
    """Who runs the installation."""

    name: str = Field("Kommunen", description="the municipality's name, in the report")
    code: int | None = Field(
        None,
        examples=[330],
        description="the municipality code (e.g. 330); `reference/areas.csv` should say the "
        "same (a warning when it does not); without it: every area's own",
    )


class Report(_Section):
    """The board report's texts (`bestyrelsesrapport.html`)."""

    title: str = Field("Boligsocial indsats – bestyrelsesrapport", description="its title")
    organisation: str = Field("", description="who publishes it, shown under the title")
    footer: str = Field("", description="the line at its foot")
    vision: str = Field(
        "", description="the municipality's vision, after the key points (none without it)"
    )


class Contact(_Section):
    """Who answers questions about the data."""

    name: str = Field("", description="a person or a team")
    email: str = Field("", description="their address")


class Limits(_Section):
    """Bounds on what one file or one wait may cost (a hostile or broken delivery)."""

    # A source file larger than this is refused before it is read. Its rows are parsed and
    # validated whole: 1.32 GB at the peak for a 95 MiB incidents file (one character beyond
    # Latin-1 in it; GX included), so with this limit a run stays under 2 GB for any one file.
    max_file_bytes: int = Field(
        100 << 20, gt=0, description="a source file larger than this is refused unread"
    )
    max_xlsx_rows: int = Field(
        100_000, gt=0, description="rows of an XLSX sheet (the header included)"
    )
    warehouse_wait_seconds: int = Field(
        3600, ge=0, description="how long a run waits for another run's warehouse lock"
    )
    # DuckDB's own bounds, for every connection of the pipeline and dbt's (beyond the memory
    # limit DuckDB spills to disk).
    duckdb_memory_limit: str = Field(
        "256MB", description="DuckDB's memory limit per connection, dbt's too (e.g. `1GB`)"
    )
    duckdb_threads: int = Field(0, ge=0, description="DuckDB's threads; 0: one per core")
    # A chunk is held by the loader and the reader process at once; smaller chunks pay GX's
    # fixed cost per batch more often (docs/performance.md has the measurements).
    load_chunk_bytes: int = Field(
        16 << 20, gt=0, description="files are read, validated and staged this much at a time"
    )

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not MEMORY.match(value.strip()):
            raise ValueError("memory")
        return value

    def duckdb_settings(self) -> dict[str, str | int]:
        """DuckDB's configuration for a connection (`duckdb.connect(config=...)`)."""
        return {
            "memory_limit": self.duckdb_memory_limit,
            "threads": self.duckdb_threads or os.cpu_count() or 1,
        }


class Alerts(_Section):
    """Who hears of a failed refresh, or of one with warning-level findings, by e-mail. The SMTP
    server and its credentials come from the environment (`BOLIGSOCIAL_SMTP_*`), never from
    this file."""

    recipients: Texts = Field((), description="addresses; none: no mail")
    sender: str = Field("boligsocial@localhost", description="the mails' From address")
    webserver_url: str = Field(
        "http://127.0.0.1:3000", description="the Dagster UI as people open it, for links"
    )


class Config(_Section):
    """The whole file."""

    owners: Texts = Field(
        ("team:data",),
        description="Dagster asset owners: `team:name` or an e-mail address",
    )
    municipality: Municipality = Field(default_factory=Municipality)
    report: Report = Field(default_factory=Report)
    contact: Contact = Field(default_factory=Contact)
    limits: Limits = Field(default_factory=Limits)
    alerts: Alerts = Field(default_factory=Alerts)
    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The file read, None for the defaults."""
        return self._path

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not all(OWNER.match(owner) for owner in value):
            raise ValueError("owner")
        return value


SECTIONS: dict[str, type[_Section]] = {
    name: info.annotation
    for name, info in Config.model_fields.items()
    if isinstance(info.annotation, type) and issubclass(info.annotation, _Section)
}
# What a value that breaks a custom rule should have been (the messages' `config_expected`).
CUSTOM_RULES = {"owner": "owner", "memory": "memory"}


# --- errors: one sentence per problem ---------------------------------------------------------


def _key(location: tuple[Any, ...]) -> str:
    """`[limits] max_file_bytes`, or `owners` for a top-level key."""
    names = [str(part) for part in location if not isinstance(part, int)]
    if len(names) > 1:
        return f"[{names[0]}] {'.'.join(names[1:])}"
    return names[0] if names else ""


def _allowed(location: tuple[Any, ...]) -> list[str]:
    """The keys allowed where `location`'s last key is (sections at the top level)."""
    if len(location) > 1 and str(location[0]) in SECTIONS:
        return list(SECTIONS[str(location[0])].model_fields)
    return list(Config.model_fields)


def _expected(error: Any) -> str:
    """The phrase of what the value should have been, from pydantic's error type."""
    kind = error["type"]
    if kind == "value_error":
        return CUSTOM_RULES.get(str(error.get("ctx", {}).get("error", "")), "text")
    if kind.startswith(("int", "greater", "less")):
        number = "whole_number"
        bound = error.get("ctx", {})
        if "gt" in bound:
            return "positive_number"
        return "non_negative_number" if "ge" in bound else number
    if kind.startswith(("tuple", "list")) or (len(error["loc"]) > 1 and error["loc"][-1] == 0):
        return "texts"
    if kind.startswith(("dict", "model")):
        return "table"
    return "text"


def _from_validation(error: ValidationError, where: str) -> ConfigError:
    """The first problem of pydantic's list as one sentence."""
    first = error.errors()[0]
    location = tuple(first["loc"])
    key = _key(location)
    if first["type"] == "extra_forbidden":
        allowed = _allowed(location)
        close = difflib.get_close_matches(str(location[-1]), allowed, n=1, cutoff=0.6)
        near = close[0] if close else None
        if len(location) == 1:
            return ConfigError("config_unknown_section", near, file=where, key=key, allowed=allowed)
        return ConfigError("config_unknown_key", near, file=where, key=key, allowed=allowed)
    return ConfigError(
        "config_wrong_value",
        file=where,
        key=key,
        value=as_toml(first.get("input")),
        config_expected=_expected(first),
    )


def as_toml(value: Any) -> str:
    """A value as the file writes it: `"3"`, `3`, `true`, `["a"]`."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str | list | tuple):
        return json.dumps(value, ensure_ascii=False)
    return "{…}" if isinstance(value, dict) else str(value)


def parse(text: str, path: Path | None = None) -> Config:
    """The configuration in `text` (the content of `path`)."""
    where = str(path) if path else FILE_NAME
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("config_not_toml", file=where, detail=str(error)) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        raise _from_validation(error, where) from None
    config._path = path
    return config


# --- the file in force --------------------------------------------------------------------------


def config_path() -> Path:
    """`$BOLIGSOCIAL_CONFIG`, or `boligsocial.toml` in the installation home."""
    return settings.config_path()


@cache
def _load(path: Path, mtime_ns: int, size: int) -> Config:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError("config_unreadable", file=str(path), detail=error.strerror) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("config_not_utf8", file=str(path)) from None
    return parse(text, path)


def load() -> Config:
    """The configuration in force (read again when the file changes). Only a regular file is
    opened: a pipe named boligsocial.toml would block the reader for ever."""
    path = config_path()
    try:
        status = path.stat()
    except FileNotFoundError:
        if os.environ.get(CONFIG_VARIABLE, "").strip():
            raise ConfigError("config_missing", file=str(path), variable=CONFIG_VARIABLE) from None
        return Config()
    except OSError as error:
        raise ConfigError("config_unreadable", file=str(path), detail=error.strerror) from None
    if not stat.S_ISREG(status.st_mode):
        raise ConfigError("config_not_regular", file=str(path))
    return _load(path, status.st_mtime_ns, status.st_size)


# The name the Dagster resources read it by.
load_config = load


def municipality_mismatch(config: Config, codes: Iterable[str]) -> ConfigMessage | None:
    """A warning when `[municipality] code` is set and none of the delivered areas
    (`codes`: their municipality codes, as delivered) is of that municipality."""
    code = config.municipality.code
    found = sorted({str(c).strip() for c in codes if str(c).strip()})
    numbers = {int(c) for c in found if c.isdigit()}
    if code is None or not found or code in numbers:
        return None
    return ConfigMessage(
        "config_code_mismatch",
        file=str(config.path or config_path()),
        code=code,
        areas="reference/areas.csv",
        found=found,
    )


def load_or_say(lang: str = "da") -> Config | None:
    """The configuration in force, or None after saying on stderr, in one sentence, why it
    cannot be used: what every command does before it starts."""
    try:
        return load()
    except ConfigError as error:
        print(error.text(lang), file=sys.stderr)
        return None
