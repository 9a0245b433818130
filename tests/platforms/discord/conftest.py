"""Fixtures for the Discord adapter tests: the fake Discord REST API, and a bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
