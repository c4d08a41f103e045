"""Dagster resources: every path, URL and secret an asset or sensor uses reaches it here.

A variable that is set becomes a `dagster.EnvVar` (read when a run or tick starts; the UI shows
its name, never a secret's value); one that is not set leaves the default of
`configuration.settings`. No asset or sensor body reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
from dagster import (
    ConfigurableResource,
    DagsterRunStatus,
    Definitions,
    EnvVar,
    InitResourceContext,
    definitions,
    in_process_executor,
)
from pydantic import PrivateAttr

from boligsocial.configuration import config, settings
from boligsocial.loading.warehouse import connect
from boligsocial.runs import recovery

# Steps that open the warehouse for writing are in this concurrency pool: Dagster's run queue
# admits one run with such a step at a time (dagster.yaml), as DuckDB has one writing process.
WAREHOUSE_POOL = recovery.WAREHOUSE_POOL
POSTGRES_URL_VARIABLE = "BOLIGSOCIAL_PUBLISH_POSTGRES_URL"


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file (BOLIGSOCIAL_WAREHOUSE)."""

    path: str
    _lock: recovery.WriterLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Before a run's first step: record the run's process, recover runs whose process
        died, and hold the warehouse's writer lock for the run (boligsocial/runs/recovery.py)."""
        run, instance = context.run, context.instance
        if run is None or instance is None:
            return
        instance.add_run_tags(run.run_id, {recovery.PROCESS_TAG: recovery.mark_process()})
        held_before = recovery.holding(Path(self.path))
        lock = recovery.acquire_writer_lock(
            Path(self.path),
            config.load().limits.warehouse_wait_seconds,
            instance=instance,
            say=context.log.info,
            cancelled=lambda: (
                instance.get_run_by_id(run.run_id).status == DagsterRunStatus.CANCELING
            ),
        )
        lock.describe(run.run_id)
        if not held_before:
            self._lock = lock

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return connect(Path(self.path), read_only=read_only)


class SourcesResource(ConfigurableResource):
    """The sources directory (BOLIGSOCIAL_SOURCES_DIR) the ingest assets read."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)


class PublishResource(ConfigurableResource):
    """Where the publication goes: the folder (BOLIGSOCIAL_PUBLISH_DIR) and, when set,
    PostgreSQL (BOLIGSOCIAL_PUBLISH_POSTGRES_URL, a secret)."""

    directory: str
    postgres_url: str = ""

    @property
    def path(self) -> Path:
        return Path(self.directory)


class SmtpResource(ConfigurableResource):
    """The SMTP server of the alert mails (BOLIGSOCIAL_SMTP_*, the password a secret); no host:
    no mail (boligsocial/defs/automation/alerts.py)."""

    host: str = ""
    port: int = 587
    starttls: str = "true"
    user: str = ""
    password: str = ""


def env_or(variable: str, default: str | int) -> str | int:
    """`EnvVar(variable)` (`EnvVar.int` for a number) when the variable is set, else `default`."""
    if not os.environ.get(variable, "").strip():
        return default
    return EnvVar.int(variable) if isinstance(default, int) else EnvVar(variable)


def from_environment() -> dict[str, ConfigurableResource]:
    return {
        "warehouse": WarehouseResource(
            path=env_or("BOLIGSOCIAL_WAREHOUSE", str(settings.warehouse_path()))
        ),
        "sources": SourcesResource(
            directory=env_or("BOLIGSOCIAL_SOURCES_DIR", str(settings.sources_dir()))
        ),
        "publish": PublishResource(
            directory=env_or("BOLIGSOCIAL_PUBLISH_DIR", str(settings.publish_dir())),
            postgres_url=env_or(POSTGRES_URL_VARIABLE, ""),
        ),
        "smtp": SmtpResource(
            host=env_or("BOLIGSOCIAL_SMTP_HOST", ""),
            port=env_or("BOLIGSOCIAL_SMTP_PORT", 587),
            starttls=env_or("BOLIGSOCIAL_SMTP_STARTTLS", "true"),
            user=env_or("BOLIGSOCIAL_SMTP_USER", ""),
            password=env_or("BOLIGSOCIAL_SMTP_PASSWORD", ""),
        ),
    }


@definitions
def resources() -> Definitions:
    # Every step that writes the warehouse is serialised by the one-writer pool anyway, and a
    # process per step would pay the imports of dagster-dbt and GX again for each step.
    return Definitions(resources=from_environment(), executor=in_process_executor)
