"""Fixture files for the reader tests, written byte for byte (encodings, BOM, line ends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from boligsocial.sources.errors import SourceError

Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """write(name, text, encoding=, bom=, crlf=) -> path; `text` may also be raw bytes."""

    def _write(
        name: str,
        text: str | bytes,
        *,
        encoding: str = "utf-8",
        bom: bool = False,
        crlf: bool = False,
    ) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            data = text
        else:
            data = (text.replace("\n", "\r\n") if crlf else text).encode(encoding)
            if bom:
                data = b"\xef\xbb\xbf" + data
        path.write_bytes(data)
        return path

    return _write


def _source_error(reader: Callable[[Path], object], path: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        reader(path)
    assert caught.value.file == str(path)
    return caught.value


@pytest.fixture
def source_error() -> Callable[[Callable[[Path], object], Path], SourceError]:
    """source_error(reader, path): the SourceError the reader raises for the file (or fail)."""
    return _source_error
