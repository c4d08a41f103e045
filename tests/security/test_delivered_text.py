"""Delivered text everywhere else it lands, each place with its own escaping:

- the board report (Jinja's autoescape for the page; plotly's figures are JSON inside <script>,
  where a "</script>" in an area's id or name must not end the script), in headless Chromium;
- the Markdown tables of the Dagster UI's metadata (rendered by a CommonMark renderer with
  tables, as the UI's react-markdown does: no link, image or emphasis from a value);
- the alert mail (a header holds one line: a line break in a file name must not fail the mail
  or add a header)."""

from __future__ import annotations

from email import message_from_bytes, policy
from html.parser import HTMLParser

import duckdb
import pytest
from markdown_it import MarkdownIt

from boligsocial.configuration import config
from boligsocial.defs.automation.alerts import compose
from boligsocial.defs.metadata import markdown_table
from boligsocial.report import build_report, load_marts
from tests.support.chromium import CHROMIUM, Browser

AREA_ID = "SYDBYEN</script><script>alert(1);window.__x=1</script>"
AREA_NAME = '<img src=x onerror="alert(2);window.__x=2">Sydbyen</script><!--'
VALUES = [
    "<img src=x onerror=alert(1)>",
    "[klik](javascript:alert(1))",
    "![billede](https://example.invalid/x.png)",
    "*fed* _kursiv_ `kode` ~~streg~~",
    "https://example.invalid/ www.example.invalid",
    "a | b \\| c",
    "første linje\nanden linje",
    "&lt;entity&gt; &amp;",
]


@pytest.mark.slow  # a browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium")
def test_markup_in_an_area_id_and_name_runs_no_script_in_the_board_report(marts_editions, tmp_path):
    with duckdb.connect(str(marts_editions[1]), read_only=True) as con:
        frames = load_marts(con)
    for frame in frames.values():
        if "area_id" in frame.columns:
            sydbyen = frame["area_id"] == "SYDBYEN"
            frame["area_id"] = frame["area_id"].astype(object)
            frame.loc[sydbyen, "area_id"] = AREA_ID
            if "area_name" in frame.columns:
                frame["area_name"] = frame["area_name"].astype(object)
                frame.loc[sydbyen, "area_name"] = AREA_NAME
    document = build_report(frames, areas=[AREA_ID])
    assert AREA_ID not in document and AREA_NAME not in document  # escaped, wherever it is
    page = tmp_path / "bestyrelsesrapport.html"
    page.write_text(document, encoding="utf-8")
    with Browser() as browser:
        browser.open(page.as_uri())
        state = browser.evaluate(
            """({marker: window.__x === undefined ? null : window.__x,
                 charts: document.querySelectorAll(".plotly-graph-div .main-svg").length,
                 drawn: document.querySelectorAll(".plotly-graph-div").length,
                 text: document.body.innerText,
                 svg: [...document.querySelectorAll(".plotly-graph-div svg")]
                     .map(svg => svg.textContent).join(" ")})"""
        )
    assert (state["marker"], browser.log.dialogs) == (None, [])
    assert browser.log.console_errors == []
    assert state["charts"] >= state["drawn"] > 0  # every figure's script ran to the end
    assert AREA_NAME in state["text"]  # the key points, the table, the section's heading
    assert AREA_NAME in state["svg"]  # the charts' labels and legends


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_a_markdown_metadata_table_shows_every_delivered_value_as_written():
    columns = ["værdi", "fil|kolonne"]
    rows = [(value, f"efforts/{value}.csv") for value in VALUES]
    html = MarkdownIt("commonmark").enable("table").render(markdown_table(columns, rows))
    parsed = _Elements()
    parsed.feed(html)
    assert set(parsed.tags) == {"table", "thead", "tbody", "tr", "th", "td"}  # nothing else
    assert parsed.cells[:2] == columns
    shown = [value.replace("\n", " ") for value in VALUES]
    assert parsed.cells[2::2] == shown
    assert parsed.cells[3::2] == [f"efforts/{value}.csv" for value in shown]


def test_a_line_break_in_a_finding_stays_out_of_the_mail_headers():
    alerts = config.Alerts(
        recipients=["drift@kommune.example"],
        sender="boligsocial@kommune.example",
        webserver_url="https://boligsocial.kommune.example",
    )
    finding = "Source 'efforts' rejected: efforts/indsatser\r\nBcc: ude@example.invalid\n.csv"
    message = compose(alerts, "run-1", f"opdateringen fejlede: {finding}", [finding], [])
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == (
        "Boligsocial: opdateringen fejlede: Source 'efforts' rejected: efforts/indsatser "
        "Bcc: ude@example.invalid .csv"
    )
    assert "Bcc: ude@example.invalid" in parsed.get_content()  # the body shows it, as text
