"""The StatBank API responses behind raw/statbank: refreshed live on request, else the cache.

Offline (the default) the asset only reports which cached responses `statbank/<TABLE>.csv` the
sources directory holds; with BOLIGSOCIAL_STATBANK_LIVE=1 it fetches every table configured in
boligsocial/sources/statbank_tables.toml from the API (BOLIGSOCIAL_STATBANK_URL) into that cache
first.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from boligsocial.defs.resources import SourcesResource
from boligsocial.sources.statbank_client import StatbankError, load_config, refresh_cache

STATBANK_RESPONSES = AssetKey(["statbank", "api_responses"])


@asset(
    key=STATBANK_RESPONSES,
    group_name="statbank",
    kinds={"python", "api"},
    description=(
        "Danmarks Statistik StatBank responses (municipal context series) cached as "
        "statbank/<TABLE>.csv in the sources directory; fetched live only when "
        "BOLIGSOCIAL_STATBANK_LIVE=1."
    ),
)
def statbank_api_responses(context: AssetExecutionContext, sources: SourcesResource):
    try:
        result = refresh_cache(load_config(), sources.path / "statbank")
    except StatbankError as error:
        raise Failure(description=f"StatBank refresh failed: {error}") from error
    mode = "live: fetched from the API" if result.live else "offline: cached responses"
    context.log.info(f"StatBank {mode}; tables {sorted(result.files)}")
    return MaterializeResult(
        metadata={
            "mode": MetadataValue.text(mode),
            "tables": MetadataValue.json(sorted(result.files)),
            "missing": MetadataValue.json(list(result.missing)),
        }
    )
