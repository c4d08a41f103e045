"""dbt-project-evaluator's main rules, checked on the manifest (the package itself comes from
dbt's package hub, which this project cannot reach): naming and layering, sources read only by
staging, a primary-key test and a description on every model."""

import json

import pytest

from tests.dbt.conftest import run_dbt

PRIMARY_KEY_TESTS = {"unique", "unique_combination_of_columns"}
# Written-down exceptions (dbt-project-evaluator's fct_staging_dependent_on_staging): the police
# and the official list name areas by area_name, and their staging models resolve it to area_id
# against stg_reference__areas, so every later model joins on the key.
STAGING_ON_STAGING = {
    "stg_police__incidents",
    "stg_police__tryghedsindeks",
    "stg_reference__official_list",
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("dbt_parse")
    run_dbt("parse", work=work, warehouse=work / "unused.duckdb")
    return json.loads((work / "target" / "manifest.json").read_text())


def models(manifest: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def layer(model: dict) -> str:
    return model["fqn"][1]


def test_models_are_named_after_their_layer(manifest):
    prefixes = {"staging": "stg_", "intermediate": "int_"}
    wrong = [
        m["name"]
        for m in models(manifest)
        if layer(m) in prefixes and not m["name"].startswith(prefixes[layer(m)])
    ]
    assert wrong == []
    staging = [m for m in models(manifest) if layer(m) == "staging"]
    # stg_<source>__<entity>, in the folder of its source
    assert all(m["name"].startswith(f"stg_{m['fqn'][2]}__") for m in staging)


def test_only_staging_reads_sources_and_staging_reads_only_sources(manifest):
    problems = []
    for model in models(manifest):
        parents = model["depends_on"]["nodes"]
        if layer(model) != "staging":
            if any(p.startswith("source.") for p in parents):
                problems.append(f"{model['name']} ({layer(model)}) reads a source directly")
        elif model["name"] not in STAGING_ON_STAGING and any(
            p.startswith("model.") for p in parents
        ):
            problems.append(f"{model['name']} (staging) depends on a model")
    assert problems == []


def test_every_model_has_a_primary_key_test(manifest):
    tested = set()
    for node in manifest["nodes"].values():
        metadata = node.get("test_metadata") or {}
        if node["resource_type"] == "test" and metadata.get("name") in PRIMARY_KEY_TESTS:
            tested.update(node["depends_on"]["nodes"])
    assert [m["name"] for m in models(manifest) if m["unique_id"] not in tested] == []


def test_every_model_and_source_is_described(manifest):
    undescribed = [m["name"] for m in models(manifest) if not m["description"].strip()]
    undescribed += [s["name"] for s in manifest["sources"].values() if not s["description"]]
    assert undescribed == []


def test_marts_enforce_their_contracts(manifest):
    marts = [m for m in models(manifest) if layer(m) == "marts"]
    assert len(marts) == 13  # MARTS.md's, list_categories and allocation_policy
    assert all(m["config"]["contract"]["enforced"] for m in marts)
    assert all(m["config"]["materialized"] == "table" for m in marts)
