"""Importing a run's heavy libraries on a background thread while its first steps read files.

great_expectations (~3 s) and dagster-dbt with dbt-core (~1 s) are imported only when needed, so
the code location loads fast. A run needs them soon after it starts (GX for the first
validation, dagster-dbt for the dbt step), so the ingest steps start importing them in the
background, where it overlaps with listing, hashing and parsing files (which release the GIL).
An import the run reaches first waits for the thread's (Python's per-module import lock): nothing
is imported twice or half. A failed background import is left for the foreground one to report.
"""

from __future__ import annotations

import contextlib
import importlib
import threading

MODULES = ("great_expectations", "dagster_dbt")

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _import_all() -> None:
    for name in MODULES:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


def start() -> threading.Thread:
    """Start the background imports once per process; the thread doing them."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, name="preload-imports", daemon=True)
            _thread.start()
        return _thread
