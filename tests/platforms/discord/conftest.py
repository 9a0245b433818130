"""Fixtures for the Discord adapter tests: the fake Discord REST API, and a bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.fake_deepl import FakeDeepL
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import DiscordHarness


@pytest.fixture
async def discord_bot(fake_discord: FakeDiscord, sqlite_demo_url: str) -> AsyncIterator[DiscordHarness]:
    """The demo network with Discord channels linked, on SQLite (storage is not the subject)."""
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture
async def network(fake_discord: FakeDiscord, fake_deepl: FakeDeepL, sqlite_demo_url: str
                  ) -> AsyncIterator[DiscordHarness]:
    """The demo network with Discord channels and the console's, translating through the fake DeepL."""
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, console=True,
                                         deepl_auth_key=fake_deepl.auth_key, deepl_server_url=fake_deepl.url)
    try:
        yield harness
    finally:
        await harness.stop()
