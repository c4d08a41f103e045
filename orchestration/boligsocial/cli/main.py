"""The `boligsocial` command: for the people who deliver the files, on any platform.

boligsocial check DIR          is the delivery in DIR readable and valid? (exit 0 / 1)
boligsocial templates OUT      empty templates and Table Schemas of every source file
boligsocial run                the pipeline once (make run)
boligsocial ui                 the Dagster UI (make ui)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

USAGE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="boligsocial",
        description="Kontrol af leverancer, skabeloner og kørsel af den boligsociale pipeline.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check", help="kontrollér en leverance (læs og valider som en kørsel, uden at gemme)"
    )
    check.add_argument("directory", type=Path, help="leverancens mappe (som sources/example)")
    check.add_argument("--lang", choices=("da", "en"), default="da", help="sprog (da)")
    check.add_argument("--format", choices=("text", "json"), default="text", help="format")
    check.add_argument(
        "--quiet", "-q", action="store_true", help="vis kun problemerne (og opsummeringen)"
    )
    templates = commands.add_parser(
        "templates", help="skriv tomme skabeloner og Table Schemas for hver kildefil"
    )
    templates.add_argument("output", type=Path, help="mappe at skrive skabelonerne i")
    commands.add_parser("run", help="kør pipelinen én gang (som make run)")
    ui = commands.add_parser("ui", help="Dagster-brugerfladen (som make ui)")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "check":
        from boligsocial.cli import check
        from boligsocial.sources import messages

        if not args.directory.is_dir():
            message = messages.render("not_a_directory", args.lang, path=str(args.directory))
            print(message, file=sys.stderr)
            return USAGE
        report = check.check(args.directory)
        if args.format == "json":
            print(json.dumps(report.to_json(quiet=args.quiet), ensure_ascii=False, indent=1))
        else:
            print(check.text(report, args.lang, quiet=args.quiet))
        return 0 if report.ok else 1
    if args.command == "templates":
        from boligsocial.cli import templates

        for path in templates.write(args.output):
            print(path)
        return 0
    from boligsocial.cli import launch

    return launch.run() if args.command == "run" else launch.ui(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
