"""How fresh the deliverables must be: the marts, their publication for BI tools and the board
report are refreshed monthly (the `monthly_refresh` schedule, the 1st at 06:00 Copenhagen
time) and are overdue when they were not refreshed since the 1st by the 3rd at 06:00.

Dagster's freshness daemon (part of `dagster-daemon run`) evaluates the policy every 30 s; the
UI shows each asset's state (Fresh / Overdue) on its page and in the asset list.

The policy is applied to the whole code location (boligsocial/definitions.py:
`with_freshness`), by asset key, after every defs module is loaded: it does not depend on how
a module builds its assets (the dbt assets' specs from the manifest or a DagsterDbtTranslator).
"""

import warnings
from datetime import timedelta

from dagster import (
    AssetKey,
    AssetSelection,
    Definitions,
    FreshnessPolicy,
    PreviewWarning,
    apply_freshness_policy,
)

GRACE = timedelta(days=2)  # the 1st 06:00 (the scheduled refresh) + 2 days: a failed run refixed
MONTHLY = FreshnessPolicy.cron(
    deadline_cron="0 6 3 * *",  # the 3rd at 06:00: the schedule's tick plus the grace period
    lower_bound_delta=GRACE,  # materialised after the 1st at 06:00 counts for the month
    timezone="Europe/Copenhagen",
)
DELIVERABLES = AssetSelection.key_prefixes(["marts"]) | AssetSelection.assets(
    AssetKey(["publish", "marts"]), AssetKey(["publish", "board_report"])
)


def with_freshness(defs: Definitions) -> Definitions:
    """The definitions with the monthly policy on every deliverable."""
    # map_resolved_asset_specs is public but "preview" in Dagster 1.13 (pinned to 1.13.x in
    # pyproject.toml): its warning would be printed by every process that loads the location.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_resolved_asset_specs(
            func=lambda spec: apply_freshness_policy(spec, MONTHLY), selection=DELIVERABLES
        )
