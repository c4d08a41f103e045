"""One installation home: BOLIGSOCIAL_HOME holds the configuration, the warehouse, the
validation results, the Data Docs, Dagster's instance and the publications, each still
overridable by its own variable; the Makefile derives its paths as the code does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from boligsocial.cli import launch
from boligsocial.configuration import config, settings
from boligsocial.validation import data_docs, validate

PATHS = {
    "BOLIGSOCIAL_CONFIG": settings.config_path,
    "BOLIGSOCIAL_WAREHOUSE": settings.warehouse_path,
    "BOLIGSOCIAL_PUBLISH_DIR": settings.publish_dir,
    "BOLIGSOCIAL_GX_RESULTS": validate.results_root,
    "BOLIGSOCIAL_DATA_DOCS_DIR": data_docs.site_dir,
    "DAGSTER_HOME": settings.dagster_home,
}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An installation home and nothing else set (make test exports some of the paths)."""
    for variable in settings.IN_HOME:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(settings.HOME_VARIABLE, str(tmp_path / "aarhus"))
    return tmp_path / "aarhus"


def test_every_path_of_an_installation_is_in_its_home(home):
    assert set(PATHS) == set(settings.IN_HOME)
    for variable, path in PATHS.items():
        assert path() == home / settings.IN_HOME[variable], variable
    assert launch.dagster_home() == home / ".dagster_home"  # boligsocial run and ui
    assert launch.prepare()["DAGSTER_HOME"] == str(home / ".dagster_home")
    assert config.load() == config.Config()  # no file in the home yet: the neutral defaults
    (home / "boligsocial.toml").write_text('[municipality]\nname = "Aarhus Kommune"\n', "utf-8")
    assert config.load().municipality.name == "Aarhus Kommune"


def test_each_path_is_still_overridable(home, tmp_path, monkeypatch):
    for variable, path in PATHS.items():
        monkeypatch.setenv(variable, str(tmp_path / "elsewhere" / variable))
        assert path() == tmp_path / "elsewhere" / variable
        assert home not in path().parents


def test_the_example_and_a_municipality_do_not_share_state(home, monkeypatch):
    aarhus = {variable: path() for variable, path in PATHS.items()}
    monkeypatch.delenv(settings.HOME_VARIABLE)
    example = {variable: path() for variable, path in PATHS.items()}
    assert example["BOLIGSOCIAL_CONFIG"] == settings.PROJECT_ROOT / "boligsocial.toml"
    for variable in PATHS:
        assert example[variable].is_relative_to(settings.PROJECT_ROOT)
        assert aarhus[variable].is_relative_to(home) and aarhus[variable] != example[variable]


def test_the_makefile_derives_its_paths_from_the_home(home):
    env = {k: v for k, v in os.environ.items() if k not in settings.IN_HOME}
    shown = subprocess.run(
        ["make", "--no-print-directory", "-s", "--eval",
         "show-paths: ; @echo $(DAGSTER_HOME) $(BOLIGSOCIAL_WAREHOUSE)", "show-paths"],
        cwd=settings.PROJECT_ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert shown == [str(settings.dagster_home()), str(settings.warehouse_path())]
    assert shown[0].startswith(f"{home}/")
