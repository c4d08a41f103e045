"""The one error type the readers and the loader raise for a file that breaks the contract."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import IO, Any

from boligsocial.sources import messages


class SourceError(ValueError):
    """A contract violation in one source file, located as precisely as the problem allows.

    `row` is the file's line number (the header is line 1; for XLSX the sheet row) and
    `column` the header as written in the file; either is None only for whole-file problems.
    `kind` is the message's key in `messages.MESSAGES`, `params` its parameters (`value`: the
    offending cell, where there is one): the error is written in either language from them.
    """

    def __init__(
        self, file: str, row: int | None, column: str | None, *, kind: str, **params: Any
    ) -> None:
        if kind not in messages.MESSAGES:
            raise KeyError(f"no message of kind {kind!r} in sources/messages.py")
        super().__init__(str(file), row, column, kind, params)
        self.file = str(file)
        self.row = row
        self.column = column
        self.kind = kind
        self.params = params

    def __reduce__(self):  # pickled between processes: the reader process gives its errors
        return _restore, (self.file, self.row, self.column, self.kind, self.params)

    def within(self, root: str | os.PathLike) -> SourceError:
        """This error with its file named relative to `root` (the sources folder), as every
        message of a run names it; unchanged for a file outside it."""
        try:
            file = Path(self.file).relative_to(root).as_posix()
        except ValueError:
            return self
        return SourceError(file, self.row, self.column, kind=self.kind, **self.params)

    @property
    def value(self) -> Any:
        return self.params.get("value")

    def text(self, lang: str) -> str:
        """The message (without the file, row and column) in `lang`."""
        return messages.render(self.kind, lang, **self.params)

    @property
    def message(self) -> str:
        return self.text("en")

    def __str__(self) -> str:
        where = [messages.visible(self.file)]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {messages.visible(self.column)}")
        return f"{', '.join(where)}: {self.message}"


def _restore(
    file: str, row: int | None, column: str | None, kind: str, params: dict
) -> SourceError:
    return SourceError(file, row, column, kind=kind, **params)


def file_error(file: str, error: OSError) -> SourceError:
    """The error for a file that cannot be opened or read (any OSError), in words."""
    if isinstance(error, PermissionError):
        return SourceError(file, None, None, kind="file_permission")
    if isinstance(error, FileNotFoundError) or error.errno == errno.ELOOP:
        return SourceError(file, None, None, kind="file_missing")
    if isinstance(error, IsADirectoryError):
        return SourceError(file, None, None, kind="file_is_folder")
    return SourceError(
        file, None, None, kind="file_unreadable", detail=error.strerror or str(error)
    )


# Opening a pipe (FIFO) for reading waits for a writer: without one, for ever. Non-blocking,
# the open returns at once, and the file's type is checked before anything is read.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_source_file(path: str | os.PathLike) -> IO[bytes]:
    """A delivered file opened for reading in binary; whatever keeps it from being read (it is
    gone, not permitted, a folder, a pipe or a device) raises its SourceError."""
    file = os.fspath(path)
    try:
        handle = open(os.open(file, _OPEN_FLAGS), "rb")  # noqa: SIM115 (the caller closes it)
    except OSError as error:
        raise file_error(file, error) from None
    mode = os.fstat(handle.fileno()).st_mode
    if stat.S_ISREG(mode):
        return handle
    handle.close()
    if stat.S_ISDIR(mode):
        raise SourceError(file, None, None, kind="file_is_folder")
    raise SourceError(file, None, None, kind="file_not_regular")
