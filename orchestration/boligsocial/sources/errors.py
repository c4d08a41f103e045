"""The one error type the readers raise for a file that breaks the source contract."""

from __future__ import annotations


class SourceError(ValueError):
    """A contract violation in one source file, located as precisely as the problem allows.

    `row` is the file's line number (the header is line 1; for XLSX the sheet row) and
    `column` the header as written in the file; either is None only for whole-file problems.
    """

    def __init__(self, file: str, row: int | None, column: str | None, message: str) -> None:
        # The arguments go to ValueError too, so the error survives pickling between processes.
        super().__init__(str(file), row, column, message)
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"
