"""The shared fixtures in ``tests.fakes.fixtures`` work as documented."""

from __future__ import annotations

import asyncio

import deepl
import discord
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.fake_deepl import FakeDeepL
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.fixtures import (  # noqa: F401  (fixtures are found by name)
    deepl_translator,
    discord_client,
    fake_deepl,
    fake_discord,
    fake_slack,
    slack_client,
)


async def test_slack_fixtures(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:  # noqa: F811
    await slack_client.chat_postMessage(channel="C1", text="hi")
    assert fake_slack.messages("C1")[0]["text"] == "hi"


async def test_discord_fixtures(fake_discord: FakeDiscord, discord_client: discord.Client) -> None:  # noqa: F811
    assert discord_client.user is not None and str(discord_client.user.id) == fake_discord.application_id
    assert fake_discord.api_base == discord.http.Route.BASE


async def test_deepl_fixtures(fake_deepl: FakeDeepL, deepl_translator: deepl.Translator) -> None:  # noqa: F811
    result = await asyncio.to_thread(deepl_translator.translate_text, "hola", target_lang="FR")
    assert result.text == "[FR] hola" and fake_deepl.billed_characters == 4
