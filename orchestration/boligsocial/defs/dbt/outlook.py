"""The next list, if nothing changes: an area whose outlook ranks above its status now is a
finding for the board (it would escalate on the list of 1 December), not an error, so the
check warns and blocks nothing; the warnings mail takes it to the data engineer."""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from boligsocial.defs.metadata import markdown_table
from boligsocial.defs.resources import WAREHOUSE_POOL, WarehouseResource

OUTLOOK = AssetKey(["marts", "area_outlook"])
COLUMNS = [
    "area_id",
    "area_name",
    "ruleset",
    "latest_year",
    "status_latest",
    "outlook_year",
    "status_outlook",
    "consecutive_years_outlook",
    "persons_to_avoid",
]


@asset_check(
    asset=OUTLOOK,
    name="outlook_escalations",
    description=(
        "Warns when an area's status on the next list, if nothing changes, ranks above its "
        "status in its latest data year (marts.area_outlook.escalates); lists the areas."
    ),
    pool=WAREHOUSE_POOL,
)
def outlook_escalations(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connect() as con:
        rows = con.execute(
            f"select {', '.join(COLUMNS)} from marts.area_outlook "
            "where escalates order by area_name, area_id, ruleset"
        ).fetchall()
        [(areas,)] = con.execute(
            "select count(distinct area_id) from marts.area_outlook"
        ).fetchall()
    escalating = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    described = "; ".join(
        f"{e['area_name']}: {e['status_latest']} in {e['latest_year']}, {e['status_outlook']} "
        f"in {e['outlook_year']} if nothing changes ({e['ruleset']}; "
        + (
            f"{e['persons_to_avoid']} persons to avoid it)"
            if e["persons_to_avoid"] is not None
            else "no route within one year)"
        )
        for e in escalating
    )
    return AssetCheckResult(
        passed=not escalating,
        severity=AssetCheckSeverity.WARN,
        description=described or None,
        metadata={
            "areas_with_an_outlook": MetadataValue.int(areas),
            "escalations": MetadataValue.int(len(escalating)),
            "escalating": MetadataValue.md(markdown_table(COLUMNS, rows)),
            "escalating_json": MetadataValue.json(escalating),
        },
    )
