"""Broadcasts on the console's demo network, every platform call recorded and faults injectable
per channel (the relay tests' recording console), with or without the fake DeepL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from storage.models import Broadcast, BroadcastTarget, OutboxItem
from tests.fakes.fake_deepl import FakeDeepL
from tests.relay.conftest import Call, RelayHarness, start_harness


@pytest.fixture
async def bc(demo_database_url: str) -> AsyncIterator[RelayHarness]:
    """Translation off, on SQLite and on PostgreSQL."""
    harness = await start_harness(demo_database_url)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def bc_lite(sqlite_demo_url: str) -> AsyncIterator[RelayHarness]:
    """Translation off, SQLite only (for what does not depend on the database)."""
    harness = await start_harness(sqlite_demo_url)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def bc_deepl(sqlite_demo_url: str, fake_deepl: FakeDeepL) -> AsyncIterator[RelayHarness]:
    harness = await start_harness(sqlite_demo_url, deepl_auth_key=fake_deepl.auth_key,
                                  deepl_server_url=fake_deepl.url)
    try:
        yield harness
    finally:
        await harness.stop()


def broadcast_posts(harness: RelayHarness, channel: str | None = None) -> list[Call]:
    """Copies of broadcasts posted in channels (answers to commands and DMs left out)."""
    return [c for c in harness.adapter.calls if c.op == "post" and c.message is not None
            and c.message.kind == "broadcast" and (channel is None or c.channel == channel)]


def dms(harness: RelayHarness, user: str | None = None) -> list[Call]:
    """Broadcasts received by direct message (answers to commands left out)."""
    return [c for c in harness.adapter.calls if c.op == "dm" and c.message is not None
            and c.message.kind == "broadcast" and (user is None or c.channel == f"@{user}")]


async def stored(harness: RelayHarness) -> tuple[list[Broadcast], list[BroadcastTarget], list[OutboxItem]]:
    async with harness.bot.db.session() as session:
        broadcasts = list(await session.exec(select(Broadcast)))
        targets = list(await session.exec(select(BroadcastTarget)))
        items = list(await session.exec(select(OutboxItem).where(OutboxItem.kind == "broadcast")))
    return broadcasts, targets, items
