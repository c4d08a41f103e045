"""DuckDB's memory limit and threads come from `[limits]` in boligsocial.toml: for the
pipeline's own connections, and for dbt's (the profile reads what the dbt asset passes on)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from boligsocial.configuration import config
from boligsocial.loading.warehouse import connect
from tests.dbt.conftest import dbt_command


def _limits(monkeypatch, tmp_path: Path) -> None:
    settings = tmp_path / "limits.toml"
    settings.write_text('[limits]\nduckdb_memory_limit = "300MB"\nduckdb_threads = 1\n')
    monkeypatch.setenv("BOLIGSOCIAL_CONFIG", str(settings))


def _settings(con) -> tuple[str, int]:
    [(memory, threads)] = con.execute(
        "select current_setting('memory_limit'), current_setting('threads')"
    ).fetchall()
    return memory, int(threads)


def test_every_connection_has_the_configured_limits(monkeypatch, tmp_path: Path):
    _limits(monkeypatch, tmp_path)
    with connect(tmp_path / "w.duckdb") as con:
        assert _settings(con) == ("286.1 MiB", 1)  # 300 MB in DuckDB's units
    with connect() as con:  # in memory
        assert _settings(con) == ("286.1 MiB", 1)


def test_the_default_threads_are_one_per_core():
    assert config.Limits().duckdb_settings()["threads"] == (os.cpu_count() or 1)


def test_dbt_runs_with_the_limits_the_asset_passes_on(monkeypatch, tmp_path: Path):
    _limits(monkeypatch, tmp_path)
    limits = config.load().limits.duckdb_settings()
    # What boligsocial/defs/dbt/assets.py sets before it calls dbt.
    env = {
        **os.environ,
        "BOLIGSOCIAL_WAREHOUSE": str(tmp_path / "dbt.duckdb"),
        "BOLIGSOCIAL_DUCKDB_MEMORY_LIMIT": str(limits["memory_limit"]),
        "BOLIGSOCIAL_DUCKDB_THREADS": str(limits["threads"]),
    }
    shown = subprocess.run(
        dbt_command(
            "show",
            "--inline",
            "select current_setting('memory_limit') as m, current_setting('threads') as t",
            "--output",
            "json",
            "--log-format",
            "text",
            work=tmp_path,
        ),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert '"m": "286.1 MiB"' in shown.stdout and '"t": 1' in shown.stdout
