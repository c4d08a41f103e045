"""What a refresh's `dbt build` must rebuild, against the state of the last complete build.

After every successful build of the whole project, the warehouse keeps that build's dbt
manifest and a fingerprint of each raw table it read (table `pipeline.dbt_build_state`). The
next refresh rebuilds only:

- the models downstream of a raw table whose fingerprint changed (`source:<name>+`): its set
  of (file, sha256) and its columns, so a new, changed or removed file counts, a re-load of
  identical files does not;
- what changed in the dbt project itself: dbt's `state:modified+` against the kept manifest
  (SQL, config, seeds, macros);
- the marts, always (`path:models/marts+`): they are small, area-level tables, and the
  publication and mart checks downstream of them expect a materialisation in every refresh.

Incremental models (the ledger lines, the lines by area) are rebuilt in full (`--full-refresh`)
when their SQL or configuration differ from the kept manifest's: an incremental run would
apply new logic only to the rows it recomputes. (A change in a macro they call is not seen:
`full_refresh` in the run config then.) With no kept state (a new warehouse, or the last build
failed before any complete build) the whole project is built, in full. The state is kept
inside the warehouse, so it can never describe a different warehouse file than the one it sits
in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from configuration import settings
from loading.warehouse import transaction

STATE_TABLE = "pipeline.dbt_build_state"
ALWAYS_REBUILT = "path:models/marts+"


@dataclass(frozen=True)
class BuildState:
    manifest: dict[str, Any]
    fingerprints: dict[str, str | None]  # dbt source unique_id -> fingerprint
    built_at: datetime | None = None


@dataclass(frozen=True)
class BuildPlan:
    select: list[str] = field(default_factory=list)  # empty: the whole project
    state_manifest: dict[str, Any] | None = None  # for `--state`, with a selection
    reasons: list[str] = field(default_factory=list)
    full_refresh: bool = False  # `--full-refresh`: incremental models rebuilt from scratch


def source_tables(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """dbt source unique_id -> (schema, table) in the warehouse."""
    return {
        unique_id: (props["schema"], props.get("identifier") or props["name"])
        for unique_id, props in manifest.get("sources", {}).items()
    }


def fingerprints(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any]
) -> dict[str, str | None]:
    """A hash per raw table of its (file, sha256) pairs and its columns; None if it is missing."""
    found: dict[str, str | None] = {}
    for unique_id, (schema, table) in source_tables(manifest).items():
        (columns,) = con.execute(
            "select string_agg(column_name || ' ' || data_type, ', ' order by ordinal_position) "
            "from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()
        if columns is None:
            found[unique_id] = None
            continue
        (files,) = con.execute(
            "select coalesce(string_agg(_source_file || '=' || _source_sha256, ';' "
            "order by _source_file), '') from (select distinct _source_file, _source_sha256 "
            f'from "{schema}"."{table}")'
        ).fetchone()
        found[unique_id] = hashlib.md5(f"{columns}|{files}".encode()).hexdigest()
    return found


def load_state(con: duckdb.DuckDBPyConnection) -> BuildState | None:
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'pipeline' and table_name = 'dbt_build_state'"
    ).fetchone()[0]
    if not exists:
        return None
    row = con.execute(f"select manifest, fingerprints, built_at from {STATE_TABLE}").fetchone()
    if row is None:
        return None
    return BuildState(json.loads(row[0]), json.loads(row[1]), row[2])


def save_state(con: duckdb.DuckDBPyConnection, state: BuildState) -> None:
    """Replace the kept state (one row) in one transaction."""
    con.execute("create schema if not exists pipeline")
    con.execute(
        f"create table if not exists {STATE_TABLE} "
        "(built_at timestamp, manifest varchar, fingerprints varchar)"
    )
    with transaction(con):
        con.execute(f"delete from {STATE_TABLE}")
        con.execute(
            f"insert into {STATE_TABLE} values (?, ?, ?)",
            [
                (state.built_at or datetime.now(UTC)).replace(tzinfo=None),
                json.dumps(state.manifest),
                json.dumps(state.fingerprints),
            ],
        )


def incremental_models_changed(
    manifest: Mapping[str, Any],
    previous: BuildState | None,
    project_dir: Path = settings.DBT_PROJECT_DIR,
) -> list[str]:
    """The incremental models whose SQL or configuration differ from the last complete build's
    (all of them when there is none): an incremental run would apply the new logic only to the
    rows it recomputes, so these must be rebuilt in full.

    The SQL is compared as dbt will parse it, from the file (dbt's checksum: sha256 of the
    stripped text), not from `manifest`, which may predate an edit."""
    before = previous.manifest.get("nodes", {}) if previous else {}
    changed = []
    for unique_id, node in manifest.get("nodes", {}).items():
        if node.get("config", {}).get("materialized") != "incremental":
            continue
        sql = (project_dir / node["original_file_path"]).read_text(encoding="utf-8")
        kept = before.get(unique_id)
        if (
            kept is None
            or hashlib.sha256(sql.strip().encode()).hexdigest() != kept["checksum"]["checksum"]
            or node["config"] != kept["config"]
        ):
            changed.append(unique_id)
    return sorted(changed)


def plan_build(
    manifest: Mapping[str, Any],
    previous: BuildState | None,
    current: Mapping[str, str | None],
    *,
    full_refresh: bool = False,
    project_dir: Path = settings.DBT_PROJECT_DIR,
) -> BuildPlan:
    """The selection of an incremental build (see the module's description)."""
    if full_refresh:
        return BuildPlan(
            reasons=["the whole project (full_refresh in the run config)"], full_refresh=True
        )
    if previous is None:
        return BuildPlan(
            reasons=["the whole project (no complete build of this warehouse yet)"],
            full_refresh=True,
        )
    sources = manifest.get("sources", {})
    changed = sorted(
        unique_id
        for unique_id in sources
        if current.get(unique_id) is None
        or current.get(unique_id) != previous.fingerprints.get(unique_id)
    )
    select = [
        *(f"source:{sources[u]['source_name']}.{sources[u]['name']}+" for u in changed),
        "state:modified+",
        ALWAYS_REBUILT,
    ]
    changed_sources = [f"{sources[u]['source_name']}.{sources[u]['name']}" for u in changed]
    reasons = [
        "what is downstream of the sources changed since the last complete build "
        f"({', '.join(changed_sources) or 'none'})",
        "what changed in the dbt project (state:modified+)",
        "the marts",
    ]
    changed_logic = incremental_models_changed(manifest, previous, project_dir)
    if changed_logic:
        models = ", ".join(manifest["nodes"][u]["name"] for u in changed_logic)
        reasons.append(f"in full: the incremental models whose SQL or config changed ({models})")
    return BuildPlan(
        select=select,
        state_manifest=previous.manifest,
        reasons=reasons,
        full_refresh=bool(changed_logic),
    )
