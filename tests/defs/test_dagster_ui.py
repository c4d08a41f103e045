"""The Dagster webserver on the project: every asset, check, the schedule and the sensor load
(asserted through its GraphQL API), and the asset graph renders in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from boligsocial.sources.catalog import SOURCES
from tests.support.chromium import CHROMIUM, Browser

# The slow tier: a webserver process and a browser.
pytestmark = pytest.mark.slow

STARTUP_SECONDS = 180  # generous: the webserver starts slowly on a loaded machine
WEBSERVER = Path(sys.executable).with_name("dagster-webserver")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Webserver:
    def __init__(self, url: str, process: subprocess.Popen, log: Path) -> None:
        self.url, self.process, self.log = url, process, log

    def graphql(self, query: str) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory) -> Iterator[Webserver]:
    root = tmp_path_factory.mktemp("webserver")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "BOLIGSOCIAL_SOURCES_DIR": str(settings.EXAMPLE_SOURCES_DIR),
        "BOLIGSOCIAL_WAREHOUSE": str(root / "warehouse.duckdb"),
        "BOLIGSOCIAL_PUBLISH_DIR": str(root / "publish"),
    }
    port = _free_port()
    log = root / "webserver.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(WEBSERVER), "-m", "boligsocial.definitions", "-h", "127.0.0.1", "-p", str(port)],
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Webserver(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_loaded(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_loaded(server: Webserver) -> None:
    """Until /server_info answers and the code location has finished loading."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"dagster-webserver exited:\n{server.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/server_info", timeout=5):
                pass
            data = server.graphql(
                "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
            )
            entries = data["workspaceOrError"]["locationEntries"]
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    pytest.fail(f"no webserver after {STARTUP_SECONDS} s:\n{server.log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def expected():
    from boligsocial.definitions import defs

    graph = defs.resolve_asset_graph()
    return {
        "assets": {key.to_user_string() for key in graph.get_all_asset_keys()},
        "checks": {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys},
    }


ASSETS_QUERY = """{
  assetNodes {
    assetKey { path }
    groupName
    kinds
    description
    owners { ... on TeamAssetOwner { team } }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}"""

LOCATION_QUERY = """{
  workspaceOrError { ... on Workspace { locationEntries {
    locationOrLoadError {
      __typename
      ... on PythonError { message }
      ... on RepositoryLocation { repositories {
        jobs { name }
        schedules { name cronSchedule executionTimezone scheduleState { status } }
        sensors { name minIntervalSeconds sensorState { status } }
      } }
    }
  } } }
}"""


def test_every_asset_and_check_is_loaded(webserver: Webserver, expected):
    nodes = {
        "/".join(n["assetKey"]["path"]): n for n in webserver.graphql(ASSETS_QUERY)["assetNodes"]
    }
    assert set(nodes) == expected["assets"]
    checks = {
        f"{key}:{check['name']}"
        for key, node in nodes.items()
        for check in node["assetChecksOrError"]["checks"]
    }
    assert checks == expected["checks"]
    assert {"raw/areas:gx_areas", "marts/area_status:not_null_area_status_area_id"} <= checks

    for spec in SOURCES:
        node = nodes[f"raw/{spec.name}"]
        assert node["groupName"] == spec.system
        assert set(node["kinds"]) == {"python", "duckdb"}
        assert node["description"]
    for key, node in nodes.items():
        layer = key.split("/")[0]
        assert node["owners"] == [{"team": "kompetencecenter"}], key
        if layer in ("staging", "intermediate", "marts", "rulesets"):
            assert node["groupName"] == layer, key
            assert {"dbt", "duckdb"} <= set(node["kinds"]), key
    assert all(nodes[f"marts/{name}"]["description"] for name in ("area_status", "area_safety"))


def test_schedule_and_sensor_are_loaded(webserver: Webserver):
    entries = webserver.graphql(LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
    [location] = [e["locationOrLoadError"] for e in entries]
    assert location["__typename"] == "RepositoryLocation", location
    [repository] = location["repositories"]
    assert "refresh_all" in {job["name"] for job in repository["jobs"]}
    [schedule] = repository["schedules"]
    assert schedule == {
        "name": "monthly_refresh",
        "cronSchedule": "0 6 1 * *",
        "executionTimezone": "Europe/Copenhagen",
        "scheduleState": {"status": "RUNNING"},  # on a fresh instance: the unattended month
    }
    sensors = {sensor["name"]: sensor for sensor in repository["sensors"]}
    assert sensors.pop("source_files_sensor") == {
        "name": "source_files_sensor",
        "minIntervalSeconds": 60,
        "sensorState": {"status": "STOPPED"},
    }
    # The alert, Data Docs and dead-run sensors (boligsocial/defs/automation/alerts.py,
    # data_docs.py, dead_runs.py).
    assert {name: s["sensorState"]["status"] for name, s in sensors.items()} == {
        "refresh_failure_mail": "RUNNING",
        "refresh_warnings_mail": "RUNNING",
        "data_docs_after_refresh": "RUNNING",
        "data_docs_after_failed_refresh": "RUNNING",
        "dead_runs": "RUNNING",
    }


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt-get install chromium")
def test_asset_graph_renders_in_chromium(webserver: Webserver, tmp_path: Path):
    # Dagster shows a newsletter dialog over the first page on localhost; mark it seen.
    webserver.graphql("mutation { setNuxSeen }")
    screenshot = tmp_path / "asset_graph.png"
    with Browser(timeout=120) as browser:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            width=1600,
            height=1000,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.open(f"{webserver.url}/asset-groups")
        groups = {spec.system for spec in SOURCES} | {"staging", "intermediate", "marts"}
        _wait_for_text(browser, groups)
        # Alt+E expands every group, so the graph shows the assets themselves.
        for kind in ("rawKeyDown", "keyUp"):
            browser.call(
                "Input.dispatchKeyEvent",
                type=kind,
                modifiers=1,
                key="e",
                code="KeyE",
                windowsVirtualKeyCode=69,
            )
        # An expanded group lists its assets (the small source groups may stay folded).
        text = _wait_for_text(browser, {"int_area_metrics"})
        time.sleep(2)  # let the layout settle before the picture
        browser.screenshot(screenshot)
    assert "Global asset lineage" in text
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a rendered graph, not a blank page


def _wait_for_text(browser: Browser, words: set[str], seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = browser.evaluate("document.body.innerText") or ""
        lines = set(text.splitlines())
        if words <= lines:
            return text
        time.sleep(0.5)
    pytest.fail(f"the page never showed {sorted(words - set(text.splitlines()))}:\n{text[:2000]}")
