"""Importing great_expectations on a background thread while the first ingest step reads files.

great_expectations (≈ 4 s on a 2-core EPYC) is imported only when needed, so the code location
loads fast. A run needs it soon after it starts, for the first validation, so the ingest steps
start importing it in the background, where it overlaps with listing, hashing and parsing files
(which release the GIL). An import the run reaches first waits for the thread's (Python's
per-module import lock): nothing is imported twice or half. A failed background import is left
for the foreground one to report. (dbt-core and dagster-dbt are imported by the dbt worker, a
process of its own: `orchestration.dbt_worker`.)

The import leaves ~300,000 long-lived objects (Dagster, GX) that Python's cyclic garbage
collector would otherwise scan in every full collection (0.3 s each in an incremental national
run), and again at interpreter exit. So no full collection runs while it imports, and
afterwards everything alive is moved out of the collector's reach (`gc.freeze`, as the gc
documentation suggests for long-lived processes). Objects still free when their last reference
goes; only a reference cycle that was already garbage at the freeze stays allocated.

GX imports scipy.stats at module level (≈ 0.8 s of its ≈ 2.4 s, ~480 modules) for three
expectations no suite here uses (KL divergence, two KS tests), as `from scipy import stats`. So
scipy.stats is bound lazily first (`importlib.util.LazyLoader`, the standard library's lazy
import): it loads on its first attribute access, if any. Python 3.11's LazyLoader has no lock, so
that first access must not come from two threads at once; in a run it comes from a validation,
and validations run one at a time, on the step's thread.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.util
import sys
import threading

MODULES = ("great_expectations",)
DEFERRED = ("scipy.stats",)

_lock = threading.Lock()
_thread: threading.Thread | None = None


# A full collection runs after this many young collections (CPython's gc.set_threshold): high
# enough that none runs while the modules import.
NO_FULL_COLLECTION = 1_000_000


def _defer(name: str) -> None:
    """Bind the submodule `name` (not imported yet) as a module that loads on first use. Set
    as its package's attribute, so `from package import name` takes it without loading it."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    package, _, attribute = name.rpartition(".")
    setattr(sys.modules[package], attribute, module)


def _import_all() -> None:
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTION)
    try:
        for name in DEFERRED:
            with contextlib.suppress(Exception):
                _defer(name)
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
