"""`icc-bot practices export|import`: the ICC team's command line for the good-practice database.

    icc-bot practices export --format csv|json|md [--output FILE] [--lang en|original|both]
                             [--status published|submitted|draft|all] [--progress|--no-progress]
    icc-bot practices import FILE.csv [--dry-run]

Export writes to FILE (or standard output) with a progress bar on standard error (when it is a
terminal, or with --progress). Import reports each rejected row with its line and the reason,
imports the rest, and skips rows imported before; it exits 1 when a row was rejected.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TextIO

from storage.models.practices import STATUSES


def add_commands(commands: argparse._SubParsersAction) -> None:
    practices = commands.add_parser("practices", help="export and import the good-practice database")
    verbs = practices.add_subparsers(title="practices commands", metavar="<practices command>")
    export = verbs.add_parser("export", help="write the practices as CSV, JSON or Markdown")
    export.add_argument("--format", choices=("csv", "json", "md"), default="md")
    export.add_argument("--output", type=Path, help="the file to write (default: standard output)")
    export.add_argument("--lang", choices=("en", "original", "both"), default="en",
                        help="texts in English (default), as written, or both")
    export.add_argument("--status", choices=(*STATUSES, "all"), default="published")
    export.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar on standard error (default: when it is a terminal)")
    export.set_defaults(action=command_export)
    load = verbs.add_parser("import", help="import practices from a CSV file (header: title, city, topic, "
                            "purpose, and optionally period, rationale, process, link, contact, language, "
                            "status, author, title_en, purpose_en, …)")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="check every row, import nothing")
    load.set_defaults(action=command_import)


class ProgressBar:
    """`Exporting [#######.............] 35% 35,000/100,000` on one line, redrawn at most 10 times a
    second, finished with a newline."""

    def __init__(self, total: int, stream: TextIO, label: str = "Exporting", width: int = 30) -> None:
        self.total, self.stream, self.label, self.width = max(total, 1), stream, label, width
        self._last = 0.0

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done < self.total and now - self._last < 0.1:
            return
        self._last = now
        filled = int(self.width * done / self.total)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{100 * done // self.total:3d}% {done:,}/{self.total:,}")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def command_export(args: argparse.Namespace) -> int:
    from bot.cli import load_settings, setup_logging

    settings = load_settings()
    setup_logging(settings, "WARNING")
    return asyncio.run(_export(settings.database, args))


async def _export(url: str, args: argparse.Namespace) -> int:
    from bot.practices.export import export_practices
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.queries import practices as queries

    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    statuses = STATUSES if args.status == "all" else (args.status,)
    filters = queries.Filters(statuses=statuses, all_drafts=True)
    try:
        async with db.session() as session:
            total = await queries.count_practices(session, filters)
        show = sys.stderr.isatty() if args.progress is None else args.progress
        bar = ProgressBar(total, sys.stderr) if show else None
        if args.output is None:
            count = await export_practices(db, filters, args.format, args.lang, sys.stdout, progress=bar)
        else:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = await export_practices(db, filters, args.format, args.lang, out, progress=bar)
        if bar is not None:
            bar(count)
            bar.finish()
        where = f" to {args.output}" if args.output else ""
        print(f"exported {count:,} practices ({args.format}, texts: {args.lang}){where}", file=sys.stderr)
    finally:
        await db.dispose()
    return 0


def command_import(args: argparse.Namespace) -> int:
    from bot.cli import load_settings, setup_logging

    settings = load_settings()
    setup_logging(settings, "WARNING")
    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    return asyncio.run(_import(settings.database, data, args))


async def _import(url: str, data: bytes, args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.practices.export import import_csv
    from storage.db import Database
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        report = await import_csv(db, data, now=SystemClock().now(), dry_run=args.dry_run)
    finally:
        await db.dispose()
    if report.problem:
        print(f"error: {args.file}: {report.problem}", file=sys.stderr)
        return 1
    if report.ignored_columns:
        print(f"note: columns ignored: {', '.join(report.ignored_columns)}")
    for line, reason in sorted(report.rejected):
        where = f"line {line}" if line > 0 else "end of file"
        print(f"{where}: rejected: {reason}")
    for line, reason in sorted(report.skipped):
        print(f"line {line}: skipped: {reason}")
    verb = "would import" if args.dry_run else "imported"
    print(f"{verb} {len(report.imported):,}, skipped {len(report.skipped):,}, rejected {len(report.rejected):,}"
          + ("" if args.dry_run or not report.imported else
             "; their English versions are made by the bot (`icc-bot run`) when DeepL is configured"))
    return 1 if report.rejected else 0
