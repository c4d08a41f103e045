"""The dbt project's Dagster asset and check specs, read from dbt's manifest.json.

These are the specs dagster-dbt's `@dbt_assets` builds with `orchestration.dbt_worker`'s
translator (tests/orchestration/test_dbt_specs.py compares the two), made without importing
dagster-dbt and dbt-core (~2.5 s), so the code location loads fast. dagster-dbt is imported
only by the dbt worker, the process that runs the dbt step's command. The naming rules (asset
keys, groups, tags, owners) live here once; the translator dagster-dbt uses there calls these
functions.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckKey,
    AssetCheckSpec,
    AssetDep,
    AssetKey,
    AssetSpec,
    MetadataValue,
    TableColumn,
    TableSchema,
)
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._utils.tags import is_valid_tag_key

OWNERS = ["team:kompetencecenter"]
ASSET_RESOURCE_TYPES = ("model", "seed", "snapshot")
UNIQUE_ID_METADATA_KEY = "dagster_dbt/unique_id"

Props = Mapping[str, Any]


def load_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def asset_key(props: Props) -> AssetKey:
    """Sources: `meta.dagster.asset_key` (the raw assets). Models and seeds: [schema, name]."""
    meta = props.get("config", {}).get("meta", {}) or props.get("meta", {})
    configured = meta.get("dagster", {}).get("asset_key")
    if configured:
        return AssetKey(configured)
    if props["resource_type"] == "source":
        return AssetKey([props["source_name"], props["name"]])
    schema = props.get("schema") or props.get("config", {}).get("schema")
    return AssetKey([schema, props["name"]])


def group_name(props: Props) -> str:
    """The layer: seeds are `rulesets`, models their folder under models/."""
    if props["resource_type"] == "seed":
        return "rulesets"
    fqn = props.get("fqn", [])
    return fqn[1] if len(fqn) > 2 else "dbt"


def tags(props: Props) -> dict[str, str]:
    return {
        **{tag: "" for tag in props.get("tags", []) if is_valid_tag_key(tag)},
        "layer": group_name(props),
    }


def description(props: Props) -> str:
    """dbt's description, then the model's SQL (as dagster-dbt shows it)."""
    code = textwrap.indent(props.get("raw_sql") or props.get("raw_code", ""), "    ")
    head = props.get("description") or f"dbt {props['resource_type']} {props['name']}"
    return f"{head}\n\n#### Raw SQL:\n```sql\n{code}\n```"


def code_version(props: Props) -> str | None:
    code = props.get("raw_sql") or props.get("raw_code")
    if code:
        return hashlib.sha1(code.encode("utf-8")).hexdigest()
    return props.get("checksum", {}).get("checksum")


def _table_metadata(props: Props, adapter_type: str | None) -> dict[str, Any]:
    columns = props.get("columns", {})
    schema = None
    if columns:
        schema = TableSchema(
            columns=[
                TableColumn(
                    name=name,
                    type=info.get("data_type") or "?",
                    description=info.get("description"),
                    tags={tag: "" for tag in info.get("tags", [])},
                )
                for name, info in columns.items()
            ]
        )
    source_table = props["name"] if props["resource_type"] == "source" else None
    parts = [props.get("database"), props.get("schema"), props.get("alias"), source_table]
    relation = ".".join(p for p in parts if p) or None
    return dict(
        TableMetadataSet(column_schema=schema, table_name=relation, storage_kind=adapter_type)
    )


def metadata(props: Props, adapter_type: str | None, project_id: str | None) -> dict[str, Any]:
    found = _table_metadata(props, adapter_type)
    materialized = props.get("config", {}).get("materialized")
    if materialized is not None:
        found["dagster-dbt/materialization_type"] = materialized
    found[UNIQUE_ID_METADATA_KEY] = props["unique_id"]
    if project_id:
        found["dagster_dbt/project_id"] = MetadataValue.text(project_id)
    return found


def node(manifest: Props, unique_id: str) -> Props:
    for section in ("nodes", "sources"):
        if unique_id in manifest.get(section, {}):
            return manifest[section][unique_id]
    raise KeyError(f"{unique_id} is not in the dbt manifest")


def _is_asset(props: Props) -> bool:
    ephemeral = props.get("config", {}).get("materialized") == "ephemeral"
    return props["resource_type"] in ASSET_RESOURCE_TYPES and not ephemeral


def _upstream(manifest: Props, props: Props) -> list[str]:
    """The node's parents that are assets or sources (ephemeral models are looked through)."""
    found: list[str] = []
    queue = list(props.get("depends_on", {}).get("nodes", []))
    seen: set[str] = set()
    while queue:
        parent_id = queue.pop(0)
        if parent_id in seen:
            continue
        seen.add(parent_id)
        parent = node(manifest, parent_id)
        if parent["resource_type"] == "model" and not _is_asset(parent):
            queue.extend(parent.get("depends_on", {}).get("nodes", []))
        elif _is_asset(parent) or parent["resource_type"] == "source":
            found.append(parent_id)
    return found


def attached_node(manifest: Props, test: Props) -> str | None:
    """The node a dbt test checks: its attached node, its only parent, or `meta.dagster.ref`."""
    attached = test.get("attached_node")
    parents = test.get("depends_on", {}).get("nodes", [])
    if len(parents) == 1:
        attached = parents[0]
    meta = test.get("config", {}).get("meta", {}) or test.get("meta", {})
    ref = meta.get("dagster", {}).get("ref")
    if ref:
        package = ref.get("package") or manifest["metadata"]["project_name"]
        wanted = (ref["name"], package, ref.get("version"))
        attached = next(
            (
                unique_id
                for unique_id, props in manifest["nodes"].items()
                if (props["name"], props["package_name"], props.get("version")) == wanted
            ),
            None,
        )
    return attached


@dataclass(frozen=True)
class DbtSpecs:
    """The dbt assets and checks of one manifest, and how they map back to dbt nodes."""

    assets: list[AssetSpec]
    checks: list[AssetCheckSpec]
    unique_id_by_key: dict[AssetKey, str]
    test_by_check: dict[AssetCheckKey, str]


def build_specs(manifest: Props) -> DbtSpecs:
    keys = {
        unique_id: asset_key(props)
        for section in ("nodes", "sources")
        for unique_id, props in manifest.get(section, {}).items()
    }
    adapter_type = manifest.get("metadata", {}).get("adapter_type")
    project_id = manifest.get("metadata", {}).get("project_id")
    assets: list[AssetSpec] = []
    unique_id_by_key: dict[AssetKey, str] = {}
    for unique_id, props in sorted(manifest["nodes"].items()):
        if not _is_asset(props):
            continue
        key = keys[unique_id]
        if key in unique_id_by_key:
            raise ValueError(f"dbt nodes {unique_id_by_key[key]} and {unique_id} share {key}")
        unique_id_by_key[key] = unique_id
        deps = []
        for parent_id in _upstream(manifest, props):
            parent = node(manifest, parent_id)
            dep_metadata = None
            if parent["resource_type"] == "source":
                # dagster-dbt's `enable_source_metadata`: the raw table's name and columns.
                dep_metadata = _table_metadata(parent, adapter_type)
            deps.append(AssetDep(keys[parent_id], metadata=dep_metadata))
        assets.append(
            AssetSpec(
                key=key,
                deps=deps,
                description=description(props),
                metadata=metadata(props, adapter_type, project_id),
                skippable=True,
                group_name=group_name(props),
                code_version=code_version(props),
                owners=OWNERS,
                tags=tags(props),
                kinds={"dbt", adapter_type or "dbt"},
            )
        )

    checks: dict[AssetCheckKey, AssetCheckSpec] = {}
    test_by_check: dict[AssetCheckKey, str] = {}
    for unique_id, test in sorted(manifest["nodes"].items()):
        if test["resource_type"] != "test":
            continue
        target = attached_node(manifest, test)
        if target is None or keys.get(target) not in unique_id_by_key:
            continue  # tests of sources are dbt's, not Dagster checks
        key = keys[target]
        parents = set(manifest["parent_map"].get(unique_id, []))
        severity = test.get("config", {}).get("severity") or "error"
        spec = AssetCheckSpec(
            name=test["name"],
            asset=key,
            description=test.get("meta", {}).get("description"),
            additional_deps={keys[p] for p in parents} - {key},
            metadata={UNIQUE_ID_METADATA_KEY: unique_id},
            blocking=severity.lower() == "error",
        )
        checks[spec.key] = spec
        test_by_check[spec.key] = unique_id
    return DbtSpecs(assets, list(checks.values()), unique_id_by_key, test_by_check)
