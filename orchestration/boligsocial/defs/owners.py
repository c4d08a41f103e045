"""Who owns the assets: `owners` in boligsocial.toml, for every asset of the code location.

Applied to the whole location (boligsocial/definitions.py: `with_owners`) after every defs
module is loaded, as the freshness policies are: no decorator names an owner. A configuration
that cannot be read loads the location without owners and says why in the code server's log;
the runs then fail on it with the same sentence (their steps read the configuration too).
"""

import warnings

from dagster import Definitions, PreviewWarning, get_dagster_logger

from boligsocial.configuration import config


def with_owners(defs: Definitions) -> Definitions:
    """The definitions with the configured owners on every asset."""
    try:
        owners = list(config.load().owners)
    except config.ConfigError as error:
        get_dagster_logger().warning(f"Assets without owners: {error}")
        return defs
    # map_resolved_asset_specs is public but "preview" in Dagster 1.13 (see freshness.py).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return defs.map_resolved_asset_specs(
            func=lambda spec: spec.replace_attributes(owners=owners)
        )
