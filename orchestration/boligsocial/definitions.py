"""The Dagster code location: `dagster dev -m boligsocial.definitions`.

Every definition lives in a module of `boligsocial/defs/` (dg's project layout), which Dagster
loads as a folder: an asset, check, job, schedule or sensor added there needs no line here.
`dg check defs` validates the folder. The owners (boligsocial/defs/owners.py) and the freshness
policies (boligsocial/defs/automation/freshness.py) are applied to the whole location.
"""

from pathlib import Path

from dagster import load_from_defs_folder

from boligsocial.defs.automation.freshness import with_freshness
from boligsocial.defs.owners import with_owners

defs = with_owners(with_freshness(load_from_defs_folder(path_within_project=Path(__file__).parent)))
