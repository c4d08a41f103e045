"""The Dagster code location: `dagster dev -m orchestration.definitions`.

Every definition lives in a module of `orchestration/defs/` (dg's project layout), which Dagster
loads as a folder: an asset, check, job, schedule or sensor added there needs no line here.
`dg check defs` validates the folder. The freshness policies are applied to the whole location
(orchestration/defs/freshness.py).
"""

from pathlib import Path

from dagster import load_from_defs_folder

from orchestration.defs.freshness import with_freshness

defs = with_freshness(load_from_defs_folder(path_within_project=Path(__file__).parent))
