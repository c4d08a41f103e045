"""GX validation as Dagster asset checks: shared result rendering, and one check per mart.

The mart checks read `marts.<name>` into pandas and validate it against
`expectations/<name>.json`; they are blocking, so a failed mart stops what is downstream of it.
GX is imported only when a check runs (validation.validate imports it lazily).
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)

from orchestration.defs.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.metadata import markdown_table
from validation.data_docs import page_of
from validation.validate import (
    ERROR,
    WARNING,
    Outcome,
    Reference,
    ValidationReport,
    load_suite,
    validate_frame,
)

MARTS = (
    "area_metrics",
    "area_criteria",
    "area_status",
    "area_list_status",
    "area_list_reconciliation",
    "area_safety",
    "resource_allocation",
    "allocation_8020",
    "allocation_recommendation",
)
_GX_SEVERITY = {AssetCheckSeverity.ERROR: ERROR, AssetCheckSeverity.WARN: WARNING}


def _sample_text(outcome: Outcome) -> str:
    parts = []
    for sample in outcome.samples[:3]:
        where = sample.get("file") or ""
        if sample.get("row") is not None:
            where += f":{sample['row']}"
        if "keys" in sample:
            where = ", ".join(f"{k}={v}" for k, v in sample["keys"].items())
        value = sample.get("value")
        parts.append(f"{value!r} @ {where}" if where else repr(value))
    return "; ".join(parts)


def check_result(
    report: ValidationReport, severity: AssetCheckSeverity, **target: str
) -> AssetCheckResult:
    """The report's expectations of one severity as a check result: which failed, how many
    rows, and a sample of the bad values with their file and row."""
    level = _GX_SEVERITY[severity]
    failed = report.failures(level)
    rows = [
        (o.expectation, o.header or o.column, o.unexpected_count, o.description, _sample_text(o))
        for o in failed
    ]
    metadata = {
        key: MetadataValue.json(value) if isinstance(value, list) else value
        for key, value in report.metadata(level).items()
        if value is not None
    }
    if report.result_path:
        # The result's page in the GX Data Docs site (rebuilt after the run: the data_docs job).
        page = page_of(report.result_path)
        metadata["validation_page"] = MetadataValue.url(page.as_uri())
    if failed:
        metadata["first_failure"] = MetadataValue.text(failed[0].summary())
        metadata["failed"] = MetadataValue.md(
            markdown_table(
                ["expectation", "column", "unexpected rows", "rule", "sample (value @ file:row)"],
                rows,
            )
        )
    return AssetCheckResult(
        passed=not failed,
        severity=severity,
        metadata=metadata,
        description=failed[0].summary() if failed else None,
        **target,
    )


def build_mart_check(name: str) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(["marts", name]),
        name=f"gx_{name}",
        blocking=True,
        description=f"expectations/{name}.json on marts.{name} (MARTS.md contract).",
        pool=WAREHOUSE_POOL,
    )
    def _check(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect() as con:
            frame = con.execute(f"select * from marts.{name}").df()
            reference = Reference.from_warehouse(con)
        index_columns = load_suite(name)["meta"]["index_columns"]
        report = validate_frame(
            name, frame, reference=reference, index_columns=index_columns, run_id=context.run.run_id
        )
        context.log.info(f"marts.{name}: GX validated {report.rows} rows in {report.seconds:.2f} s")
        return check_result(report, AssetCheckSeverity.ERROR)

    return _check


mart_checks = [build_mart_check(name) for name in MARTS]
