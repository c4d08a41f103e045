"""The incremental plan: what a refresh's dbt build selects, against the kept state."""

from __future__ import annotations

import copy
import hashlib

from configuration import settings
from orchestration.dbt_state import (
    ALWAYS_REBUILT,
    BuildState,
    incremental_models_changed,
    plan_build,
)
from orchestration.defs.dbt import MANIFEST

SOURCES = sorted(MANIFEST["sources"])
LEDGER_LINES = "model.boligsocial.stg_vandalism__ledger_lines"
LINES_BY_AREA = "model.boligsocial.int_vandalism_lines_by_area"
INCREMENTAL = [LINES_BY_AREA, LEDGER_LINES]


def _fingerprints(**changed: str | None) -> dict[str, str | None]:
    return {unique_id: changed.get(unique_id.rsplit(".", 1)[-1], "same") for unique_id in SOURCES}


def test_without_kept_state_or_with_full_refresh_the_whole_project_is_built():
    kept = BuildState(MANIFEST, _fingerprints())
    assert plan_build(MANIFEST, None, _fingerprints()).select == []
    assert plan_build(MANIFEST, kept, _fingerprints(), full_refresh=True).select == []


def test_nothing_changed_selects_project_changes_and_the_marts():
    kept = BuildState({"nodes": {}}, _fingerprints())
    plan = plan_build(MANIFEST, kept, _fingerprints())
    assert plan.select == ["state:modified+", ALWAYS_REBUILT]
    assert plan.state_manifest == {"nodes": {}}
    assert "(none)" in plan.reasons[0]


def test_a_changed_or_missing_raw_table_selects_what_is_downstream_of_its_source():
    kept = BuildState(MANIFEST, _fingerprints())
    plan = plan_build(MANIFEST, kept, _fingerprints(vandalism_ledger="other", efforts=None))
    assert plan.select == [
        "source:efforts.efforts+",
        "source:vandalism.vandalism_ledger+",
        "state:modified+",
        ALWAYS_REBUILT,
    ]


def _built(**ledger_lines: object) -> BuildState:
    """The kept state of a build of the project's files as they are now, with `ledger_lines`
    replacing fields of the incremental ledger model's node."""
    nodes = copy.deepcopy(MANIFEST["nodes"])
    for unique_id in INCREMENTAL:
        node = nodes[unique_id]
        sql = (settings.DBT_PROJECT_DIR / node["original_file_path"]).read_text(encoding="utf-8")
        node["checksum"] = {
            "name": "sha256",
            "checksum": hashlib.sha256(sql.strip().encode()).hexdigest(),
        }
    nodes[LEDGER_LINES].update(ledger_lines)
    return BuildState({**MANIFEST, "nodes": nodes}, _fingerprints())


def test_incremental_models_are_rebuilt_in_full_when_their_sql_or_config_changed():
    assert incremental_models_changed(MANIFEST, None) == INCREMENTAL
    assert incremental_models_changed(MANIFEST, _built()) == []
    other_sql = _built(checksum={"name": "sha256", "checksum": "0" * 64})
    assert incremental_models_changed(MANIFEST, other_sql) == [LEDGER_LINES]
    other_config = _built(config={**MANIFEST["nodes"][LEDGER_LINES]["config"], "unique_key": []})
    assert incremental_models_changed(MANIFEST, other_config) == [LEDGER_LINES]

    assert plan_build(MANIFEST, None, _fingerprints()).full_refresh
    assert not plan_build(MANIFEST, _built(), _fingerprints(vandalism_ledger="new")).full_refresh
    plan = plan_build(MANIFEST, other_sql, _fingerprints(vandalism_ledger="new"))
    assert plan.full_refresh
    assert "stg_vandalism__ledger_lines" in plan.reasons[-1]
