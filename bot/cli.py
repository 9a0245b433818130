"""`icc-bot`: run the bot, the console, checks, migrations and seeding."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot import __version__

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("icc-bot")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "action"):
        parser.print_help()
        return 0
    try:
        return int(args.action(args) or 0)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="icc-bot", description="The Intercultural Cities network's chat bot.")
    parser.add_argument("--version", action="version", version=f"icc-bot {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="<command>")

    run = commands.add_parser("run", help="start every configured platform (the console when none is)")
    run.set_defaults(action=command_run)

    console = commands.add_parser("console", help="a local chat with the demo network, in this terminal "
                                  "or from a script on stdin")
    console.add_argument("--db", type=Path, help="keep the console's database in this SQLite file")
    console.add_argument("--no-demo", action="store_true", help="start without the demo network")
    console.set_defaults(action=command_console)

    check = commands.add_parser("check", help="show what is configured, secrets masked")
    check.set_defaults(action=command_check)

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(title="db commands", metavar="<db command>")
    db_commands.add_parser("upgrade", help="apply every migration").set_defaults(action=command_db_upgrade)
    db_commands.add_parser("current", help="show the applied revision").set_defaults(action=command_db_current)

    seed = commands.add_parser("seed", help="load the ICC member cities and networks")
    seed.add_argument("--demo", action="store_true", help="also load the demo groups, channels and people "
                      "(never do this on a production database)")
    seed.set_defaults(action=command_seed)

    for extend in CLI_EXTENSIONS:
        extend(commands)
    return parser


def _deadlines(commands: argparse._SubParsersAction) -> None:
    from bot.deadlines.cli import add_commands

    add_commands(commands)


def _practices(commands: argparse._SubParsersAction) -> None:
    from bot.practices.cli import add_commands

    add_commands(commands)


# Other areas add their own commands (e.g. `practices export`): fn(subparsers) → None.
CLI_EXTENSIONS: list[Callable[[argparse._SubParsersAction], None]] = [_deadlines, _practices]


def load_settings() -> Settings:
    from bot.settings import Settings, describe_errors

    try:
        return Settings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"error: {line}", file=sys.stderr)
        raise SystemExit(2) from None


def setup_logging(settings: Settings, level: str | None = None) -> None:
    from bot.logging_setup import configure

    configure(level or settings.log_level, settings.secrets())


def command_console(args: argparse.Namespace) -> int:
    settings = load_settings()
    setup_logging(settings, "WARNING")
    return asyncio.run(_console(settings, args.db, demo=not args.no_demo))


async def _console(settings: Settings, database_path: Path | None, *, demo: bool) -> int:
    from bot.app import console_bot
    from bot.demo import demo_summary
    from bot.platforms.console import run_console

    interactive = sys.stdin.isatty()
    banner = ["icc-bot console: the ICC demo network. Type lines like:",
              "  @olena #chutky-uk Привіт усім!        (a message, relayed to the group's channels)",
              "  @alice #rumours-en /icc help          (a command)",
              "  !clock +3d                            (move time; whatever falls due runs)",
              "Ctrl-D quits.", *demo_summary()] if demo else []
    async with console_bot(settings, database_path=database_path, demo=demo) as (bot, adapter):
        await run_console(bot, adapter, sys.stdin, interactive=interactive, banner=banner)
    return 0


def command_run(args: argparse.Namespace) -> int:
    from bot.app import configured_platforms

    settings = load_settings()
    if not configured_platforms(settings):
        setup_logging(settings, "WARNING")
        print("No platform is configured (see README): starting the console.", file=sys.stderr)
        return asyncio.run(_console(settings, None, demo=True))
    setup_logging(settings)
    return asyncio.run(_run_platforms(settings))


async def _run_platforms(settings: Settings) -> int:
    from bot.app import configured_platforms, create_bot, create_platform_adapter
    from bot.outbound import PlatformStartError
    from storage.db import safe_url

    log.info("database: %s", safe_url(settings.database))
    try:
        bot = await create_bot(settings)
    except Exception as error:  # the database is unreachable or refuses us
        print(f"error: cannot open the database {safe_url(settings.database)}: {type(error).__name__}",
              file=sys.stderr)
        return 1
    try:
        for platform in configured_platforms(settings):
            bot.add_adapter(create_platform_adapter(platform, settings))
        await bot.start()
    except PlatformStartError as error:
        print(f"error: {error}", file=sys.stderr)
        await bot.stop()
        await bot.db.dispose()
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("icc-bot running on %s", ", ".join(configured_platforms(settings)))
    await stop.wait()
    log.info("stopping")
    await bot.stop()
    await bot.db.dispose()
    return 0


def command_check(args: argparse.Namespace) -> int:
    from bot.settings import Settings, describe_errors

    try:
        settings = Settings()
    except ValidationError as error:
        for line in describe_errors(error):
            print(f"error: {line}")
        return 2
    return asyncio.run(_check(settings))


async def _check(settings: Settings) -> int:
    from sqlalchemy import text

    from storage.db import Database, safe_url
    from storage.migrate import current_revisions, head_revisions

    ok = True
    url = settings.database
    try:
        database = Database(url)
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        await database.dispose()
        current = await asyncio.to_thread(current_revisions, url)
        heads = set(head_revisions())
        state = "up to date" if set(current) == heads else \
            f"needs `icc-bot db upgrade` (at {', '.join(current) or 'empty'})"
        print(f"database  {safe_url(url)}: reachable, schema {state}")
    except Exception as error:
        ok = False
        print(f"database  {safe_url(url)}: unreachable ({type(error).__name__})")
    workspaces = len(settings.slack_bot_tokens)
    tokens = f"{workspaces} bot tokens" if workspaces > 1 else "SLACK_BOT_TOKEN"
    slack = ("not configured" if settings.slack_bot_token is None else
             f"Socket Mode ({tokens}, SLACK_APP_TOKEN set)" if settings.slack_app_token else
             f"HTTP mode on port {settings.port}, POST /slack/events ({tokens}, SLACK_SIGNING_SECRET set)"
             if settings.slack_signing_secret else
             "incomplete: SLACK_BOT_TOKEN needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)")
    if settings.slack_bot_token is not None and not settings.slack_configured:
        ok = False
    print(f"slack     {slack}")
    from bot.platforms.discord.invite import check_lines

    discord_ok, discord_lines = await check_lines(settings)
    ok = ok and discord_ok
    print(f"discord   {discord_lines[0]}")
    for line in discord_lines[1:]:
        print(f"          {line}")
    deepl = ("configured (DEEPL_AUTH_KEY set" + (f", server {settings.deepl_server_url})"
                                                 if settings.deepl_server_url else ")")
             if settings.deepl_configured else "not configured: relays go out untranslated, with a note")
    print(f"deepl     {deepl}")
    admins = ", ".join(f"{a.platform}:{a.user}" for a in sorted(settings.admins, key=str)) or "none"
    print(f"admins    {admins}")
    from bot.app import configured_platforms

    platforms = configured_platforms(settings)
    print(f"run       {'starts ' + ', '.join(platforms) if platforms else 'starts the console (no platform)'}")
    return 0 if ok else 1


def command_db_upgrade(args: argparse.Namespace) -> int:
    from storage.db import safe_url
    from storage.migrate import current_revisions, upgrade

    settings = load_settings()
    setup_logging(settings, "WARNING")
    upgrade(settings.database)
    print(f"{safe_url(settings.database)}: at {', '.join(current_revisions(settings.database))}")
    return 0


def command_db_current(args: argparse.Namespace) -> int:
    from storage.migrate import current_revisions, head_revisions

    settings = load_settings()
    current = current_revisions(settings.database)
    print(f"current: {', '.join(current) or 'empty'}; head: {', '.join(head_revisions())}")
    return 0


def command_seed(args: argparse.Namespace) -> int:
    settings = load_settings()
    setup_logging(settings, "WARNING")
    return asyncio.run(_seed(settings, demo=args.demo))


async def _seed(settings: Settings, *, demo: bool) -> int:
    from bot.app import create_bot
    from bot.demo import cities_file, load_demo
    from storage.seed import read_cities, seed_cities

    bot = await create_bot(settings)
    try:
        async with bot.db.session() as session:
            report = await seed_cities(session, read_cities(cities_file()))
            print(f"networks added: {report.networks_added}, cities added: {report.cities_added}, "
                  f"updated: {report.cities_updated}")
            if demo:
                await load_demo(session, bot.clock.now())
                print("demo groups, channels and people loaded")
    finally:
        await bot.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
