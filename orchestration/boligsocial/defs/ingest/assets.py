"""One asset per source: read its files, validate them and swap them into raw.<name>.

Validation (`expectations/<name>.json`) runs before the swap, per file: GX on the new or changed
files' rows, the table-scope rules in SQL over the rows after the swap (docs/performance.md), and
reports as the asset's own checks: `gx_<name>` (error level, blocking) and `gx_<name>_warnings`.
When an error-level expectation fails, the asset fails without touching raw, so everything
downstream is skipped and the previous good data stays. A source without any new, changed or
removed file is neither read nor written; its checks say so (`validated`).
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from boligsocial.defs.ingest.statbank import STATBANK_RESPONSES
from boligsocial.defs.metadata import markdown_table, table_metadata
from boligsocial.defs.resources import WAREHOUSE_POOL, SourcesResource, WarehouseResource
from boligsocial.loading.warehouse import ingest
from boligsocial.sources import messages
from boligsocial.sources.catalog import SOURCES, SourceSpec
from boligsocial.sources.errors import SourceError
from boligsocial.validation.data_docs import page_of
from boligsocial.validation.report import Outcome, ValidationReport
from boligsocial.validation.suites import ERROR, WARNING
from boligsocial.validation.validate import ValidationFailed, raw_validator

# The StatBank cache is refreshed (in live mode) before it is read.
OTHER_DEPS: dict[str, tuple[AssetKey, ...]] = {"statbank": (STATBANK_RESPONSES,)}


def _check_specs(spec: SourceSpec) -> list[AssetCheckSpec]:
    key = AssetKey(["raw", spec.name])
    return [
        AssetCheckSpec(
            f"gx_{spec.name}",
            asset=key,
            blocking=True,
            description=f"Error-level expectations of expectations/{spec.name}.json (blocking).",
        ),
        AssetCheckSpec(
            f"gx_{spec.name}_warnings",
            asset=key,
            description=f"Warning-level expectations of expectations/{spec.name}.json.",
        ),
    ]


_GX_SEVERITY = {AssetCheckSeverity.ERROR: ERROR, AssetCheckSeverity.WARN: WARNING}


def _sample_text(outcome: Outcome) -> str:
    """The first samples as `value @ file:row`; what comes from the files (values, file
    names) with control characters made visible, so a cell cannot act on a terminal that
    shows the log."""
    parts = []
    for sample in outcome.samples[:3]:
        where = messages.visible(sample.get("file") or "")
        if sample.get("row") is not None:
            where += f":{sample['row']}"
        value = messages.shown(sample.get("value"), "en", outcome.column)
        parts.append(f"{value} @ {where}" if where else value)
    return "; ".join(parts)


def _summary(report: ValidationReport, level: str) -> str:
    """The report's failures of `level`, one line each, control characters made visible."""
    return "\n".join(messages.visible(o.summary()) for o in report.failures(level))


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
        metadata["first_failure"] = MetadataValue.text(messages.visible(failed[0].summary()))
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
        description=messages.visible(failed[0].summary()) if failed else None,
        **target,
    )


def _check_results(spec: SourceSpec, report: ValidationReport) -> list[AssetCheckResult]:
    return [
        check_result(report, AssetCheckSeverity.ERROR, check_name=f"gx_{spec.name}"),
        check_result(report, AssetCheckSeverity.WARN, check_name=f"gx_{spec.name}_warnings"),
    ]


def build_ingest_asset(spec: SourceSpec) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", spec.name]),
        group_name=spec.system,
        description=f"{spec.description} Files: {', '.join(spec.patterns)}.",
        kinds={"python", "duckdb"},
        tags={"layer": "raw", "source_system": spec.system},
        pool=WAREHOUSE_POOL,
        deps=[
            # The reference data the source's rules look up is loaded first.
            *(AssetKey(["raw", name]) for name in spec.references),
            *OTHER_DEPS.get(spec.name, ()),
        ],
        check_specs=_check_specs(spec),
    )
    def _ingest(
        context: AssetExecutionContext, warehouse: WarehouseResource, sources: SourcesResource
    ):
        reports: list[ValidationReport] = []
        validate = raw_validator(spec, reports, run_id=context.run.run_id)
        with warehouse.connect() as con:
            try:
                result = ingest(spec, sources.path, con, validate=validate)
            except SourceError as error:
                error = error.within(sources.path)
                raise Failure(
                    description=f"Source '{spec.name}' rejected: {error}",
                    metadata={"file": error.file, "row": error.row, "column": error.column},
                ) from error
            except ValidationFailed as failed:
                yield from _check_results(spec, failed.report)
                first = failed.report.failures("critical")[0]
                sample = first.samples[0] if first.samples else {}
                raise Failure(
                    description=f"Source '{spec.name}' rejected: {_summary(failed.report, ERROR)}",
                    metadata={
                        "file": sample.get("file"),
                        "row": sample.get("row"),
                        "column": first.header,
                        "expectation": first.expectation,
                        "unexpected_rows": first.unexpected_count,
                    },
                ) from failed
            metadata = table_metadata(con, spec.table)
        context.log.info(
            f"{spec.table}: {len(result.files_loaded)} file(s) loaded, "
            f"{len(result.files_removed)} removed, {result.row_count} rows"
            + ("" if result.changed else " (no file changed: nothing read or written)")
        )
        [report] = reports
        metadata |= {
            "files": MetadataValue.int(len(result.files)),
            "files_loaded": MetadataValue.json(result.files_loaded),
            "files_removed": MetadataValue.json(result.files_removed),
            "rows_loaded": MetadataValue.int(result.rows_loaded),
            "gx_seconds": MetadataValue.float(round(report.seconds, 3)),
        }
        yield MaterializeResult(metadata=metadata, check_results=_check_results(spec, report))

    return _ingest


ingest_assets = [build_ingest_asset(spec) for spec in SOURCES]
