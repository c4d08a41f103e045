"""Importing a run's heavy libraries on a background thread while its first steps read files.

great_expectations (~3 s) and dagster-dbt with dbt-core (~1 s) are imported only when needed, so
the code location loads fast. A run needs them soon after it starts (GX for the first
validation, dagster-dbt for the dbt step), so the ingest steps start importing them in the
background, where it overlaps with listing, hashing and parsing files (which release the GIL).
An import the run reaches first waits for the thread's (Python's per-module import lock): nothing
is imported twice or half. A failed background import is left for the foreground one to report.

These imports leave ~500,000 long-lived objects (Dagster, GX, dbt) that Python's cyclic garbage
collector would otherwise scan in every full collection: five of them in an incremental national
run (0.3 s each on a 2-core EPYC), and again at interpreter exit (3 s). So no full collection
runs while they import, and afterwards everything alive is moved out of the collector's reach
(`gc.freeze`, as the gc documentation suggests for long-lived processes). Objects still free
when their last reference goes; only a reference cycle that was already garbage at the freeze
stays allocated.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import threading

MODULES = ("great_expectations", "dagster_dbt")

_lock = threading.Lock()
_thread: threading.Thread | None = None


# A full collection runs after this many young collections (CPython's gc.set_threshold): high
# enough that none runs while the modules import.
NO_FULL_COLLECTION = 1_000_000


def _import_all() -> None:
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTION)
    try:
        for name in MODULES:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    finally:
        gc.freeze()
        gc.set_threshold(young, middle, full)


def start() -> threading.Thread:
    """Start the background imports once per process; the thread doing them."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_import_all, name="preload-imports", daemon=True)
            _thread.start()
        return _thread
