"""A sensor that launches a run when files in the sources directory appear, change or vanish.

Every tick hashes each catalog file as ingest lists it (hidden files left out, no symbolic link
out of the folder; sha256, an in-process cache keyed by size, mtime, ctime and inode spares
re-reading unchanged files: `cp -p`, `rsync -t` and unzip keep size and mtime, not ctime) and
compares the result with the cursor, the JSON `{"files": {relative path: sha256}, "runs": n}`
of the previous tick. A new, changed or deleted file marks its source; one run then refreshes
those sources' raw assets and everything downstream of them. The cursor moves on with the
tick, so a file triggers once. A source whose files cannot be listed or read is reported by
name (and keeps its files' previous hashes, so it triggers once it is readable again); the
other sources trigger as usual.

- First tick (empty cursor, e.g. the sensor was just switched on): one run of the whole
  `refresh_all` job. The sensor cannot know what the warehouse last saw, and a full run is cheap
  when nothing changed: ingest skips files by content hash.
- Default status STOPPED: `make ui` / `dagster dev` should not start loading on its own; switch
  the sensor on in the UI (Automation → source_files_sensor) or set it RUNNING in production.
- Run key `sources-<n>-<digest of the changes>`: a tick retried after a crash launches no second
  run, while a file changed back to an earlier version (same hashes) still triggers (n grows).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from boligsocial.defs.automation.jobs import refresh_all
from boligsocial.defs.resources import SourcesResource
from boligsocial.loading.warehouse import delivered_paths, file_sha256
from boligsocial.sources.catalog import SOURCES, SourceSpec
from boligsocial.sources.errors import SourceError

MINIMUM_INTERVAL_SECONDS = 60

# (absolute path, size, mtime_ns, ctime_ns, inode) -> sha256, so a tick re-reads only files
# that were touched (as ingest's FILE_STATS: ctime cannot be set back by copying or `touch`).
_hash_cache: dict[tuple[str, int, int, int, int], str] = {}


def _sha256(path: str) -> str:
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
    if key not in _hash_cache:
        _hash_cache[key] = file_sha256(path)
    return _hash_cache[key]


def source_file_hashes(sources_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """sha256 of every file the catalog would load, keyed by its path relative to sources_dir;
    and, by source name, why a source's files could not be listed or read."""
    hashes: dict[str, str] = {}
    problems: dict[str, str] = {}
    for spec in SOURCES:
        try:
            paths = delivered_paths(spec, sources_dir)
            hashes.update((relative, _sha256(path)) for relative, path in paths.items())
        except SourceError as error:
            problems[spec.name] = str(error)
        except OSError as error:  # unreadable, or gone between listing and reading
            problems[spec.name] = f"{error.filename}: {error.strerror}"
    return hashes, problems


def source_of(relative: str) -> SourceSpec | None:
    path = PurePosixPath(relative)
    for spec in SOURCES:
        if any(
            len(path.parts) == len(PurePosixPath(p).parts) and path.match(p) for p in spec.patterns
        ):
            return spec
    return None


def changed_files(
    previous: dict[str, str], current: dict[str, str]
) -> dict[str, tuple[str | None, str | None]]:
    """{relative path: (old sha256, new sha256)} for new (old None), changed and deleted
    (new None) files."""
    return {
        path: (previous.get(path), current.get(path))
        for path in sorted(previous.keys() | current.keys())
        if previous.get(path) != current.get(path)
    }


def _digest(changes: dict[str, tuple[str | None, str | None]]) -> str:
    text = json.dumps(changes, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(changes: dict[str, tuple[str | None, str | None]]) -> str:
    def kind(old: str | None, new: str | None) -> str:
        return "new" if old is None else "deleted" if new is None else "changed"

    listed = [f"{path} ({kind(*hashes)})" for path, hashes in list(changes.items())[:10]]
    more = f" and {len(changes) - 10} more" if len(changes) > 10 else ""
    return ", ".join(listed) + more


@sensor(
    job=refresh_all,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.STOPPED,
    description=(
        "Watches the sources directory (BOLIGSOCIAL_SOURCES_DIR): a new, changed or deleted file "
        "launches one run for its source's raw asset and everything downstream. The first tick "
        "(empty cursor) launches a full refresh. Checks every 60 s; off by default."
    ),
)
def source_files_sensor(context: SensorEvaluationContext, sources: SourcesResource):
    state = json.loads(context.cursor) if context.cursor else None
    current, problems = source_file_hashes(sources.path)
    runs = state["runs"] + 1 if state else 1
    for name, problem in problems.items():
        context.log.warning(f"Source {name} not checked: {problem}")
    if state is not None and problems:
        # Its files as last seen: no change is claimed for a source that could not be read.
        current |= {
            path: sha256
            for path, sha256 in state["files"].items()
            if (spec := source_of(path)) is not None and spec.name in problems
        }

    if state is None:
        cursor = json.dumps({"files": current, "runs": runs}, sort_keys=True)
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=f"sources-{runs}-{_digest({p: (None, h) for p, h in current.items()})}",
                    tags={"boligsocial/trigger": "first sensor tick: full refresh"},
                )
            ],
            cursor=cursor,
        )

    changes = changed_files(state["files"], current)
    if not changes:
        unread = "".join(f" Not checked: {problem}." for problem in problems.values())
        return SkipReason(f"No new, changed or deleted files in {sources.path}.{unread}")

    names = sorted({spec.name for path in changes if (spec := source_of(path)) is not None})
    cursor = json.dumps({"files": current, "runs": runs}, sort_keys=True)
    if not names:  # only files the catalog no longer knows (the catalog changed)
        return SensorResult(skip_reason=f"No source changed: {_describe(changes)}", cursor=cursor)
    raw_keys = [AssetKey(["raw", name]) for name in names]
    selection = AssetSelection.assets(*raw_keys).downstream()
    asset_graph = context.repository_def.asset_graph
    asset_keys = sorted(selection.resolve(asset_graph))
    # The checks of those assets run too (GX and dbt tests): a refresh is validated like any.
    check_keys = sorted(
        (k for k in asset_graph.asset_check_keys if k.asset_key in set(asset_keys)),
        key=lambda k: (k.asset_key, k.name),
    )
    context.log.info(f"Sources {', '.join(names)} changed: {_describe(changes)}")
    return SensorResult(
        run_requests=[
            RunRequest(
                run_key=f"sources-{runs}-{_digest(changes)}",
                asset_selection=asset_keys,
                asset_check_keys=check_keys,
                tags={"boligsocial/sources": ",".join(names)},
            )
        ],
        cursor=cursor,
    )
