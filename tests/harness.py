"""A bot on the console adapter, with a clock tests move, for end-to-end tests of the core."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.app import create_bot
from bot.clock import ManualClock
from bot.core import Bot
from bot.demo import load_demo
from bot.platforms.console import ConsoleAdapter, move_clock
from bot.settings import Settings
from storage.models import Person

# A Monday morning in winter, far from any daylight-saving change.
START = datetime(2027, 1, 11, 8, 0, tzinfo=UTC)


class ConsoleHarness:
    def __init__(self, bot: Bot, adapter: ConsoleAdapter, output: io.StringIO, clock: ManualClock) -> None:
        self.bot = bot
        self.adapter = adapter
        self.output = output
        self.clock = clock
        self._read = 0

    @classmethod
    async def start(cls, database_url: str, *, demo: bool = False, settings: Settings | None = None,
                    start: datetime = START, **setting_values: Any) -> ConsoleHarness:
        settings = settings or Settings(_env_file=None, database_url=database_url, **setting_values)
        clock = ManualClock(start)
        bot = await create_bot(settings, database_url=database_url, clock=clock, migrate=False)
        output = io.StringIO()
        adapter = ConsoleAdapter(output)
        async with bot.db.session() as session:
            if demo:
                await load_demo(session, clock.now())
            people = await session.exec(select(Person).where(Person.platform == "console"))
            adapter.names.update({p.user_id: p.display_name for p in people})
        adapter.directive("clock", lambda argument: move_clock(bot, adapter, argument))
        bot.add_adapter(adapter)
        await bot.start(run_scheduler=False)
        return cls(bot, adapter, output, clock)

    async def stop(self) -> None:
        await self.bot.stop()
        await self.bot.db.dispose()

    async def say(self, *lines: str) -> list[str]:
        """Feed lines as a person would type them; return the bot's output entries they caused
        (a multi-line entry is one string with its lines joined by newlines)."""
        for line in lines:
            await self.adapter.feed(line)
            await self.bot.wait_idle()
        return self.new_entries()

    async def reply(self, line: str) -> str:
        """The single entry one line produced."""
        entries = await self.say(line)
        assert len(entries) == 1, f"expected one answer to {line!r}, got {entries}"
        return entries[0]

    def new_entries(self) -> list[str]:
        text = self.output.getvalue()
        fresh = text[self._read:]
        self._read = len(text)
        entries: list[str] = []
        for line in fresh.splitlines():
            if line.startswith("    ") and entries:
                entries[-1] += "\n" + line[4:]
            else:
                entries.append(line)
        return entries
