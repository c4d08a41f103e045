"""`boligsocial run` and `boligsocial ui`: what `make run` and `make ui` do, without make.

Both first say, in one sentence, when the installation's configuration cannot be used, and
stop. They prepare what the make targets prepare: the Dagster instance folder (DAGSTER_HOME,
default `.dagster_home/` in the installation home) with the project's `dagster.yaml` copied
in, and the dbt manifest, parsed again when any file of the dbt project is newer than it. The
pipeline and the UI then run as their own processes with this Python, as the make targets run
them, each in a process group of its own: SIGINT or SIGTERM to this process stops that group
whole (`dagster dev`'s webserver, daemon and code servers included), never leaving one
answering on the port.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from boligsocial.configuration import config, settings

# How long `dagster dev` may take to stop its services after an interrupt before they are killed.
STOP_SECONDS = 60.0
STOPPED = (128 + signal.SIGINT, 128 + signal.SIGTERM)  # the exit code after SIGINT, SIGTERM
# What the Makefile's manifest rule depends on.
DBT_FOLDERS = ("models", "seeds", "macros", "tests")
DBT_FILES = ("dbt_project.yml", "profiles.yml")


def dagster_home() -> Path:
    home = settings.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(settings.PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home.resolve()


def manifest_stale(project: Path = settings.DBT_PROJECT_DIR) -> bool:
    # dbt's own setting, relative to the project; the code location reads the manifest there.
    manifest = project / os.environ.get("DBT_TARGET_PATH", "target") / "manifest.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime_ns
    inputs = [project / name for name in DBT_FILES] + [
        path for folder in DBT_FOLDERS for path in (project / folder).rglob("*") if path.is_file()
    ]
    return any(path.stat().st_mtime_ns > built for path in inputs if path.exists())


def _environment() -> dict[str, str]:
    """The make targets' variables: their values from the environment, else the defaults."""
    env = dict(os.environ)
    env["BOLIGSOCIAL_HOME"] = str(settings.home())
    env["DAGSTER_HOME"] = str(dagster_home())
    env["BOLIGSOCIAL_WAREHOUSE"] = str(settings.warehouse_path())
    env["BOLIGSOCIAL_SOURCES_DIR"] = str(settings.sources_dir())
    return env


def prepare() -> dict[str, str]:
    env = _environment()
    if manifest_stale():
        project = str(settings.DBT_PROJECT_DIR)
        subprocess.run(
            [sys.executable, "-m", "dbt.cli.main", "--quiet", "parse",
             "--project-dir", project, "--profiles-dir", project],
            env=env, cwd=settings.PROJECT_ROOT, check=True,
        )  # fmt: skip
    return env


class _Stop(Exception):
    """SIGINT or SIGTERM reached this process."""


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signum)


def group_alive(group: int) -> bool:
    """Whether any process of the group is left, whoever its parent now is."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_group(process: subprocess.Popen) -> None:
    """Interrupt the group's leader (dagster dev and the refresh stop their own work on SIGINT),
    then kill whatever of the group is left after STOP_SECONDS."""
    group = process.pid  # the leader of its own session: its group id is its pid
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    while group_alive(group) and time.monotonic() < deadline:
        process.poll()  # reaps the leader, once it ends
        time.sleep(0.2)
    if group_alive(group):
        os.killpg(group, signal.SIGKILL)
    process.wait()


def _run_group(command: list[str], env: dict[str, str]) -> int:
    """`command` in a process group of its own, stopped whole when this process is stopped: a
    terminal's Ctrl-C reaches this process only, which interrupts the group once."""
    if os.name == "nt":  # no process groups to signal; Ctrl-C reaches the console's processes
        return subprocess.call(command, env=env, cwd=settings.PROJECT_ROOT)
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    process = None
    try:
        process = subprocess.Popen(
            command, env=env, cwd=settings.PROJECT_ROOT, start_new_session=True
        )
        code = process.wait()
        if group_alive(process.pid):  # the leader ended and left some of its group running
            _stop_group(process)
        return code
    except _Stop as stop:
        if process is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping is under way
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _stop_group(process)
        return 128 + stop.args[0]
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run() -> int:
    """`make run`: the job refresh_all in process, against the instance in DAGSTER_HOME."""
    if config.load_or_say() is None:
        return 1
    env = prepare()
    return _run_group([sys.executable, "-m", "boligsocial.runs.refresh"], env)


def ui(host: str, port: int) -> int:
    """`make ui`: the pipeline once when there is no warehouse yet, then the Dagster UI."""
    if config.load_or_say() is None:
        return 1
    env = prepare()
    if not Path(env["BOLIGSOCIAL_WAREHOUSE"]).exists():
        # A failed run still opens the UI, to show why.
        code = _run_group([sys.executable, "-m", "boligsocial.runs.refresh"], env)
        if code in STOPPED:  # stopped by hand: no UI
            return code
    command = [sys.executable, "-m", "dagster", "dev", "-m", "boligsocial.definitions",
               "-h", host, "-p", str(port)]  # fmt: skip
    return _run_group(command, env)
