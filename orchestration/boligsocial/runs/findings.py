"""What a run found wrong, as lines people read: `make run`'s summary and the alert mails.

A failed step comes first: for an ingest step its line is "Source '<name>' rejected: <file>, row
<n>, column <c>: <message>" (the step's dagster.Failure), so the first line names the source and
why. Failed error-level checks follow; failed warning-level checks are listed apart (they do
not fail a run, but the people who deliver the files should hear of them).
"""

from __future__ import annotations

from collections.abc import Iterable

from dagster import AssetCheckSeverity, DagsterEvent, DagsterEventType, DagsterInstance

# The events the lines come from, for reading them back from an instance's event log.
EVENT_TYPES = frozenset({DagsterEventType.STEP_FAILURE, DagsterEventType.ASSET_CHECK_EVALUATION})


def step_failure_reason(event: DagsterEvent) -> str:
    """The first line of why a step failed."""
    data = event.event_specific_data
    if data.user_failure_data and data.user_failure_data.description:
        message = data.user_failure_data.description
    elif data.error:
        message = f"step {event.step_key} failed: {data.error.message}"
    else:
        message = f"step {event.step_key} failed"
    return message.strip().splitlines()[0]


def run_findings(events: Iterable[DagsterEvent]) -> tuple[list[str], list[str]]:
    """(failed steps, then failed error-level checks; failed warning-level checks)."""
    steps, checks, warnings = [], [], []
    for event in events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            steps.append(step_failure_reason(event))
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:
                check = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                line = f"check {check} failed"
                if evaluation.description:  # a finding: say what it is
                    line += f": {evaluation.description}"
                is_warning = evaluation.severity == AssetCheckSeverity.WARN
                (warnings if is_warning else checks).append(line)
    return steps + checks, warnings


def stored_run_findings(instance: DagsterInstance, run_id: str) -> tuple[list[str], list[str]]:
    """run_findings of a run already recorded in the instance (for sensors)."""
    records = instance.all_logs(run_id, of_type=set(EVENT_TYPES))
    return run_findings(r.dagster_event for r in records if r.dagster_event is not None)
