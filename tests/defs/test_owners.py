"""Every asset's owners are `owners` in boligsocial.toml; a configuration that cannot be used
loads the code location all the same, without owners, and says why in one sentence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from boligsocial.configuration import settings

OWNERS_OF_EVERY_ASSET = (
    "import json\n"
    "from boligsocial.definitions import defs\n"
    "print(json.dumps(sorted({tuple(s.owners) for s in defs.resolve_all_asset_specs()})))"
)


def _owners(config: Path) -> tuple[list, str]:
    done = subprocess.run(
        [sys.executable, "-c", OWNERS_OF_EVERY_ASSET],
        cwd=settings.PROJECT_ROOT,
        env={**os.environ, "BOLIGSOCIAL_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # the code location loaded
    return json.loads(done.stdout.splitlines()[-1]), done.stderr


def test_every_asset_has_the_configured_owners(tmp_path: Path):
    config = tmp_path / "boligsocial.toml"
    config.write_text('owners = ["team:aarhus", "data@aarhus.example"]\n', encoding="utf-8")
    owners, _ = _owners(config)
    assert owners == [["team:aarhus", "data@aarhus.example"]]


@pytest.mark.parametrize(
    "value", ['"team:aarhus"', '["aarhus kommune"]'], ids=["not a list", "not an owner"]
)
def test_unusable_owners_load_the_location_without_owners_and_say_why(tmp_path: Path, value):
    config = tmp_path / "boligsocial.toml"
    config.write_text(f"owners = {value}\n", encoding="utf-8")
    owners, log = _owners(config)
    assert owners == [[]]
    [line] = [line for line in log.splitlines() if "Assets without owners" in line]
    assert str(config) in line and "owners" in line.split(str(config))[1]
    assert "Traceback" not in log
