"""A refresh's dbt build rebuilds what changed since the last complete build (and the marts),
and leaves the warehouse exactly as a build from scratch on the same sources would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from configuration import settings
from loading.warehouse import connect
from orchestration.dbt_state import load_state
from tests.digests import tables_digest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PARTIAL_PARSE = settings.DBT_PROJECT_DIR / "target" / "partial_parse.msgpack"


def _refresh(sources: Path, warehouse: Path, *, full_refresh: bool = False):
    from orchestration.defs.dbt import DbtResource, dbt_models
    from orchestration.defs.ingest import ingest_assets
    from orchestration.defs.resources import SourcesResource, WarehouseResource

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
    from orchestration.defs.dbt import DbtResource, dbt_models
    from orchestration.defs.resources import WarehouseResource

    return materialize(
        [dbt_models],
        resources={"warehouse": WarehouseResource(path=str(warehouse)), "dbt": DbtResource()},
        instance=DagsterInstance.ephemeral(),
        **options,
    )


def _failure_description(result) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.user_failure_data.description


def _downstream_of_source(source: str) -> set[AssetKey]:
    from orchestration.defs.dbt import MANIFEST, SPECS

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
    # differ in the last bits (the marts compare with a 1e-9 tolerance for this reason). At 12
    # digits two such values did round apart (…712 and …713); at 9 the odds are ~1e-7 a value.
    return f"{value:.9g}" if isinstance(value, float) else value


def _digest(warehouse: Path) -> dict[str, str]:
    """The rows of every table dbt builds, doubles to 9 significant digits, without when their
    raw rows were loaded (which differs between runs)."""
    return tables_digest(
        warehouse, ("intermediate", "marts", "rulesets"), _canonical, without=["last_loaded_at"]
    )


def test_a_refresh_rebuilds_what_changed_and_ends_as_a_build_from_scratch(
    example_sources, tmp_path, monkeypatch
):
    from orchestration.defs.dbt import dbt_models

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
    from orchestration.dbt_state import fingerprints
    from orchestration.defs.dbt import MANIFEST

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
    failed = _dbt_only(warehouse, raise_on_error=False)
    assert not failed.success
    assert re.match(
        r"dbt build failed: unique_combination_of_columns_stg_reference__areas_area_id\S* "
        r"\(fail\): Got 1 result",
        _failure_description(failed),
    )
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


def test_dbt_stopping_before_any_node_fails_the_step_with_dbts_error(
    example_sources, tmp_path, monkeypatch
):
    from tests.dbt.conftest import load_sources

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    load_sources(example_sources, warehouse)
    monkeypatch.setenv("BOLIGSOCIAL_DBT_TARGET", "nowhere")  # no such output in profiles.yml
    failed = _dbt_only(warehouse, raise_on_error=False)
    assert not failed.success
    description = _failure_description(failed)
    assert description.startswith("dbt build failed: "), description
    assert "nowhere" in description, description


def test_the_dbt_step_lets_the_warehouse_go_when_dbt_returns(
    example_sources, tmp_path, monkeypatch
):
    """dbt-duckdb keeps its connection for its process's life unless told otherwise, and the
    dbt worker lets it go before it answers: the next step, another run or a reader must find
    the file free."""
    from tests.dbt.conftest import load_sources

    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    load_sources(example_sources, warehouse)
    assert _dbt_only(warehouse).success
    other_process = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(warehouse)!r}).close()"],
        capture_output=True,
        text=True,
    )
    assert other_process.returncode == 0, other_process.stderr
    # In this process, a connection with another configuration than dbt-duckdb's.
    with connect(warehouse, read_only=True) as con:
        assert con.execute("select count(*) from marts.area_safety").fetchone()[0] > 0


LEDGER_LINES = "staging.stg_vandalism__ledger_lines"


def _ledger_lines(warehouse: Path) -> list[tuple]:
    """The ledger lines, without when their rows were loaded (which differs between runs)."""
    with connect(warehouse, read_only=True) as con:
        return con.execute(
            f"select * exclude (last_loaded_at) from {LEDGER_LINES} order by all"
        ).fetchall()


def _mark_line(warehouse: Path, not_in_file: str) -> tuple:
    """Write a marker into the text of one ledger line that `not_in_file` does not have: only
    a build that recomputes every line rewrites it."""
    with connect(warehouse) as con:
        line = con.execute(
            f"select housing_org, case_no, line_no from {LEDGER_LINES} lines "
            "where not exists (select 1 from raw.vandalism_ledger raw where raw.selskab = "
            "lines.housing_org and raw.sagsnr = lines.case_no and raw.linje = lines.line_no "
            "and raw._source_file = ?) order by all limit 1",
            [not_in_file],
        ).fetchone()
        con.execute(
            f"update {LEDGER_LINES} set line_text = 'marker' "
            "where housing_org = ? and case_no = ? and line_no = ?",
            list(line),
        )
    return line


def _text_of(warehouse: Path, line: tuple) -> str:
    with connect(warehouse, read_only=True) as con:
        return con.execute(
            f"select line_text from {LEDGER_LINES} "
            "where housing_org = ? and case_no = ? and line_no = ?",
            list(line),
        ).fetchone()[0]


def test_a_new_months_exports_update_the_ledger_lines_incrementally(
    example_sources, tmp_path, monkeypatch
):
    """New exports recompute only the lines they hold (a line elsewhere keeps a marker the
    build would overwrite), and every line ends as a build from scratch makes it; a withdrawn
    export recomputes every line."""
    export = "FOB_2015-06.csv"  # corrects lines of earlier FOB exports
    held_out = tmp_path / export
    shutil.move(example_sources / "vandalism" / export, held_out)
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    _refresh(example_sources, warehouse)

    shutil.copy2(held_out, example_sources / "vandalism" / export)
    line = _mark_line(warehouse, f"vandalism/{export}")
    _refresh(example_sources, warehouse)
    assert _text_of(warehouse, line) == "marker"
    with connect(warehouse, read_only=True) as con:
        (corrected,) = con.execute(
            f"select count(*) from {LEDGER_LINES} where source_file = ? and n_exports > 1",
            [f"vandalism/{export}"],
        ).fetchone()
    assert corrected > 0  # the export does replace earlier versions of some lines

    scratch = tmp_path / "scratch.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(scratch))
    _refresh(example_sources, scratch)
    original = _text_of(scratch, line)
    unmarked = [
        (*row[:6], original, *row[7:]) if (row[0], row[2], row[3]) == line else row
        for row in _ledger_lines(warehouse)
    ]
    assert unmarked == _ledger_lines(scratch)
    assert _digest(warehouse) == _digest(scratch)

    # An export withdrawn: every line is recomputed, the marked one too.
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    line = _mark_line(warehouse, "vandalism/FOB_2014-03.csv")
    (example_sources / "vandalism" / "FOB_2014-03.csv").unlink()
    _refresh(example_sources, warehouse)
    assert _text_of(warehouse, line) != "marker"


def _areas_of_lines(warehouse: Path, housing_org: str, department_no: str) -> set:
    with connect(warehouse, read_only=True) as con:
        return {
            area
            for (area,) in con.execute(
                "select distinct area_id from intermediate.int_vandalism_lines_by_area "
                "where housing_org = ? and cast(department_no as varchar) = ?",
                [housing_org, department_no],
            ).fetchall()
        }


def test_changed_departments_attribute_every_line_again(example_sources, tmp_path, monkeypatch):
    """The lines by area are incremental: a refresh attributes only the recomputed ledger
    lines, unless the departments changed; then every line is attributed again, as a build
    from scratch would."""
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(warehouse))
    _refresh(example_sources, warehouse)
    assert _areas_of_lines(warehouse, "FOB", "24") == {"RINGPARKEN"}

    # Ringparken II moves to Sydbyen: no ledger line is new, every line of it changes area.
    departments = example_sources / "reference" / "departments.csv"
    text = departments.read_text(encoding="utf-8")
    moved = text.replace("FOB;24;Ringparken II;RINGPARKEN;", "FOB;24;Ringparken II;SYDBYEN;")
    assert moved != text
    departments.write_text(moved, encoding="utf-8")
    built = _refresh(example_sources, warehouse)
    assert AssetKey(["intermediate", "int_vandalism_lines_by_area"]) in built
    assert _areas_of_lines(warehouse, "FOB", "24") == {"SYDBYEN"}

    scratch = tmp_path / "scratch.duckdb"
    monkeypatch.setenv("BOLIGSOCIAL_WAREHOUSE", str(scratch))
    _refresh(example_sources, scratch)
    assert _digest(warehouse) == _digest(scratch)
