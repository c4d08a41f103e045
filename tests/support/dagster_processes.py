"""`dagster-webserver` and `dagster-daemon` as real processes on a temporary DAGSTER_HOME."""

from __future__ import annotations

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

from boligsocial.cli.launch import group_alive
from boligsocial.configuration import settings

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 240  # generous: a loaded machine imports slowly


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Process:
    """One Dagster service, its output in a log file; stopped (SIGTERM, then SIGKILL) on close."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                args,
                cwd=settings.PROJECT_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its code server and run workers go with it
            )

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def close(self) -> None:
        """Stops the service and everything it started: a code server can outlive its daemon."""
        group = self.process.pid
        if self.process.poll() is None:
            os.killpg(group, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(group, signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + 30
        while group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.2)
        if group_alive(group):
            os.killpg(group, signal.SIGKILL)


class Webserver(Process):
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [str(BIN / "dagster-webserver"), "-m", "boligsocial.definitions"]
        super().__init__([*args, "-h", "127.0.0.1", "-p", str(self.port)], env, log)

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            body = json.load(response)
        assert "errors" not in body, body["errors"]
        return body["data"]

    def wait_until_loaded(self) -> str:
        """Until the code location has loaded; returns its name."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster-webserver exited:\n{self.tail()}")
            try:
                data = self.graphql(
                    "{ workspaceOrError { ... on Workspace { locationEntries "
                    "{ name loadStatus } } } }"
                )
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    return entries[0]["name"]
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1)
        raise RuntimeError(f"no webserver after {STARTUP_SECONDS} s:\n{self.tail()}")


class Daemon(Process):
    def __init__(self, env: dict[str, str], log: Path) -> None:
        args = [str(BIN / "dagster-daemon"), "run", "-m", "boligsocial.definitions"]
        super().__init__(args, env, log)
