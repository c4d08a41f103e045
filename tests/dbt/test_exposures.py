"""dbt's lineage runs to the deliverables: an exposure for the board report on exactly the marts
it reads, and one for the BI publication on every mart it publishes."""

import json

from boligsocial.defs.publication.assets import MARTS as PUBLISHED_MARTS
from boligsocial.report.model import RECONCILIATION, REPORT_MARTS
from tests.dbt.conftest import run_dbt


def test_board_report_and_bi_publication_are_exposures(tmp_path):
    run_dbt("parse", work=tmp_path, warehouse=tmp_path / "unused.duckdb")
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == {"board_report", "bi_publication"}

    def marts(name: str) -> set[str]:
        nodes = exposures[name]["depends_on"]["nodes"]
        assert all(node.startswith("model.boligsocial.") for node in nodes)
        return {node.rsplit(".", 1)[1] for node in nodes}

    assert marts("board_report") == {*REPORT_MARTS, RECONCILIATION}
    assert marts("bi_publication") == set(PUBLISHED_MARTS)
    assert exposures["board_report"]["config"]["meta"]["dagster_asset"] == "publish/board_report"
    assert exposures["bi_publication"]["config"]["meta"]["dagster_asset"] == "publish/marts"
