"""The relay on the console platform, with every platform call recorded and faults injectable
per channel (the console is a real platform of the bot; this only watches and disturbs it)."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlmodel import select

from bot.app import create_bot
from bot.clock import ManualClock
from bot.events import ChannelRef, PersonRef
from bot.outbound import DeliveryError, Outgoing
from bot.platforms.console import ConsoleAdapter, move_clock
from bot.settings import Settings
from storage.models import Person
from tests.harness import START, ConsoleHarness


@dataclass
class Call:
    op: str  # post | edit | delete | dm
    channel: str
    message_id: str
    message: Outgoing | None
    at: float = field(default_factory=time.monotonic)


class RecordingConsole(ConsoleAdapter):
    """The console adapter, recording each call; `fail(channel, error, times)` makes the next
    calls to a channel raise, `latency[channel]` delays them."""

    def __init__(self, *args: Any, first_id: int = 1, calls: list[Call] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.bot_ids = itertools.count(first_id)
        self.calls: list[Call] = calls if calls is not None else []
        """What the platform accepted (pass another adapter's list: the same platform after a restart)."""
        self.failures: dict[str, list[DeliveryError]] = {}
        self.latency: dict[str, float] = {}

    def fail(self, channel: str, error: DeliveryError, times: int = 1) -> None:
        self.failures.setdefault(channel, []).extend([error] * times)

    async def _disturb(self, channel: str) -> None:
        if self.latency.get(channel):
            await asyncio.sleep(self.latency[channel])
        queued = self.failures.get(channel)
        if queued:
            raise queued.pop(0)

    async def post(self, channel: ChannelRef, message: Outgoing) -> str:
        await self._disturb(channel.channel)
        message_id = await super().post(channel, message)
        self.calls.append(Call("post", channel.channel, message_id, message))
        return message_id

    async def edit(self, channel: ChannelRef, message_id: str, message: Outgoing) -> None:
        await self._disturb(channel.channel)
        await super().edit(channel, message_id, message)
        self.calls.append(Call("edit", channel.channel, message_id, message))

    async def delete(self, channel: ChannelRef, message_id: str) -> None:
        await self._disturb(channel.channel)
        await super().delete(channel, message_id)
        self.calls.append(Call("delete", channel.channel, message_id, None))

    async def send_dm(self, person: PersonRef, message: Outgoing) -> str:
        message_id = await super().send_dm(person, message)
        self.calls.append(Call("dm", f"@{person.user}", message_id, message))
        return message_id

    async def find_posted(self, channel: ChannelRef, delivery_key: str) -> str | None:
        return next((c.message_id for c in self.calls if c.op == "post" and c.channel == channel.channel
                     and c.message is not None and c.message.delivery_key == delivery_key), None)

    def posts(self, channel: str | None = None) -> list[Call]:
        """Relayed copies posted (the bot's own answers left out)."""
        return [c for c in self.calls if c.op == "post" and c.message is not None and c.message.kind == "relay"
                and (channel is None or c.channel == channel)]

    def ops(self, op: str) -> list[Call]:
        return [c for c in self.calls if c.op == op]


class RelayHarness(ConsoleHarness):
    adapter: RecordingConsole


async def start_harness(database_url: str, *, first_id: int = 1, clock: ManualClock | None = None,
                        adapter_class: type[RecordingConsole] = RecordingConsole, calls: list[Call] | None = None,
                        **settings: Any) -> RelayHarness:
    """Like `ConsoleHarness.start`, on a recording console adapter (the demo network must be in
    the database already)."""
    clock = clock or ManualClock(START)
    bot = await create_bot(Settings(_env_file=None, database_url=database_url, **settings),
                           database_url=database_url, clock=clock, migrate=False)
    output = io.StringIO()
    adapter = adapter_class(output, first_id=first_id, calls=calls)
    async with bot.db.session() as session:
        people = await session.exec(select(Person).where(Person.platform == "console"))
        adapter.names.update({p.user_id: p.display_name for p in people})
    adapter.directive("clock", lambda argument: move_clock(bot, adapter, argument))
    bot.add_adapter(adapter)
    await bot.start(run_scheduler=False)
    harness = RelayHarness(bot, adapter, output, clock)
    return harness


@pytest.fixture
async def relay(sqlite_demo_url: str) -> AsyncIterator[RelayHarness]:
    """The demo network, translation off (no DeepL key)."""
    harness = await start_harness(sqlite_demo_url)
    try:
        yield harness
    finally:
        await harness.stop()
