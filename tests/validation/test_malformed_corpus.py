"""The malformed-input corpus (tests/malformed/corpus.py), each case through a real Dagster run.

A warehouse is first built completely (ingest with its GX checks, dbt with its tests) from a
copy of the example. Then, per case, the defect is applied to the copy and the affected ingest
asset plus everything downstream is materialised: the run must fail on that source with an
error naming the file (and the row and column where the defect has one), before dbt runs; every
raw table and mart must be exactly as before; no source file may change; and after the file is
restored the source loads again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
from dagster import AssetKey, AssetSelection, DagsterEventType, DagsterInstance, materialize

from boligsocial.configuration import settings
from tests.digests import tables_digest
from tests.malformed.corpus import CASES, Case

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _definitions():
    from boligsocial.defs.dbt.assets import dbt_cli, dbt_models
    from boligsocial.defs.ingest.assets import ingest_assets

    return [*ingest_assets, dbt_models], dbt_cli


def _run(work: dict, selection=None):
    from boligsocial.defs.resources import SourcesResource, WarehouseResource

    assets, dbt = _definitions()
    return materialize(
        assets,
        selection=selection,
        resources={
            "warehouse": WarehouseResource(path=str(work["warehouse"])),
            "sources": SourcesResource(directory=str(work["sources"])),
            "dbt": dbt,
        },
        instance=work["instance"],
        raise_on_error=False,
    )


def _tables_digest(warehouse: Path) -> dict[str, str]:
    """Every raw table's and mart's rows (lineage times included)."""
    return tables_digest(warehouse, ("raw", "marts"))


def _files_digest(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _restore(sources: Path) -> None:
    """Make the copy equal to the bundled example again (files added by a case removed)."""
    for path in sorted(sources.rglob("*")):
        if (
            path.is_file()
            and not (settings.EXAMPLE_SOURCES_DIR / path.relative_to(sources)).exists()
        ):
            path.unlink()
    for path in settings.EXAMPLE_SOURCES_DIR.rglob("*"):
        target = sources / path.relative_to(settings.EXAMPLE_SOURCES_DIR)
        if path.is_file() and (not target.exists() or target.read_bytes() != path.read_bytes()):
            shutil.copy2(path, target)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    work_dir = tmp_path_factory.mktemp("corpus")
    sources = work_dir / "sources"
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, sources)
    warehouse = work_dir / "warehouse.duckdb"
    saved = {k: os.environ.get(k) for k in ("BOLIGSOCIAL_GX_RESULTS",)}
    os.environ["BOLIGSOCIAL_GX_RESULTS"] = str(work_dir / "gx_results")
    work = {"sources": sources, "warehouse": warehouse, "instance": DagsterInstance.ephemeral()}
    result = _run(work)
    assert result.success, "the example must build before the corpus is tried"
    work["tables"] = _tables_digest(warehouse)
    work["results"] = work_dir / "gx_results"
    yield work
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert {c.kind for c in CASES} == {"reader", "gx"}
    assert len({c.id for c in CASES}) == len(CASES)


def _failure_message(result, source: str) -> str:
    failures = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == [f"raw__{source}"], [e.step_key for e in failures]
    return failures[0].event_specific_data.error.message.strip()


@pytest.fixture
def work(built: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """A case's own copy of the built sources and warehouse: no case sees another's leftovers."""
    sources, warehouse = tmp_path / "sources", tmp_path / "warehouse.duckdb"
    shutil.copytree(built["sources"], sources, symlinks=True)
    shutil.copyfile(built["warehouse"], warehouse)
    return {**built, "sources": sources, "warehouse": warehouse}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_fails_its_source_and_changes_nothing(work: dict, case: Case):
    sources = work["sources"]
    pristine = _files_digest(sources)
    case.edit(sources)
    files_before = _files_digest(sources)
    assert files_before != pristine, "the case must change the sources"
    try:
        result = _run(work, AssetSelection.assets(AssetKey(["raw", case.source])).downstream())
        assert not result.success
        message = _failure_message(result, case.source)
        first_line = next(line for line in message.splitlines() if "rejected" in line)
        assert f"Source '{case.source}' rejected" in first_line
        assert Path(case.file).name in first_line or Path(case.file).stem in first_line
        if case.row == -1:
            assert re.search(r", row \d+", first_line), first_line
        elif case.row is not None:
            assert f"row {case.row}," in message or f"row {case.row}:" in message, message
        if case.column is not None:
            assert f"column {case.column}" in message, message
        # Nothing downstream ran: dbt (its models and tests) was skipped.
        ran = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
        assert ran == {f"raw__{case.source}"}, ran
        if case.kind == "gx":
            checks = [
                e.event_specific_data
                for e in result.all_events
                if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
                and e.event_specific_data.check_name == f"gx_{case.source}"
            ]
            assert len(checks) == 1 and not checks[0].passed
            assert checks[0].metadata["failed_expectations"].value >= 1
            assert (work["results"] / result.run_id / f"{case.source}.json").exists()
        assert _tables_digest(work["warehouse"]) == work["tables"]
        assert _files_digest(sources) == files_before
    finally:
        _restore(sources)
    fixed = _run(work, AssetSelection.assets(AssetKey(["raw", case.source])))
    assert fixed.success
    assert _tables_digest(work["warehouse"]) == work["tables"]
