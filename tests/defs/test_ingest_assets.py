"""All ingest assets materialised by Dagster into a fresh warehouse from the bundled example."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, materialize

from boligsocial.defs.ingest.assets import ingest_assets
from boligsocial.defs.resources import SourcesResource, WarehouseResource
from boligsocial.loading.warehouse import connect
from boligsocial.sources.catalog import SOURCES

# The slow tier: every ingest asset materialised with GX.
pytestmark = pytest.mark.slow

# De-duplicated ledger lines (the latest export period wins) dated in the year, counted for
# the area their department belongs to on the line's date.
VANDALISM_SQL = """
with latest as (
    select *, row_number() over (
        partition by selskab, sagsnr, linje order by export_period desc) as rank
    from raw.vandalism_ledger
)
select count(distinct (l.selskab, l.sagsnr)), sum(l.beloeb)
from latest l
join raw.departments d
  on d.housing_org = l.selskab and d.department_no = l.afdeling
 and l.dato >= d.valid_from and (d.valid_to is null or l.dato <= d.valid_to)
where l.rank = 1 and year(l.dato) = ?
"""


@pytest.fixture(scope="module")
def loaded_warehouse(tmp_path_factory) -> Path:
    from boligsocial.configuration import settings

    warehouse = tmp_path_factory.mktemp("ingest") / "warehouse.duckdb"
    result = materialize(
        ingest_assets,
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "sources": SourcesResource(directory=str(settings.EXAMPLE_SOURCES_DIR)),
        },
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    return warehouse


def test_every_source_has_a_raw_table_with_rows(loaded_warehouse: Path):
    with connect(loaded_warehouse, read_only=True) as con:
        counts = {
            spec.name: con.execute(f"select count(*) from {spec.table}").fetchone()[0]
            for spec in SOURCES
        }
    assert counts["areas"] == 4
    assert all(count > 0 for count in counts.values()), counts


def test_published_2015_vandalism_figures_from_raw(loaded_warehouse: Path):
    with connect(loaded_warehouse, read_only=True) as con:
        cases, cost = con.execute(VANDALISM_SQL, [2015]).fetchone()
    assert (cases, float(cost)) == (123, 228_968.0)


def test_published_arson_figures_from_raw(loaded_warehouse: Path):
    with connect(loaded_warehouse, read_only=True) as con:
        arson = dict(
            con.execute(
                "select year(dato), count(*) from raw.police_incidents "
                "where kategori = 'Påsat brand' group by 1"
            ).fetchall()
        )
    assert (arson[2014], arson[2015]) == (31, 15)


def test_materialisation_metadata_names_rows_and_schema(tmp_path: Path):
    from boligsocial.configuration import settings

    result = materialize(
        [a for a in ingest_assets if a.key.path[-1] == "areas"],
        resources={
            "warehouse": WarehouseResource(path=str(tmp_path / "w.duckdb")),
            "sources": SourcesResource(directory=str(settings.EXAMPLE_SOURCES_DIR)),
        },
    )
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["dagster/row_count"].value == 4
    assert [c.name for c in metadata["dagster/column_schema"].schema.columns][:2] == [
        "area_id",
        "area_name",
    ]
    assert "RINGPARKEN" in metadata["preview"].value


def test_check_results_show_control_characters_of_values_not_send_them(example_sources: Path):
    """A cell with terminal escape sequences in a failed rule, and a file whose name has them:
    the check's metadata and description and the steps' failures show them as text (issue 28
    §5)."""
    from tests.malformed.corpus import set_cell

    value = "\x1b[2K\x1b[1GAlt i orden"
    set_cell("police/incidents_2017.csv", 3, "område", value)(example_sources)
    ledger = example_sources / "vandalism"
    (ledger / "FOB_2016-06.csv").rename(ledger / "FOB\x1b[2K_2016-06.csv")
    result = materialize(
        [a for a in ingest_assets if a.key.path[-1] in ("areas", "police_incidents",
                                                         "vandalism_ledger")],
        resources={
            "warehouse": WarehouseResource(path=str(example_sources.parent / "w.duckdb")),
            "sources": SourcesResource(directory=str(example_sources)),
        },
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "gx_police_incidents"
    ]
    assert not evaluation.passed
    failures = [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    assert len(failures) == 2
    texts = [
        evaluation.metadata["first_failure"].value,
        evaluation.metadata["failed"].value,
        evaluation.description,
        *failures,
    ]
    for text in texts:
        # Markdown metadata escapes the bracket too ("\\x1b\\[2K"): the escape shows as text.
        assert "\x1b" not in text and "\\x1b" in text and "2K" in text, text
    assert any("FOB\\x1b[2K_2016-06.csv" in text for text in failures)


def test_a_source_loads_after_the_reference_tables_its_rules_look_up():
    """The catalog's `references` order the ingest: raw/departments after raw/areas, and so on."""
    by_key = {key: asset for asset in ingest_assets for key in asset.keys}
    for spec in SOURCES:
        asset = by_key[AssetKey(["raw", spec.name])]
        raw_deps = {key.path[1] for key in asset.dependency_keys if key.path[0] == "raw"}
        assert raw_deps == set(spec.references), spec.name
