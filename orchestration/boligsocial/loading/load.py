"""Load every source into the warehouse's raw tables without Dagster (for dbt development).

uv run python -m boligsocial.loading.load [--sources DIR] [--warehouse FILE] [name ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from boligsocial.configuration import settings
from boligsocial.loading.warehouse import connect, ingest
from boligsocial.sources.catalog import SOURCES, SOURCES_BY_NAME
from boligsocial.sources.errors import SourceError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=Path, default=settings.sources_dir())
    parser.add_argument("--warehouse", type=Path, default=settings.warehouse_path())
    parser.add_argument("names", nargs="*", help=f"default all of: {', '.join(SOURCES_BY_NAME)}")
    args = parser.parse_args(argv)
    if unknown := set(args.names) - set(SOURCES_BY_NAME):
        parser.error(f"unknown source(s): {', '.join(sorted(unknown))}")
    specs = [SOURCES_BY_NAME[n] for n in args.names] if args.names else list(SOURCES)
    failed = 0
    with connect(args.warehouse) as con:
        for spec in specs:
            try:
                result = ingest(spec, args.sources.resolve(), con)
            except SourceError as error:
                failed += 1
                print(f"FAILED {spec.table}: {error}", file=sys.stderr)
                continue
            loaded = len(result.files_loaded)
            print(f"{spec.table}: {result.row_count} rows ({loaded} files loaded)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
