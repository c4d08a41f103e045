"""Every bundled example file reads with its catalog reader."""

from pathlib import Path

import pytest

from boligsocial.sources.catalog import SOURCES

EXAMPLE = Path(__file__).resolve().parents[2] / "sources" / "example"
FILES = [(spec, path) for spec in SOURCES for path in spec.files(EXAMPLE)]


@pytest.mark.skipif(not FILES, reason="sources/example/ holds no source files yet")
@pytest.mark.parametrize(
    ("spec", "path"), FILES, ids=[str(p.relative_to(EXAMPLE)) for _, p in FILES]
)
def test_example_file_reads(spec, path):
    frame = spec.read(path)
    assert list(frame.columns) == [name for name, _ in spec.columns] + ["_source_row"]
    assert len(frame) > 0
    assert frame["_source_row"].min() >= 2
