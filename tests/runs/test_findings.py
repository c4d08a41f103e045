"""What a run found, as the lines `make run` and the alert mails show: a step that failed on an
error (not a dagster.Failure) is named with the error the code raised and its innermost cause,
not Dagster's DagsterExecutionStepExecutionError around them."""

from __future__ import annotations

from dagster import asset, materialize

from boligsocial.runs.findings import run_findings


@asset
def statbank_like() -> None:
    try:
        raise MemoryError("the parse needed 2.9 GB")
    except MemoryError as error:
        raise RuntimeError("reading statbank/BEF1.csv failed") from error


def test_a_step_failed_on_an_error_is_named_by_its_error_and_its_cause():
    result = materialize([statbank_like], raise_on_error=False)
    errors, warnings = run_findings(result.all_events)
    assert errors == [
        "step statbank_like failed: RuntimeError: reading statbank/BEF1.csv failed "
        "(MemoryError: the parse needed 2.9 GB)"
    ]
    assert warnings == []
