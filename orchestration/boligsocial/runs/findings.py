"""What a run found wrong, as lines people read: `make run`'s summary and the alert mails.

A failed step comes first: for an ingest step its line is "Source '<name>' rejected: <file>, row
<n>, column <c>: <message>" (the step's dagster.Failure), so the first line names the source and
why. Failed error-level checks follow; failed warning-level checks are listed apart (they do
not fail a run, but the people who deliver the files should hear of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
)

from boligsocial.sources.messages import visible

# The events the lines come from, for reading them back from an instance's event log.
EVENT_TYPES = frozenset({DagsterEventType.STEP_FAILURE, DagsterEventType.ASSET_CHECK_EVALUATION})


def step_failure_reason(event: DagsterEvent) -> str:
    """The first line of why a step failed: the step's own Failure, or the error that ended it
    ("RuntimeError: ... (MemoryError: ...)", not Dagster's wrapper around it)."""
    data = event.event_specific_data
    if data.user_failure_data and data.user_failure_data.description:
        message = data.user_failure_data.description
    elif data.error:
        # Dagster's own errors wrap the step's: the first that is not Dagster's is what the
        # code raised, and its innermost cause (a MemoryError) says why.
        error = data.error
        while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
            error = error.cause
        message = f"step {event.step_key} failed: {_first_line(error.message)}"
        root = error
        while root.cause is not None:
            root = root.cause
        if root is not error:
            message += f" ({_first_line(root.message)})"
    else:
        message = f"step {event.step_key} failed"
    return message.strip().splitlines()[0]


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


@cache
def check_meanings() -> dict[AssetCheckKey, str]:
    """What each check's failure means, in words: its description (for a dbt test, the
    test's `meta.description`)."""
    from boligsocial.definitions import defs  # the code location: only when lines are made

    graph = defs.resolve_asset_graph()
    return {
        spec.key: spec.description
        for assets in graph.assets_defs
        for spec in assets.check_specs
        if spec.description
    }


def check_line(evaluation: AssetCheckEvaluation, meaning: str | None) -> str:
    """A failed check as people read it: what it found (file, row, column and the rule), or
    what its failure means and on how many rows; the check's name only when neither is known."""
    if evaluation.description:
        return evaluation.description
    if meaning:
        failed = evaluation.metadata.get("dagster_dbt/failed_row_count")
        rows = getattr(failed, "value", None)
        return meaning + (f" ({rows:,} rows)" if isinstance(rows, int) else "")
    check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    return f"check {check} failed"


def run_findings(events: Iterable[DagsterEvent]) -> tuple[list[str], list[str]]:
    """(failed steps, then failed error-level checks; failed warning-level checks)."""
    steps, checks, warnings = [], [], []
    for event in events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            steps.append(step_failure_reason(event))
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                meaning = (
                    None
                    if evaluation.description
                    else check_meanings().get(evaluation.asset_check_key)
                )
                line = check_line(evaluation, meaning)
                is_warning = evaluation.severity == AssetCheckSeverity.WARN
                (warnings if is_warning else checks).append(line)
    # Lines may quote delivered values (an area's name): a terminal or mail shows them inert.
    return [visible(line) for line in steps + checks], [visible(line) for line in warnings]


def stored_run_findings(instance: DagsterInstance, run_id: str) -> tuple[list[str], list[str]]:
    """run_findings of a run already recorded in the instance (for sensors)."""
    records = instance.all_logs(run_id, of_type=set(EVENT_TYPES))
    return run_findings(r.dagster_event for r in records if r.dagster_event is not None)
