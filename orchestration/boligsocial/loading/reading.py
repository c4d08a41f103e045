"""Reading a source's files into rows, a chunk at a time, the next chunk in a second process.

The readers are Python (decoding, header matching, per-file checks: about 100 µs a file of a
national delivery's 88,000 ledger exports), and so is validation. In one process they take
turns; in a thread the reader waits on the GIL. So while the loader validates and stages chunk
n, a reader process (a `concurrent.futures.ProcessPoolExecutor` of one) reads chunk n + 1: one
chunk in flight, so the reader is never more than one chunk ahead. A file's error found there
is raised in the loader as it was raised (a SourceError names the file, row and column); a
killed reader is the executor's `BrokenProcessPool`, a `ReaderDied` here; a killed loader takes
its reader with it (`_end_with_loader`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING

from boligsocial.sources.catalog import SOURCES_BY_NAME, SourceSpec

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# A chunk: relative path -> path, as `boligsocial.loading.warehouse.delivered_paths` gives them.
Chunk = dict[str, str]


def _take_strings(values: list[str], index: pa.Array) -> pd.Series:
    """`values[i]` for each i of `index`, as a pandas `str` column; built in Arrow, three times
    faster than pandas from a numpy object array (millions of ledger lines)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    taken = pa.DictionaryArray.from_arrays(index, pa.array(values, pa.string()))
    str_dtype = pd.StringDtype("pyarrow", na_value=np.nan)
    return taken.cast(pa.large_string()).to_pandas(types_mapper={pa.large_string(): str_dtype}.get)


def read_files(spec: SourceSpec, files: dict[str, Path]) -> pd.DataFrame:
    """The files' rows as the source's reader gives them, with `_source_file` (the relative
    path) on each."""
    # pandas (slow to import) only when files are read: the code location imports this module.
    import pandas as pd

    if spec.batch_reader is not None and len(files) > 1:
        import pyarrow as pa

        # Many small files (ledger exports): one parse for all, no per-file overhead.
        frame = spec.read_many(list(files.values()))
        index = pa.array(frame.pop("_file_index").to_numpy(), pa.int32())
        frame["_source_file"] = _take_strings(list(files), index)
        return frame
    frames = []
    for relative, path in files.items():
        frame = spec.read(path)
        frame["_source_file"] = relative
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def read_chunk(spec: SourceSpec, chunk: Chunk) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """The chunk's rows, and the sha256 of the bytes each file's rows were parsed from (by
    relative path; None for a file not read)."""
    from boligsocial.sources._csv import recording_digests  # pandas and Arrow

    paths = {relative: Path(path) for relative, path in chunk.items()}
    with recording_digests() as parsed:
        rows = read_files(spec, paths)
    return rows, {relative: parsed.get(str(path)) for relative, path in paths.items()}


class ReaderDied(RuntimeError):
    """The reader process ended without giving a chunk's rows (killed, out of memory)."""


def _read_named(name: str, chunk: Chunk) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """`read_chunk` in the reader process: the source by name (its spec holds functions)."""
    return read_chunk(SOURCES_BY_NAME[name], chunk)


def _end_with_loader() -> None:
    """The reader process ends when its loader does, however it ends: a killed loader closes
    no pipe the reader would notice (the reader holds both ends of the executor's queues),
    but its sentinel becomes ready."""
    loader = multiprocessing.parent_process()

    def watch() -> None:
        wait([loader.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="end-with-loader", daemon=True).start()


def _rows(spec: SourceSpec, ahead: Future) -> tuple[pd.DataFrame, dict[str, str | None]]:
    try:
        return ahead.result()
    except BrokenProcessPool:
        raise ReaderDied(
            f"the process reading {spec.name}'s files ended before giving all of them (killed, "
            "or out of memory): see the log above for why"
        ) from None


def read_chunks(
    spec: SourceSpec, chunks: list[Chunk]
) -> Iterator[tuple[Chunk, pd.DataFrame, dict[str, str | None]]]:
    """Each chunk with its rows and parsed hashes (`read_chunk`), in order: the first read
    here while the reader process starts, every other one by that process, a chunk ahead.
    A reader's error is raised here, at its chunk. Close the iterator (or let it finish) to
    end the reader process."""
    if len(chunks) < 2:
        for chunk in chunks:
            yield chunk, *read_chunk(spec, chunk)
        return
    # spawn, not fork: the loader holds DuckDB's and Dagster's threads and locks.
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_end_with_loader,
    ) as reader:
        ahead = reader.submit(_read_named, spec.name, chunks[1])
        yield chunks[0], *read_chunk(spec, chunks[0])
        for index, chunk in enumerate(chunks[1:], start=2):
            rows, parsed = _rows(spec, ahead)
            if index < len(chunks):
                ahead = reader.submit(_read_named, spec.name, chunks[index])
            yield chunk, rows, parsed
            del rows  # not kept while the next chunk's rows arrive
