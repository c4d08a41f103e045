"""The delivery does not steer the run (issue 28 §3): a boligsocial.toml delivered into the
sources folder is never read, so it changes no limit, no recipient and no owner, and a pipe by
that name hangs neither `check` nor `make run`. Each runs as its own process, with a timeout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from boligsocial.configuration import config, settings

PLANTED = """owners = ["not an owner"]
[limits]
max_file_bytes = 10
[alerts]
recipients = ["attacker@example.invalid"]
webserver_url = "https://attacker.example.invalid"
"""
OWNERS = (
    "import json\n"
    "from boligsocial.definitions import defs\n"
    "print(json.dumps(sorted({tuple(s.owners) for s in defs.resolve_all_asset_specs()})))"
)


def _installation(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the example delivery and an installation home of its own (no toml in it)."""
    sources = tmp_path / "sources"
    shutil.copytree(settings.EXAMPLE_SOURCES_DIR, sources)
    env = {k: v for k, v in os.environ.items() if k not in settings.IN_HOME}
    env |= {"BOLIGSOCIAL_HOME": str(tmp_path / "home"), "BOLIGSOCIAL_SOURCES_DIR": str(sources)}
    return sources, env


def _run(command: list[str], env: dict[str, str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        env=env,
        cwd=settings.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,  # a read of a pipe would block for ever: the timeout fails the test
    )


def test_a_planted_toml_changes_nothing(tmp_path, monkeypatch):
    sources, env = _installation(tmp_path)
    (sources / "boligsocial.toml").write_text(PLANTED, encoding="utf-8")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for variable in settings.IN_HOME:
        monkeypatch.delenv(variable, raising=False)
    assert config.load() == config.Config()  # limits, recipients, URL and owners as default

    check = _run([sys.executable, "-m", "boligsocial.cli.main", "check", str(sources)], env, 300)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "mere end grænsen" not in check.stdout  # max_file_bytes = 10 refused nothing
    assert (
        "ADVARSEL boligsocial.toml: læses ikke: konfigurationen er installationens "
        f"({tmp_path / 'home' / 'boligsocial.toml'}), aldrig leverancens"
    ) in check.stdout

    owners = _run([sys.executable, "-c", OWNERS], env, 300)
    assert owners.returncode == 0, owners.stderr  # the code location loads
    assert json.loads(owners.stdout.splitlines()[-1]) == [["team:data"]]


@pytest.fixture
def piped(tmp_path) -> tuple[Path, dict[str, str]]:
    sources, env = _installation(tmp_path)
    os.mkfifo(sources / "boligsocial.toml")  # no writer: opening it would wait for ever
    return sources, env


def test_a_pipe_named_boligsocial_toml_does_not_hang_check(piped):
    sources, env = piped
    done = _run([sys.executable, "-m", "boligsocial.cli.main", "check", str(sources)], env, 300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Alt i orden" in done.stdout


@pytest.mark.slow
def test_a_pipe_named_boligsocial_toml_does_not_hang_make_run(piped):
    sources, env = piped
    done = _run(["make", "--no-print-directory", "-s", "run"], env, 900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "succeeded" in done.stdout and f"Sources: {sources}" in done.stdout
    assert (Path(env["BOLIGSOCIAL_HOME"]) / "warehouse" / "boligsocial.duckdb").is_file()
