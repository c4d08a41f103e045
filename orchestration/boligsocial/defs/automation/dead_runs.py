"""The daemon marks failed the runs of this host whose process died outright.

The run queue admits one run that writes the warehouse at a time (dagster.yaml). A run executed
in process (`make run`) and killed outright stays STARTED, watched by no code server, and the
default run launcher gives run monitoring no worker to check: the queue would wait for it until
`max_runtime_seconds`. Every run recovers such runs before its first step, but a queued run
never gets that far; so the daemon does it too, every minute (boligsocial/runs/recovery.py).
"""

from __future__ import annotations

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from boligsocial.runs import recovery


@sensor(
    name="dead_runs",
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Marks failed the runs of this machine whose process is gone (killed outright) and ends "
        "what they left running, so the run queue does not wait for them."
    ),
)
def dead_runs(context: SensorEvaluationContext) -> SkipReason:
    said: list[str] = []
    recovery.recover_dead_runs(context.instance, said.append)
    for line in said:
        context.log.warning(line)
    return SkipReason(" ".join(said) or "No dead run.")
