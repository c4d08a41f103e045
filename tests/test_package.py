"""The wheel installs one import package, `boligsocial`, with the files it reads at run time;
the tools beside it (bench/, sources/synthetic/) and the example delivery are not in it."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

from boligsocial.configuration import settings


def test_the_wheel_has_one_top_level_name_and_no_tools(tmp_path: Path):
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH (make sync installs it)"
    subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path), "--quiet"],
        cwd=settings.PROJECT_ROOT,
        check=True,
        timeout=600,
    )
    [wheel] = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if ".dist-info/" not in name}
    assert top_level == {"boligsocial"}
    assert not [n for n in names if "synthetic" in n or "bench" in n or "example" in n]
    # What the package reads beside its modules at run time travels with it.
    for data in (
        "boligsocial/report/templates/report.html.j2",
        "boligsocial/sources/statbank_tables.toml",
        "boligsocial/validation/data_docs_assets/bootstrap-dark/bootstrap-prefers-dark.css",
    ):
        assert data in names
