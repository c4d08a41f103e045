"""The computed list status against the official list: each disagreement is a finding for the
board, not an error, so the check warns and blocks nothing."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from boligsocial.defs.metadata import markdown_table
from boligsocial.defs.resources import WAREHOUSE_POOL, WarehouseResource

RECONCILIATION = AssetKey(["marts", "area_list_reconciliation"])
COLUMNS = [
    "area_id",
    "area_name",
    "year",
    "ruleset",
    "computed_status",
    "official_status",
    "computed_complete",
]


@asset_check(
    asset=RECONCILIATION,
    name="official_list_disagreements",
    description=(
        "Warns when the computed status differs from reference/official_list.csv; lists the "
        "areas and years (computed_complete false: the computation lacked data)."
    ),
    pool=WAREHOUSE_POOL,
)
def official_list_disagreements(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connect() as con:
        rows = con.execute(
            f"select {', '.join(COLUMNS)} from marts.area_list_reconciliation "
            "where not agrees order by year, area_id"
        ).fetchall()
        [(compared,)] = con.execute(
            "select count(agrees) from marts.area_list_reconciliation"
        ).fetchall()
    disagreements = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    described = "; ".join(
        f"{d['area_name']} {d['year']}: computed {d['computed_status']}, "
        f"official {d['official_status']}"
        + ("" if d["computed_complete"] else " (computed from incomplete data)")
        for d in disagreements
    )
    return AssetCheckResult(
        passed=not disagreements,
        severity=AssetCheckSeverity.WARN,
        # Said as it is read in a run's summary and the alert mail: what differs, then where.
        description=f"the computed status differs from the official list: {described}"
        if described
        else None,
        metadata={
            "area_years_compared": MetadataValue.int(compared),
            "disagreements": MetadataValue.int(len(disagreements)),
            "disagreeing": MetadataValue.md(markdown_table(COLUMNS, rows)),
            "disagreeing_json": MetadataValue.json(disagreements),
        },
    )
