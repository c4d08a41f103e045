"""The GX Data Docs site, rebuilt after every refresh, failed or not (a failed validation is
what people most need to open).

Two run-status sensors on `refresh_all` (running by default) each request one run of the job
`data_docs` per finished refresh (run key: the refresh's run id, so a tick evaluated twice
launches one). The site is validation.data_docs.site_dir(); every GX check's metadata links to
its page there (`validation_page`).
"""

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    OpExecutionContext,
    RunFailureSensorContext,
    RunRequest,
    RunStatusSensorContext,
    job,
    op,
    run_failure_sensor,
    run_status_sensor,
)

from boligsocial.defs.automation.jobs import refresh_all


@op(description="Render the kept GX validation results and the suites as a static, offline site.")
def build_gx_data_docs(context: OpExecutionContext) -> None:
    from boligsocial.validation.data_docs import (
        build_data_docs,  # GX: imported only when the site is built
    )

    context.log.info(f"GX Data Docs: {build_data_docs()}")


@job(description="Rebuild the GX Data Docs site (after every refresh).")
def data_docs():
    build_gx_data_docs()


def _request(context: RunStatusSensorContext) -> RunRequest:
    run_id = context.dagster_run.run_id
    return RunRequest(run_key=f"data-docs-{run_id}", tags={"boligsocial/refresh": run_id})


@run_status_sensor(
    name="data_docs_after_refresh",
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_all],
    request_job=data_docs,
    default_status=DefaultSensorStatus.RUNNING,
    description="Rebuilds the GX Data Docs site after each successful refresh.",
)
def data_docs_after_refresh(context: RunStatusSensorContext):
    return _request(context)


@run_failure_sensor(
    name="data_docs_after_failed_refresh",
    monitored_jobs=[refresh_all],
    request_job=data_docs,
    default_status=DefaultSensorStatus.RUNNING,
    description="Rebuilds the GX Data Docs site after each failed refresh.",
)
def data_docs_after_failed_refresh(context: RunFailureSensorContext):
    return _request(context)
