"""The incremental plan: what a refresh's dbt build selects, against the kept state."""

from __future__ import annotations

from orchestration.assets.dbt import MANIFEST
from orchestration.dbt_state import ALWAYS_REBUILT, BuildState, plan_build

SOURCES = sorted(MANIFEST["sources"])


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
