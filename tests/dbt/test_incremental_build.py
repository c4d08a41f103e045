"""A refresh's dbt build rebuilds what changed since the last complete build (and the marts),
and leaves the warehouse exactly as a build from scratch on the same sources would."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from orchestration import settings
from orchestration.dbt_state import load_state
from orchestration.warehouse import connect
from tests.digests import tables_digest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PARTIAL_PARSE = settings.DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"


def _refresh(sources: Path, warehouse: Path, *, full_refresh: bool = False):
    from orchestration.assets.dbt import DbtResource, dbt_models
    from orchestration.assets.ingest import ingest_assets
    from orchestration.resources import SourcesResource, WarehouseResource

    result = materialize(
        [*ingest_assets, dbt_models],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "sources": SourcesResource(directory=str(sources)),
            "dbt": DbtResource(),
        },
        instance=DagsterInstance.ephemeral(),
        run_config={"ops": {"dbt_models": {"config": {"full_refresh": full_refresh}}}},
    )
    assert result.success
    dbt_keys = set(dbt_models.keys)
    return {e.asset_key for e in result.get_asset_materialization_events()} & dbt_keys


def _dbt_only(warehouse: Path, **options):
    """The dbt asset alone (no ingest) on `warehouse`; `options` go to `materialize`."""
    from orchestration.assets.dbt import DbtResource, dbt_models
    from orchestration.resources import WarehouseResource

    return materialize(
        [dbt_models],
        resources={"warehouse": WarehouseResource(path=str(warehouse)), "dbt": DbtResource()},
        instance=DagsterInstance.ephemeral(),
        **options,
    )


def _downstream_of_source(source: str) -> set[AssetKey]:
    from orchestration.assets.dbt import MANIFEST, SPECS

    key_by_id = {unique_id: key for key, unique_id in SPECS.unique_id_by_key.items()}
    found, frontier = set(), [source]
    while frontier:
        for child in MANIFEST["child_map"].get(frontier.pop(), []):
            if child in key_by_id and child not in found:
                found.add(child)
                frontier.append(child)
    return {key_by_id[u] for u in found}


def _canonical(value: object) -> object:
    # DuckDB sums doubles in parallel, in no fixed order: two builds of the same data may
    # differ in the last bits (the marts compare with a 1e-9 tolerance for this reason).
    return f"{value:.12g}" if isinstance(value, float) else value


def _digest(warehouse: Path) -> dict[str, str]:
    """The rows of every table dbt builds, doubles to 12 digits."""
    return tables_digest(warehouse, ("intermediate", "marts", "rulesets"), _canonical)


def test_a_refresh_rebuilds_what_changed_and_ends_as_a_build_from_scratch(
    example_sources, tmp_path, monkeypatch
):
    from orchestration.assets.dbt import dbt_models

    warehouse = tmp_path / "incremental.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))  # dbt's profile reads it
    every_model = set(dbt_models.keys)
    marts = {key for key in every_model if key.path[0] == "marts"}

    assert _refresh(example_sources, warehouse) == every_model
    with connect(warehouse, read_only=True) as con:
        assert load_state(con) is not None

    # Nothing delivered since: only the marts are rebuilt.
    assert _refresh(example_sources, warehouse) == marts

    # A ledger export withdrawn: the vandalism models and the marts, nothing else.
    (example_sources / "vandalism" / "FOB_2024-12.csv").unlink()
    vandalism = _downstream_of_source("source.boligsocial.vandalism.vandalism_ledger")
    assert AssetKey(["intermediate", "int_vandalism_lines_by_area"]) in vandalism
    assert AssetKey(["intermediate", "int_area_metrics"]) not in vandalism
    assert _refresh(example_sources, warehouse) == vandalism | marts

    scratch_sources = tmp_path / "scratch_sources"
    shutil.copytree(example_sources, scratch_sources)
    scratch = tmp_path / "scratch.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(scratch))
    assert _refresh(scratch_sources, scratch) == every_model
    assert _digest(warehouse) == _digest(scratch)
    assert len(_digest(scratch)) >= len(marts)

    # full_refresh in the run config rebuilds everything.
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    assert _refresh(example_sources, warehouse, full_refresh=True) == every_model


def test_a_failed_build_keeps_the_state_of_the_last_complete_one(
    example_sources, tmp_path, monkeypatch
):
    """After a failed build the kept state is unchanged, so the next refresh rebuilds again
    what had changed; after a successful one it describes the raw tables as they are."""
    from orchestration.assets.dbt import MANIFEST
    from orchestration.dbt_state import fingerprints

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    _refresh(example_sources, warehouse)
    with connect(warehouse, read_only=True) as con:
        complete = load_state(con)
        assert complete.fingerprints == fingerprints(con, MANIFEST)
    assert set(complete.fingerprints) == set(MANIFEST["sources"])

    # A second row for an existing area (as if from another file): the unique test on
    # stg_reference__areas fails the build.
    with connect(warehouse) as con:
        con.execute(
            "insert into raw.areas select * replace ('reference/extra.csv' as _source_file) "
            "from raw.areas limit 1"
        )
    assert not _dbt_only(warehouse, raise_on_error=False).success
    with connect(warehouse, read_only=True) as con:
        assert load_state(con).fingerprints == complete.fingerprints
        assert load_state(con).built_at == complete.built_at

    with connect(warehouse) as con:
        con.execute("delete from raw.areas where _source_file = 'reference/extra.csv'")
    assert _dbt_only(warehouse, raise_on_error=False).success
    with connect(warehouse, read_only=True) as con:
        assert load_state(con).fingerprints == fingerprints(con, MANIFEST)
        assert load_state(con).built_at > complete.built_at


def test_checks_picked_alone_run_their_dbt_tests_and_build_nothing(
    example_sources, tmp_path, monkeypatch
):
    from dagster import AssetCheckKey, AssetSelection

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    _refresh(example_sources, warehouse)
    check = AssetCheckKey(
        AssetKey(["marts", "area_safety"]), "safety_vandalism_cost_matches_attributed_lines"
    )
    result = _dbt_only(warehouse, selection=AssetSelection.checks(check))
    assert result.success
    assert result.get_asset_materialization_events() == []
    evaluations = result.get_asset_check_evaluations()
    assert [(e.asset_check_key, e.passed) for e in evaluations] == [(check, True)]


def _parse_output(warehouse: Path, work: Path) -> str:
    """dbt parse on `warehouse`, starting from the project's partial-parse file, as the dbt
    step does; dbt's output."""
    from tests.dbt.conftest import dbt_command

    (work / "target").mkdir(parents=True)
    shutil.copy2(PARTIAL_PARSE, work / "target" / PARTIAL_PARSE.name)
    done = subprocess.run(
        dbt_command("parse", work=work),
        env={**os.environ, "BOLIGSOCIAL_WAREHOUSE": str(warehouse)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_the_next_run_on_a_warehouse_starts_from_its_partial_parse(
    example_sources, tmp_path, monkeypatch
):
    """dbt parses everything again when the profile (which holds the warehouse path) differs
    from the one the partial-parse file was written with; the dbt step keeps its invocation's
    file as the project's, so the next run on the same warehouse starts from it."""
    from tests.dbt.conftest import load_sources

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    load_sources(example_sources, warehouse)
    saved = PARTIAL_PARSE.read_bytes()
    try:
        assert _dbt_only(warehouse).success
        same = _parse_output(warehouse, tmp_path / "same")
        other = _parse_output(tmp_path / "other.duckdb", tmp_path / "other")
    finally:
        PARTIAL_PARSE.write_bytes(saved)  # the developer's next `make run` starts from it again
    assert "profile has changed" in other
    assert "Unable to do partial parsing" not in same
