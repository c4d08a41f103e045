"""`boligsocial run` and `boligsocial ui`: what `make run` and `make ui` do, without make.

Both first say, in one sentence, when the installation's configuration cannot be used, and
stop. They prepare what the make targets prepare: the Dagster instance folder (DAGSTER_HOME,
default `.dagster_home/` in the installation home) with the project's `dagster.yaml` copied
in, and the dbt manifest, parsed again when any file of the dbt project is newer than it. The
pipeline and the UI then run as their own processes with this Python, as the make targets run
them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from boligsocial.configuration import config, settings

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


def run() -> int:
    """`make run`: the job refresh_all in process, against the instance in DAGSTER_HOME."""
    if config.load_or_say() is None:
        return 1
    env = prepare()
    return subprocess.call([sys.executable, "-m", "boligsocial.runs.refresh"], env=env)


def ui(host: str, port: int) -> int:
    """`make ui`: the pipeline once when there is no warehouse yet, then the Dagster UI."""
    if config.load_or_say() is None:
        return 1
    env = prepare()
    if not Path(env["BOLIGSOCIAL_WAREHOUSE"]).exists():
        # A failed run still opens the UI, to show why.
        subprocess.call([sys.executable, "-m", "boligsocial.runs.refresh"], env=env)
    command = [sys.executable, "-m", "dagster", "dev", "-m", "boligsocial.definitions",
               "-h", host, "-p", str(port)]  # fmt: skip
    return subprocess.call(command, env=env, cwd=settings.PROJECT_ROOT)
