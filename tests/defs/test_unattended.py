"""The unattended month, end to end: `dagster-daemon` and `dagster-webserver` as real processes
on dagster.postgres.yaml (a fresh database on the local PostgreSQL, dropped after), a temporary
sources folder, and a local SMTP server (aiosmtpd) that requires a login.

The schedule is running on the fresh instance and the source-files sensor is not; the test
switches the sensor on through the GraphQL API, and the daemon runs a full refresh, then the
refresh for a new ledger export, then fails on an export that breaks the contract, and the
failure mail names the file, row and column and links to the run, without the SMTP password.
The marts' freshness shows in the UI (headless Chromium).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from boligsocial.configuration import settings
from tests.support import postgres
from tests.support.chromium import CHROMIUM, Browser
from tests.support.dagster_processes import Daemon, Webserver, free_port

pytestmark = [pytest.mark.slow, *postgres.required(postgres.unreachable())]

SMTP_USER = "boligsocial"
SMTP_PASSWORD = "s3cret-smtp-password-never-in-mail"
RECIPIENT = "data@kommune.example"
RUN_SECONDS = 900  # a full refresh on a loaded 2-core machine, with margin


@dataclass
class Mailbox:
    """An aiosmtpd handler and authenticator: keeps every message of an authenticated session."""

    messages: list[email.message.EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        if not session.authenticated:
            return "530 Authentication required"
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        return AuthResult(success=ok, handled=False)


@dataclass
class Stack:
    webserver: Webserver
    daemon: Daemon
    location: str
    sources: Path
    mailbox: Mailbox
    root: Path

    def wait_for(self, what: str, found: Callable[[], Any], seconds: float = RUN_SECONDS) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for process in (self.webserver, self.daemon):
                if process.process.poll() is not None:
                    pytest.fail(f"{process.log.name} exited:\n{process.tail()}")
            if result := found():
                return result
            time.sleep(2)
        pytest.fail(f"no {what} after {seconds} s; daemon log:\n{self.daemon.tail()}")

    def refresh_runs(self) -> list[dict]:
        data = self.webserver.graphql(
            """query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
                 results { runId status tags { key value } } } } }""",
            filter={"pipelineName": "refresh_all"},
        )
        return list(reversed(data["runsOrError"]["results"]))  # oldest first

    def finished_run(self, number: int) -> dict:
        """The number-th refresh_all run (1-based), once it has finished."""

        def finished():
            runs = self.refresh_runs()
            if len(runs) >= number and runs[number - 1]["status"] in ("SUCCESS", "FAILURE"):
                return runs[number - 1]
            return None

        return self.wait_for(f"finished refresh run #{number}", finished)

    def freshness(self, *path: str) -> str | None:
        data = self.webserver.graphql(
            """query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
                 freshnessStatusInfo { freshnessStatus } } }""",
            keys=[{"path": list(path)}],
        )
        [node] = data["assetNodes"]
        return (node["freshnessStatusInfo"] or {}).get("freshnessStatus")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("unattended")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.postgres.yaml", home / "dagster.yaml")
    sources = root / "sources"
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, sources)
    mailbox = Mailbox()
    smtp = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=mailbox,
        auth_require_tls=False,  # a loopback test server without a certificate
    )
    smtp.start()
    with postgres.fresh_database("unattended") as database:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_HOST": postgres.SERVER["host"],
            "DAGSTER_PG_PORT": postgres.SERVER["port"],
            "DAGSTER_PG_USER": postgres.SERVER["user"],
            "DAGSTER_PG_PASSWORD": postgres.SERVER["password"],
            "DAGSTER_PG_DB": database,
            "BOLIGSOCIAL_SOURCES_DIR": str(sources),
            "BOLIGSOCIAL_HOME": str(root),  # its boligsocial.toml, below
            "BOLIGSOCIAL_WAREHOUSE": str(root / "warehouse" / "boligsocial.duckdb"),
            "BOLIGSOCIAL_PUBLISH_DIR": str(root / "publish"),
            "BOLIGSOCIAL_GX_RESULTS": str(root / "gx_results"),
            "BOLIGSOCIAL_DATA_DOCS_DIR": str(root / "gx_data_docs"),
            "BOLIGSOCIAL_SMTP_HOST": "127.0.0.1",
            "BOLIGSOCIAL_SMTP_PORT": str(smtp.port),
            "BOLIGSOCIAL_SMTP_STARTTLS": "false",
            "BOLIGSOCIAL_SMTP_USER": SMTP_USER,
            "BOLIGSOCIAL_SMTP_PASSWORD": SMTP_PASSWORD,
            # The freshness daemon's interval (default 30 s): the UI's state sooner.
            "FRESHNESS_DAEMON_INTERVAL_SECONDS": "5",
        }
        (root / "warehouse").mkdir()
        webserver = Webserver(env, root / "webserver.log")
        # The example's configuration with the alerts, in the installation home.
        shutil.copy(settings.PROJECT_ROOT / "boligsocial.toml", root / "boligsocial.toml")
        with (root / "boligsocial.toml").open("a", encoding="utf-8") as toml:
            toml.write(f'\n[alerts]\nrecipients = ["{RECIPIENT}"]\n')
            toml.write(f'webserver_url = "{webserver.url}"\n')
        daemon = Daemon(env, root / "daemon.log")
        try:
            location = webserver.wait_until_loaded()
            yield Stack(webserver, daemon, location, sources, mailbox, root)
        finally:
            daemon.close()
            webserver.close()
            smtp.stop()


AUTOMATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
  locationOrLoadError { ... on RepositoryLocation { repositories {
    schedules { name scheduleState { status } }
    sensors { name sensorState { status } }
  } } } } } } }"""


def test_schedule_running_and_file_sensor_stopped_on_a_fresh_instance(stack: Stack):
    data = stack.webserver.graphql(AUTOMATION_QUERY)
    [entry] = data["workspaceOrError"]["locationEntries"]
    [repository] = entry["locationOrLoadError"]["repositories"]
    schedules = {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    sensors = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    assert schedules == {"monthly_refresh": "RUNNING"}
    assert sensors == {
        "source_files_sensor": "STOPPED",  # opt-in: it loads whatever lands in the folder
        "refresh_failure_mail": "RUNNING",
        "refresh_warnings_mail": "RUNNING",
        "data_docs_after_refresh": "RUNNING",
        "data_docs_after_failed_refresh": "RUNNING",
        "dead_runs": "RUNNING",
    }


FUTURE_TICK_QUERY = """query($selector: ScheduleSelector!, $cursor: Float) {
  scheduleOrError(scheduleSelector: $selector) { ... on Schedule {
    futureTicks(cursor: $cursor, limit: 1) { results { timestamp } } } } }"""


@pytest.mark.parametrize(
    ("after", "tick"),
    [
        (datetime(2026, 3, 15, tzinfo=UTC), datetime(2026, 4, 1, 4, 0, tzinfo=UTC)),  # summer
        (datetime(2026, 10, 15, tzinfo=UTC), datetime(2026, 11, 1, 5, 0, tzinfo=UTC)),  # winter
    ],
    ids=["summer", "winter"],
)
def test_schedule_ticks_on_the_first_at_six_copenhagen(stack: Stack, after, tick):
    data = stack.webserver.graphql(
        FUTURE_TICK_QUERY,
        selector={
            "repositoryLocationName": stack.location,
            "repositoryName": "__repository__",
            "scheduleName": "monthly_refresh",
        },
        cursor=after.timestamp(),
    )
    [future] = data["scheduleOrError"]["futureTicks"]["results"]
    assert datetime.fromtimestamp(future["timestamp"], UTC) == tick
    assert tick.astimezone(ZoneInfo("Europe/Copenhagen")).hour == 6


def _mails(stack: Stack, word: str) -> list[email.message.EmailMessage]:
    return [m for m in stack.mailbox.messages if word in m["Subject"]]


def test_daemon_refreshes_on_new_files_and_mails_the_failure(stack: Stack):
    assert stack.freshness("marts", "area_status") == "UNKNOWN"  # never materialised
    started = stack.webserver.graphql(
        """mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
             __typename ... on Sensor { sensorState { status } } ... on PythonError { message }
           } }""",
        selector={
            "repositoryLocationName": stack.location,
            "repositoryName": "__repository__",
            "sensorName": "source_files_sensor",
        },
    )["startSensor"]
    assert started == {"__typename": "Sensor", "sensorState": {"status": "RUNNING"}}, started

    # The first tick: one full refresh of the example.
    first = stack.finished_run(1)
    assert first["status"] == "SUCCESS", stack.daemon.tail()
    assert (stack.root / "publish" / "bestyrelsesrapport.html").exists()
    # The example's known warning (a department that left its area while its ledger lines
    # still come in) reaches the recipients, with a link to the run.
    [warned] = stack.wait_for("warnings mail", lambda: _mails(stack, "advarsel"), seconds=300)
    # Said as people read it (boligsocial/runs/findings.py): the ledger file, row and column.
    assert re.search(r"vandalism/\S+\.csv, row \d+, column Afdeling: ", warned.get_content())
    assert f"{stack.webserver.url}/runs/{first['runId']}" in warned.get_content()

    # A new month's ledger export: the daemon's next tick refreshes the ledger and downstream.
    ledger = stack.sources / "vandalism"
    export = (ledger / "BK_2024-12.csv").read_bytes()
    (ledger / "BK_2025-06.csv").write_bytes(export)
    second = stack.finished_run(2)
    assert second["status"] == "SUCCESS", stack.daemon.tail()
    tags = {t["key"]: t["value"] for t in second["tags"]}
    assert tags["boligsocial/sources"] == "vandalism_ledger"

    # An export that breaks the contract (no 31 February): the run fails, and the mail says
    # where.
    lines = export.splitlines(keepends=True)  # bytes: the ledger's exports are Latin-1
    column = [c.strip().lower() for c in lines[0].split(b";")].index(b"dato")
    cells = lines[2].split(b";")
    cells[column] = b"31-02-" + cells[column][-4:]
    lines[2] = b";".join(cells)
    (ledger / "BK_2025-07.csv").write_bytes(b"".join(lines))
    third = stack.finished_run(3)
    assert third["status"] == "FAILURE"

    [mail] = stack.wait_for("failure mail", lambda: _mails(stack, "fejlede"), seconds=300)
    body = mail.get_content()
    assert mail["To"] == RECIPIENT
    first_line = body.splitlines()[0]
    assert first_line.startswith("opdateringen fejlede (refresh failed): ")
    assert "Source 'vandalism_ledger' rejected: " in first_line
    assert "vandalism/BK_2025-07.csv, row 3, column Dato: " in first_line, body
    assert first_line in mail["Subject"].replace("\n", "")
    assert f"{stack.webserver.url}/runs/{third['runId']}" in body
    assert SMTP_PASSWORD not in mail.as_string()
    for log in (stack.daemon.log, stack.webserver.log):
        assert SMTP_PASSWORD not in log.read_text(errors="replace")
    # One mail per failed run, none for the refreshes that succeeded without failures.
    assert len(_mails(stack, "fejlede")) == 1

    # The data_docs job (after every refresh) built the site.
    index = stack.root / "gx_data_docs" / "index.html"
    stack.wait_for("Data Docs", index.exists, seconds=300)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium")
def test_ui_shows_the_freshness_of_the_marts(stack: Stack, tmp_path: Path):
    # The marts were refreshed by the test above: within their monthly window, as the freshness
    # daemon found (the GraphQL field the UI's freshness tag reads). The page lists the policy
    # in the asset's status; the state itself is an icon there, not text.
    stack.wait_for("fresh marts", lambda: stack.freshness("marts", "area_status") == "HEALTHY")
    stack.webserver.graphql("mutation { setNuxSeen }")
    with Browser(timeout=120) as browser:
        browser.open(f"{stack.webserver.url}/assets/marts/area_status")
        text = stack.wait_for(
            "the freshness on the asset's page",
            lambda: (
                (t := browser.evaluate("document.body.innerText")) and "Freshness policy" in t and t
            ),
            seconds=120,
        )
        browser.screenshot(tmp_path / "area_status.png")
    assert "Freshness policy" in text
