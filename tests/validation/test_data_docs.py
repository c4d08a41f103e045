"""The GX Data Docs site works offline: built from a real validation result, opened in headless
Chromium with the network switched off, its validation page is styled (bootstrap) and its
tables are live (jQuery + bootstrap-table), and nothing is fetched from the internet."""

from __future__ import annotations

from pathlib import Path

import pytest

from boligsocial.configuration import settings
from boligsocial.loading.reading import read_files
from boligsocial.loading.warehouse import source_files
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.validation.data_docs import CDN_ASSETS, build_data_docs, page_of
from boligsocial.validation.validate import Reference, validate_frame
from tests.support.chromium import CHROMIUM, Browser


def _rows(name: str):
    spec = SOURCES_BY_NAME[name]
    files = source_files(spec, settings.EXAMPLE_SOURCES_DIR)
    return read_files(spec, files)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path]:
    """The site with one failed validation of the example's efforts (a track that does not
    exist); returns (site, the result's page)."""
    root = tmp_path_factory.mktemp("data_docs")
    reference = Reference(areas=_rows("areas"), departments=_rows("departments"))
    frame = _rows("efforts")
    frame.loc[frame.index[1], "spor"] = "andet"
    files = sorted(frame["_source_file"].unique())
    report = validate_frame(
        "efforts",
        frame,
        {"delivered_files": files},
        reference=reference,
        run_id="run-1",
        results_dir=root / "results",
    )
    assert not report.passed
    index = build_data_docs(root / "results", root / "site")
    assert index.exists()
    return root / "site", page_of(report.result_path, root / "site")


def test_every_cdn_link_points_at_a_vendored_file(site):
    for target in CDN_ASSETS.values():
        assert (site[0] / "static" / "vendor" / target).is_file(), target
    for page in site[0].rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not any(url in text for url in CDN_ASSETS), page
        assert "amazonaws.com" not in text, page


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium")
def test_validation_page_is_styled_offline(site, tmp_path):
    _, page = site
    assert page.exists()  # the page the GX checks' metadata links to (validation_page)
    with Browser() as browser:
        browser.call(
            "Network.emulateNetworkConditions",
            offline=True,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )
        browser.call("Network.setBlockedURLs", urls=["http://*", "https://*"])
        browser.open(page.as_uri())
        state = browser.evaluate(
            """(() => {
                const table = document.querySelector("table.table");
                const style = table && getComputedStyle(table);
                return {
                    tables: document.querySelectorAll("table.table").length,
                    live: document.querySelectorAll(".bootstrap-table").length,
                    color: style && style.color,
                    font: getComputedStyle(document.body).fontFamily,
                    jquery: typeof window.jQuery,
                    vega: typeof window.vegaEmbed,
                    text: document.body.innerText,
                };
            })()"""
        )
        browser.screenshot(tmp_path / "validation_page.png", full_page=True)
    # bootstrap's reboot font and .table colour (unstyled: the browser's serif font, black).
    assert state["tables"] > 0
    assert state["font"].startswith("-apple-system"), state["font"]
    assert state["color"] == "rgb(33, 37, 41)"
    assert state["live"] > 0  # bootstrap-table turned the tables into live ones
    assert (state["jquery"], state["vega"]) == ("function", "function")
    assert "andet" in state["text"]
    fetched = [url for url in browser.log.requests if url.startswith(("http:", "https:"))]
    assert fetched == []
    assert browser.log.console_errors == []
