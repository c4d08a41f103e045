"""`boligsocial ui` for real: SIGINT or SIGTERM to its process stops the whole tree it started
(`dagster dev`, the webserver, the daemon, the code servers) and frees the port; and the code
location's name is the one `-m boligsocial.definitions` gives it, so Dagster warns of no
mismatch."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from boligsocial.configuration import settings
from tests.support.dagster_processes import STARTUP_SECONDS, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
STOP_SECONDS = 120  # the launcher's own limit (60 s) and a margin


def _tree(pid: int) -> set[int]:
    """`pid` and every process below it, as /proc tells now."""
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except FileNotFoundError:
            continue
        for task in tasks:
            with contextlib.suppress(FileNotFoundError):  # ended meanwhile
                todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _loaded(port: int) -> str | None:
    """The code location's name once the webserver has loaded it."""
    query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    if entries and all(e["loadStatus"] == "LOADED" for e in entries):
        return entries[0]["name"]
    return None


def _port_free(port: int) -> bool:
    """Nothing listens on it: a new server could bind it (connections of the stopped one may
    linger in TIME_WAIT, which SO_REUSEADDR allows, as every server sets it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            probe.listen()
        except OSError:
            return False
    with socket.socket() as client:
        return client.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_boligsocial_ui_stops_its_whole_tree_and_warns_of_no_name(tmp_path, stop):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.touch()  # a warehouse already: the UI opens without a first run
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "BOLIGSOCIAL_WAREHOUSE": str(warehouse),
        "BOLIGSOCIAL_SOURCES_DIR": str(settings.EXAMPLE_SOURCES_DIR),
        "BOLIGSOCIAL_PUBLISH_DIR": str(tmp_path / "publish"),
    }
    port = free_port()
    log = tmp_path / "ui.log"
    with log.open("wb") as output:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "boligsocial.cli", "ui", "--port", str(port)],
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    tree: set[int] = set()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while (name := _loaded(port)) is None:
            assert launcher.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(1)
        assert name == "boligsocial.definitions"
        tree = _tree(launcher.pid)
        assert len(tree) >= 5, tree  # the launcher, dagster dev, webserver, daemon, code server

        launcher.send_signal(stop)
        assert launcher.wait(timeout=STOP_SECONDS) == 128 + stop
        assert [pid for pid in tree if _alive(pid)] == []
        assert _port_free(port)
        output = log.read_text(errors="replace")
        assert "does not match the name" not in output
        assert "Traceback" not in output
    finally:
        for pid in tree | _tree(launcher.pid):  # the test's own processes, if a check failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        launcher.wait()
