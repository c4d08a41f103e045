"""The GX Data Docs site, built from real validation results and opened in headless Chromium:

- it works offline: styled (bootstrap), live tables (jQuery + bootstrap-table), nothing fetched;
- a delivery with markup in its cells and file names scripts no page: every such value shows as
  text, on the validation pages and the index;
- each page carries its own Content-Security-Policy, which stops a handler that a missed escape
  would let in;
- pages name the source and the delivery, list the table-scope rules and each failure's file and
  row, and show a result whose only failures are warnings as succeeded with warnings."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from boligsocial.loading.reading import read_files
from boligsocial.loading.warehouse import source_files
from boligsocial.sources.catalog import SOURCES_BY_NAME
from boligsocial.validation.data_docs import CDN_ASSETS, build_data_docs, page_of
from tests.support.chromium import CHROMIUM, Browser
from tests.support.validation import validate_load

# The slow tier: a browser.
pytestmark = pytest.mark.slow

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium"
)
# Each payload calls alert() (a dialog Chromium reports) and sets a marker the page would keep.
CELL = '<img src=x onerror="alert(document.domain);window.__x=1">'
BREAKOUT = "</script><script>alert(2);window.__x=2</script>"
FILE = "efforts/<svg onload=alert(3);window.__x=3>.csv"  # a file name holds no "/" of its own
AREA = "<b onmouseover=alert(4)>PARKVEJ</b>"
STATE = """(() => ({
    marker: window.__x === undefined ? null : window.__x,
    text: document.body.innerText,
    all: document.body.textContent,  // the collapsed "Show more info" too
    tables: document.querySelectorAll("table.table").length,
    live: document.querySelectorAll(".bootstrap-table").length,
    font: getComputedStyle(document.body).fontFamily,
    color: (t => t && getComputedStyle(t).color)(document.querySelector("table.table")),
    jquery: typeof window.jQuery,
    vega: typeof window.vegaEmbed,
    policy: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content,
    warningIcons: document.querySelectorAll(".fa-exclamation-triangle.text-warning").length,
}))()"""


def _rows(name: str):
    spec = SOURCES_BY_NAME[name]
    files = source_files(spec, settings.EXAMPLE_SOURCES_DIR)
    return read_files(spec, files)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Path]:
    """The site of two kept results: the example's effort register with markup in a track, an
    area and a file name (rejected), and one vandalism ledger export whose lines fall outside
    every area (warnings only); returns the site and both result pages."""
    root = tmp_path_factory.mktemp("data_docs")
    areas, departments = _rows("areas"), _rows("departments")
    efforts = _rows("efforts")
    efforts["_source_file"] = efforts["_source_file"].astype(object)
    efforts.loc[efforts.index[1], ["spor", "_source_file"]] = [CELL + BREAKOUT, FILE]
    efforts.loc[efforts.index[2], "omraade"] = AREA  # a table-scope rule (checked in SQL)
    rejected = validate_load(
        "efforts",
        efforts,
        areas=areas,
        departments=departments,
        run_id="run-1",
        results_dir=root / "results",
    )
    assert not rejected.passed
    ledger = _rows("vandalism_ledger")
    ledger = ledger[ledger["_source_file"] == "vandalism/BK_2014-06.csv"].copy()
    ended = departments.assign(valid_to="2001-01-01")  # no department in an area in 2014
    warned = validate_load(
        "vandalism_ledger",
        ledger,
        areas=areas,
        departments=ended,
        run_id="run-1",
        results_dir=root / "results",
    )
    assert warned.passed and [o.severity for o in warned.outcomes if not o.success] == ["warning"]
    index = build_data_docs(root / "results", root / "site")
    assert index.exists()
    return {
        "site": root / "site",
        "rejected": page_of(rejected.result_path, root / "site"),
        "warned": page_of(warned.result_path, root / "site"),
    }


def _open(page: Path, offline: bool = True) -> tuple[dict, Browser]:
    with Browser() as browser:
        if offline:
            browser.call(
                "Network.emulateNetworkConditions",
                offline=True,
                latency=0,
                downloadThroughput=-1,
                uploadThroughput=-1,
            )
            browser.call("Network.setBlockedURLs", urls=["http://*", "https://*"])
        browser.open(page.as_uri())
        state = browser.evaluate(STATE)
    return state, browser


def test_every_cdn_link_points_at_a_vendored_file(site):
    for target in CDN_ASSETS.values():
        assert (site["site"] / "static" / "vendor" / target).is_file(), target
    for page in site["site"].rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not any(url in text for url in CDN_ASSETS), page
        assert "amazonaws.com" not in text, page


@needs_chromium
def test_validation_page_is_styled_offline(site, tmp_path):
    state, browser = _open(site["rejected"])
    # bootstrap's reboot font and .table colour (unstyled: the browser's serif font, black).
    assert state["tables"] > 0
    assert state["font"].startswith("-apple-system"), state["font"]
    assert state["color"] == "rgb(33, 37, 41)"
    assert state["live"] > 0  # bootstrap-table turned the tables into live ones
    assert (state["jquery"], state["vega"]) == ("function", "function")
    fetched = [url for url in browser.log.requests if url.startswith(("http:", "https:"))]
    assert fetched == []
    assert browser.log.console_errors == []


@needs_chromium
@pytest.mark.parametrize("page", ["rejected", "warned", "index"])
def test_no_delivered_value_scripts_a_page_and_each_shows_as_text(site, page):
    path = site["site"] / "index.html" if page == "index" else site[page]
    state, browser = _open(path)
    assert (state["marker"], browser.log.dialogs) == (None, [])
    assert browser.log.console_errors == []  # no script refused by the policy either
    assert state["live"] > 0
    if page == "rejected":
        # The track (GX's unexpected values), its file (the rows' lineage), the area (a
        # table-scope rule's sample) and the file again (the delivery's files).
        assert CELL + BREAKOUT in state["text"]
        assert FILE in state["text"] and state["all"].count(FILE) >= 2
        assert AREA in state["text"]
    elif page == "index":
        # The batch of the rejected delivery is named after its first file, made path-safe.
        assert "efforts/_svg_onload_alert_3_window.__x_3_.csv" not in state["text"]
        assert "_svg_onload_alert_3_window.__x_3_.csv-and-1-more" in state["text"]


@needs_chromium
def test_a_handler_let_in_by_a_missed_escape_is_refused_by_the_page_policy(site, tmp_path):
    text = site["rejected"].read_text(encoding="utf-8")
    assert text.count('http-equiv="Content-Security-Policy"') == 1
    # What a view that forgot to escape would write: a handler and a javascript: link.
    missed = text.replace(
        "<body>",
        '<body><img src=x onerror="window.__x=5"><a id=go href="javascript:window.__x=6">',
        1,
    )
    page = site["rejected"].with_name("missed.html")
    page.write_text(missed, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        browser.evaluate("document.getElementById('go').click()")
        marker = browser.evaluate("window.__x === undefined ? null : window.__x")
    assert marker is None
    refused = [e for e in browser.log.console_errors if "Content Security Policy" in e]
    assert len(refused) >= 2, browser.log.console_errors
    page.unlink()


@needs_chromium
def test_pages_name_the_source_and_the_delivery(site):
    state, _ = _open(site["rejected"])
    assert "Data asset: efforts" in state["text"]
    assert "__none__" not in state["text"] and "frame" not in state["text"]
    assert re.search(r"Run Name\s*run-1", state["all"])
    assert re.search(r"Run Time\s*20\d\d-\d\d-\d\dT", state["all"])
    assert "efforts/indsatser.csv" in state["all"]  # the delivery's files (Show more info)
    # The table-scope rule, with the row it failed on.
    assert "område is an area_id of reference/areas.csv or FÆLLES" in state["text"]
    index, _ = _open(site["site"] / "index.html")
    rows = [line for line in index["text"].splitlines() if "run-1" in line]
    assert any("\tefforts\t" in r and "-and-1-more" in r for r in rows), rows
    assert any("\tvandalism_ledger\tBK_2014-06.csv\t" in r for r in rows), rows


@needs_chromium
def test_a_result_with_only_warnings_shows_warnings_not_failed(site):
    state, _ = _open(site["warned"])
    assert "Status:  Succeeded with warnings" in state["text"]
    assert "Status:  Failed" not in state["text"]
    assert state["warningIcons"] >= 2  # the header and the rule's row
    assert "warning the line's department belongs to an area" in state["text"]
    rejected, _ = _open(site["rejected"])
    assert "Status:  Failed" in rejected["text"]  # error-level failures still fail
    index = site["site"] / "index.html"
    with Browser() as browser:
        browser.open(index.as_uri())
        statuses = browser.evaluate(
            """[...document.querySelectorAll("tbody tr")].filter(row => row.querySelector("i"))
                .map(row => [row.innerText, row.querySelector("i").className])"""
        )
    by_suite = {("vandalism" if "vandalism_ledger" in text else "efforts"): icon
                for text, icon in statuses}  # fmt: skip
    assert "fa-exclamation-triangle" in by_suite["vandalism"]
    assert "fa-times" in by_suite["efforts"]


def test_the_site_is_built_again_only_when_a_result_changes(site, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(site["site"].parent / "results", results)
    index = build_data_docs(results, tmp_path / "site")
    built = {page: page.stat().st_mtime_ns for page in (tmp_path / "site").rglob("*.html")}
    assert build_data_docs(results, tmp_path / "site") == index
    assert {page: page.stat().st_mtime_ns for page in built} == built  # nothing written
    kept = next(results.glob("*/*.json"))
    (results / "run-2").mkdir()
    shutil.copyfile(kept, results / "run-2" / kept.name)
    build_data_docs(results, tmp_path / "site")
    assert index.stat().st_mtime_ns != built[index]
    assert page_of(results / "run-2" / kept.name, tmp_path / "site").exists()
