"""The dbt asset specs built at load time equal those dagster-dbt's `@dbt_assets` builds."""

from __future__ import annotations

import pytest
from dagster import AssetCheckKey, AssetKey

from orchestration import dbt_specs
from orchestration.defs.dbt import MANIFEST, SPECS, dbt_models

# Bookkeeping dagster-dbt attaches to every spec so its `@dbt_assets` can find the manifest and
# translator again; the specs here carry the manifest themselves (orchestration.assets.dbt).
DAGSTER_DBT_OBJECTS = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


@pytest.fixture(scope="module")
def dagster_dbt_specs():
    from dagster_dbt.asset_utils import build_dbt_specs

    from orchestration.dbt_worker import BoligsocialTranslator

    assets, checks = build_dbt_specs(
        translator=BoligsocialTranslator(),
        manifest=MANIFEST,
        select="fqn:*",
        exclude="",
        selector="",
        io_manager_key=None,
        project=None,
    )
    return {s.key: s for s in assets}, {c.key: c for c in checks}


def test_every_asset_spec_matches_dagster_dbt(dagster_dbt_specs):
    theirs, _ = dagster_dbt_specs
    ours = {s.key: s for s in SPECS.assets}
    assert set(ours) == set(theirs)
    for key, spec in ours.items():
        expected = theirs[key]
        for field in (
            "description",
            "group_name",
            "code_version",
            "owners",
            "tags",
            "kinds",
            "skippable",
        ):
            assert getattr(spec, field) == getattr(expected, field), (key, field)
        assert {d.asset_key: d.metadata for d in spec.deps} == {
            d.asset_key: d.metadata for d in expected.deps
        }, key
        their_metadata = {
            k: v for k, v in expected.metadata.items() if k not in DAGSTER_DBT_OBJECTS
        }
        assert spec.metadata == their_metadata, key


def test_every_check_spec_matches_dagster_dbt(dagster_dbt_specs):
    _, theirs = dagster_dbt_specs
    ours = {c.key: c for c in SPECS.checks}
    assert set(ours) == set(theirs)
    assert len(ours) > 250  # the project's data tests on models and seeds
    for key, check in ours.items():
        expected = theirs[key]
        assert check.additional_deps == expected.additional_deps, key
        assert (check.blocking, check.description, check.metadata) == (
            expected.blocking,
            expected.description,
            expected.metadata,
        ), key


def test_layers_owners_and_raw_sources():
    by_key = {s.key: s for s in SPECS.assets}
    staging = by_key[AssetKey(["staging", "stg_vandalism__ledger_lines"])]
    assert staging.group_name == "staging"
    assert staging.owners == ["team:kompetencecenter"]
    assert AssetKey(["raw", "vandalism_ledger"]) in {d.asset_key for d in staging.deps}
    assert by_key[AssetKey(["rulesets", "ruleset_criteria"])].group_name == "rulesets"
    assert by_key[AssetKey(["marts", "area_status"])].tags["layer"] == "marts"
    assert set(dbt_models.keys) == set(by_key)


def test_singular_tests_over_several_nodes_are_checks_of_the_node_their_meta_names():
    checks = {c.key: c for c in SPECS.checks}
    key = AssetCheckKey(
        AssetKey(["marts", "area_safety"]), "safety_vandalism_cost_matches_attributed_lines"
    )
    assert AssetKey(["intermediate", "int_vandalism_lines_by_area"]) in {
        d.asset_key for d in checks[key].additional_deps
    }
    assert (
        AssetCheckKey(
            AssetKey(["rulesets", "ruleset_criteria"]), "assert_ruleset_chains_reach_a_root"
        )
        in checks
    )


def test_a_node_missing_from_the_manifest_is_named():
    with pytest.raises(KeyError, match=r"model\.boligsocial\.nope"):
        dbt_specs.node(MANIFEST, "model.boligsocial.nope")
