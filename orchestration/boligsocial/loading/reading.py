"""Reading a source's files into rows, a chunk at a time, the next chunk in a second process.

The readers are Python (decoding, header matching, per-file checks: about 100 µs a file of a
national delivery's 88,000 ledger exports), and so is validation. In one process they take
turns; in a thread the reader waits on the GIL (the national ledger: 30.6 s, with a thread
30.0 s). So while the loader validates and stages chunk n, a reader process
(`python -m boligsocial.loading.reading`) reads chunk n + 1. It gets the chunks on its stdin and
gives each chunk's rows back pickled on its stdout, in order, and stops at the first error, which it
gives instead (a SourceError names the file, row and column). A pipe holds one chunk: the
reader is never more than one chunk ahead, and when the loader ends or dies, the reader's
next write fails and it ends too.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import subprocess
import sys
from collections.abc import Iterator
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
    # pandas (≈ 1 s to import) only when files are read: the code location imports this module.
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


class _Pipe:
    """One end of a pipe as the pickle module reads or writes it, every read and write looped
    to its last byte: a process stopped and resumed (by a profiler, a debugger, SIGSTOP) sees
    short reads and writes, which lost bytes of a 45 MB pickle through Python's buffered pipe
    objects (seen under py-spy). Pickles stream through it: no copy of a chunk's rows in
    bytes on either side."""

    def __init__(self, raw) -> None:
        self.raw = raw  # unbuffered (FileIO)

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        while view:
            view = view[self.raw.write(view) :]
        return size

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        size = len(view)
        while view:
            count = self.raw.readinto(view)
            if not count:
                raise EOFError  # the writer has gone
            view = view[count:]
        return size

    def read(self, size: int) -> bytes:
        data = bytearray(size)
        self.readinto(data)
        return bytes(data)

    def readline(self) -> bytes:  # the pickle module's interface; our pickles never use it
        line = b""
        while not line.endswith(b"\n"):
            line += self.read(1)
        return line


def _send(pipe: _Pipe, message: object) -> None:
    pickle.dump(message, pipe, protocol=pickle.HIGHEST_PROTOCOL)


def _receive(pipe: _Pipe) -> object:
    """The next message; EOFError when the writer has gone."""
    return pickle.load(pipe)


class ReaderDied(RuntimeError):
    """The reader process ended without giving a chunk's rows (killed, out of memory)."""


def _died(spec: SourceSpec, reader: subprocess.Popen) -> ReaderDied:
    return ReaderDied(
        f"the process reading {spec.name}'s files ended (exit code {reader.wait()}) before "
        "giving all of them: see the log above for why"
    )


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
    # Its stderr is this process's: a reader's traceback shows in the run's log.
    reader = subprocess.Popen(
        [sys.executable, "-m", "boligsocial.loading.reading"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )
    try:
        try:
            with reader.stdin:
                _send(_Pipe(reader.stdin), (spec.name, chunks[1:]))
        except BrokenPipeError:
            raise _died(spec, reader) from None
        yield chunks[0], *read_chunk(spec, chunks[0])
        results = _Pipe(reader.stdout)
        for chunk in chunks[1:]:
            try:
                kind, *message = _receive(results)
            except (EOFError, pickle.UnpicklingError):
                raise _died(spec, reader) from None
            if kind == "error":
                raise message[0]
            yield chunk, *message
    finally:
        reader.stdout.close()
        reader.kill()  # done or failed: it has nothing more to give
        reader.wait()


def serve(requests, results) -> None:
    """The reader process's work: (source name, chunks) from `requests`; for each chunk,
    ("rows", rows, parsed hashes) or, at the first error, ("error", exception) to `results`."""
    name, chunks = _receive(requests)
    spec = SOURCES_BY_NAME[name]
    for chunk in chunks:
        try:
            rows, parsed = read_chunk(spec, chunk)
        except Exception as error:
            try:  # pickled whole before it is sent: a failed pickle must not reach the pipe
                message = pickle.dumps(("error", error))
            except Exception:  # an exception that does not pickle: its text still tells
                message = pickle.dumps(("error", RuntimeError(f"{type(error).__name__}: {error}")))
            results.write(message)
            return
        _send(results, ("rows", rows, parsed))
        del rows  # not kept while the next chunk is read


def main() -> int:
    requests = _Pipe(io.FileIO(sys.stdin.fileno(), "rb", closefd=False))
    results = _Pipe(io.FileIO(sys.stdout.fileno(), "wb", closefd=False))
    sys.stdout = sys.stderr  # anything printed goes to the log, not into the pickled rows
    with contextlib.suppress(BrokenPipeError):  # the loader has ended: nobody wants the rows
        serve(requests, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
