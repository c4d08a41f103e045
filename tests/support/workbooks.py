"""XLSX workbooks built in memory for reader tests."""

from __future__ import annotations

import io

import openpyxl


def workbook_bytes(*rows: list) -> bytes:
    """An XLSX workbook whose active sheet holds `rows`, as its file's bytes."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
