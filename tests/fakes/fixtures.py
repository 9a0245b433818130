"""Ready-made pytest fixtures for the fakes.

Enable them for the whole suite with one line in the root ``tests/conftest.py``::

    pytest_plugins = ["tests.fakes.fixtures"]

Each fake is started per test on a fresh port and stopped afterwards; the clients point at
it. Tokens: Slack ``xoxb-test`` (team T0ICC0001, bot user U0BOT0001), Discord ``test-token``
(application/bot id ``discord_gateway.APP_ID``), DeepL ``test-key:fx``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import deepl
import discord
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.fake_deepl import FakeDeepL, fast_deepl_client
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_slack import FakeSlack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack("xoxb-test") as fake:
        yield fake


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake_slack.api_url)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """The fake, with discord.py's ``Route.BASE`` pointed at it for the test."""
    async with FakeDiscord("test-token") as fake:
        with fake.routed():
            yield fake


@pytest.fixture
async def discord_client(fake_discord: FakeDiscord) -> AsyncIterator[discord.Client]:
    """A logged-in ``discord.Client`` (no gateway); feed it events with ``discord_gateway.inject``."""
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    await client.login(fake_discord.token)
    yield client
    await client.close()


@pytest.fixture
async def fake_deepl(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDeepL]:
    """The fake, with the deepl client set to fail fast (no retries, 2 s timeout: a loaded test machine
    must not turn a healthy answer into a timeout; tests of hangs set 0.5 s themselves)."""
    fast_deepl_client(monkeypatch, retries=0, timeout=2.0)
    async with FakeDeepL("test-key:fx") as fake:
        yield fake


@pytest.fixture
def deepl_translator(fake_deepl: FakeDeepL) -> deepl.Translator:
    """A real ``deepl.Translator`` on the fake; it blocks, so call it via ``asyncio.to_thread``."""
    return deepl.Translator("test-key:fx", server_url=fake_deepl.url)
