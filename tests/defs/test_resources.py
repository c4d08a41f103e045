"""Paths, URLs and secrets reach assets and sensors as resources: a variable that is set is a
`dagster.EnvVar` (the definitions name it, the value is read when a run starts), and no asset or
sensor body reads the environment."""

from __future__ import annotations

import re
from pathlib import Path

from dagster import EnvVar

from boligsocial.configuration import settings
from boligsocial.defs.resources import POSTGRES_URL_VARIABLE, from_environment

DEFS = settings.PROJECT_ROOT / "orchestration" / "boligsocial" / "defs"
SECRET_URL = "postgresql://bi:not-in-any-definition@db.example/marts"


def test_a_secret_that_is_set_is_named_not_copied(monkeypatch):
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, SECRET_URL)
    monkeypatch.setenv("BOLIGSOCIAL_SMTP_PASSWORD", "smtp-secret")
    monkeypatch.setenv("BOLIGSOCIAL_SMTP_PORT", "2525")
    publish = from_environment()["publish"]
    assert publish.postgres_url == EnvVar(POSTGRES_URL_VARIABLE)
    assert SECRET_URL not in repr(publish)
    smtp = from_environment()["smtp"]
    assert smtp.password == EnvVar("BOLIGSOCIAL_SMTP_PASSWORD")
    assert smtp.port == EnvVar.int("BOLIGSOCIAL_SMTP_PORT")


def test_a_variable_not_set_leaves_the_default(monkeypatch):
    monkeypatch.delenv(POSTGRES_URL_VARIABLE, raising=False)
    monkeypatch.delenv("BOLIGSOCIAL_PUBLISH_DIR", raising=False)
    publish = from_environment()["publish"]
    assert publish.postgres_url == ""
    assert Path(publish.directory) == settings.publish_dir()


def test_no_asset_or_sensor_body_reads_the_environment():
    # resources.py decides what is an EnvVar; dbt/assets.py hands the dbt process its profile's
    # inputs and reads dbt's own DBT_TARGET_PATH at load.
    allowed = {DEFS / "resources.py", DEFS / "dbt" / "assets.py"}
    readers = [
        f"{path.relative_to(DEFS)}:{number}"
        for path in sorted(DEFS.rglob("*.py"))
        if path not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"os\.environ|os\.getenv|settings\.\w+\(", line)
    ]
    assert readers == []
