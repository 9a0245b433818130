"""`icc-bot deadlines …` on the command line: a deadline's status as a CSV file for the ICC team
(the chat gets the same CSV as a code block)."""

from __future__ import annotations

import argparse
import asyncio
import sys


def add_commands(commands: argparse._SubParsersAction) -> None:
    deadlines = commands.add_parser("deadlines", help="deadlines: who has answered")
    verbs = deadlines.add_subparsers(title="deadlines commands", metavar="<deadlines command>")
    status = verbs.add_parser("status", help="a deadline's status per city (CSV on stdout with --csv)")
    status.add_argument("id", type=int, help="the deadline's number")
    status.add_argument("--csv", action="store_true", help="CSV, one line per city, instead of text")
    status.set_defaults(action=command_status)


def command_status(args: argparse.Namespace) -> int:
    from bot.cli import load_settings, setup_logging

    settings = load_settings()
    setup_logging(settings, "WARNING")
    return asyncio.run(_status(settings.database, args.id, as_csv=args.csv))


async def _status(url: str, deadline_id: int, *, as_csv: bool) -> int:
    from bot.deadlines.status import load_status, status_csv, status_message
    from bot.i18n import render
    from storage.db import Database
    from storage.queries import deadlines as queries

    database = Database(url)
    try:
        async with database.session() as session:
            deadline = await queries.get_deadline(session, deadline_id)
            if deadline is None:
                print(f"error: there is no deadline #{deadline_id}", file=sys.stderr)
                return 1
            statuses = await load_status(session, deadline)
    finally:
        await database.dispose()
    sys.stdout.write(status_csv(deadline, statuses) if as_csv else render(status_message(deadline, statuses, "en"),
                                                                          "en") + "\n")
    return 0
