"""Assembling a bot: database (migrated), clock, extensions and the configured platforms."""

from __future__ import annotations

import asyncio
import importlib
import logging
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TextIO

from sqlmodel import select

from bot.clock import Clock, OffsetClock, SystemClock
from bot.core import Bot
from bot.demo import load_demo
from bot.outbound import Adapter, PlatformStartError
from bot.platforms.console import PLATFORM, ConsoleAdapter
from bot.settings import Settings
from bot.translation import Translator, Untranslated
from storage.db import Database
from storage.migrate import upgrade
from storage.models import City, Person

log = logging.getLogger(__name__)

# Platform modules expose `create_adapter(settings) -> Adapter`; imported only when configured.
PLATFORM_MODULES = {"slack": "bot.platforms.slack", "discord": "bot.platforms.discord"}


async def create_bot(settings: Settings, *, database_url: str | None = None, clock: Clock | None = None,
                     migrate: bool = True) -> Bot:
    url = database_url or settings.database
    if migrate:
        await asyncio.to_thread(upgrade, url)
    bot = Bot(settings, Database(url), clock or SystemClock())
    # Until an extension provides a real one (DeepL, when a key is configured).
    bot.provide(Translator, Untranslated())  # type: ignore[type-abstract]
    bot.load_extensions()
    return bot


def configured_platforms(settings: Settings) -> list[str]:
    platforms = []
    if settings.slack_configured:
        platforms.append("slack")
    if settings.discord_configured:
        platforms.append("discord")
    return platforms


def create_platform_adapter(platform: str, settings: Settings) -> Adapter:
    try:
        module = importlib.import_module(PLATFORM_MODULES[platform])
    except ModuleNotFoundError as error:
        raise PlatformStartError(f"{platform} support is missing from this installation ({error.name})") from None
    adapter: Adapter = module.create_adapter(settings)
    return adapter


@asynccontextmanager
async def console_bot(settings: Settings, *, database_path: Path | None = None, demo: bool = True,
                      output: TextIO | None = None) -> AsyncIterator[tuple[Bot, ConsoleAdapter]]:
    """A bot on the console, in its own database (a temporary file unless one is named), with
    the demo network loaded into it when it is new."""
    with tempfile.TemporaryDirectory(prefix="icc-console-") as scratch:
        path = database_path or Path(scratch) / "console.db"
        bot = await create_bot(settings, database_url=f"sqlite:///{path}", clock=OffsetClock())
        async with bot.db.session() as session:
            is_new = (await session.exec(select(City).limit(1))).first() is None
            if demo and is_new:
                await load_demo(session, bot.clock.now())
            people = await session.exec(select(Person).where(Person.platform == PLATFORM))
            names = {person.user_id: person.display_name for person in people}
        adapter = ConsoleAdapter(output, bot_name=settings.bot_name)
        adapter.names.update(names)
        bot.add_adapter(adapter)
        await bot.start()
        try:
            yield bot, adapter
        finally:
            await bot.stop()
            await bot.db.dispose()
