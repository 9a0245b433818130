"""One group with channels on Slack, Discord and the console: a message on any of them reaches
the others, translated, under its author's name, and nobody's copy comes back as a new message.
The real slack-bolt and discord.py on their fakes, the real relay, DeepL on its fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import bot.platforms.slack as slack_platform
from bot.core import Bot
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_deepl import FakeDeepL
from tests.fakes.fake_discord import FakeDiscord
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import message_event
from tests.platforms.discord.harness import GUILD_B, IVO, RUMEURS, RUMOURS, DiscordHarness
from tests.platforms.slack.conftest import SECRET, TEAM_A, TOKEN_A, SlackHarness

SLACK_ES = "C0RUMORES"  # anti-rumours on Slack, in Spanish
WEBHOOK_EXECUTE = "POST /webhooks/{webhook_id}/{webhook_token}"


class Network:
    def __init__(self, discord: DiscordHarness, slack: SlackHarness) -> None:
        self.discord = discord
        self.slack = slack

    def slack_copies(self) -> list[dict[str, Any]]:
        return [m for m in self.slack.fake.messages(SLACK_ES) if m.get("subtype") == "bot_message"]

    def discord_copies(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.discord.fake.messages(channel) if m.get("webhook_id")]

    def console(self) -> str:
        return self.discord.console_output.getvalue()


@pytest.fixture
async def network(fake_discord: FakeDiscord, fake_slack: FakeSlack, fake_deepl: FakeDeepL,
                  sqlite_demo_url: str) -> AsyncIterator[Network]:
    slack: dict[str, Any] = {}

    def with_slack(bot: Bot) -> None:
        slack["adapter"] = slack_platform.SlackAdapter([TOKEN_A], signing_secret=SECRET, api_url=fake_slack.api_url,
                                                       listen=False)
        bot.add_adapter(slack["adapter"])

    fake_slack.add_user("U0PAB0001", "pablo", display_name="Pablo Ruiz", image_192="https://avatars.example/pablo.png")
    discord = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=with_slack, console=True,
                                         deepl_auth_key=fake_deepl.auth_key, deepl_server_url=fake_deepl.url)
    slack_harness = SlackHarness(discord.bot, slack["adapter"], fake_slack)
    await slack_harness.link(TEAM_A, SLACK_ES, "anti-rumours", "es", name="rumores")
    try:
        yield Network(discord, slack_harness)
    finally:
        await discord.stop()


async def test_slack_to_discord_and_the_console(network: Network) -> None:
    await network.slack.event(message_event(SLACK_ES, "¡Hola a todos! El café antirumores es el lunes.",
                                            user="U0PAB0001"), team_id=TEAM_A)
    [french] = network.discord_copies(RUMEURS)
    [english] = network.discord_copies(RUMOURS)
    executions = {r.body["content"]: r.body for r in network.discord.fake.recorded(WEBHOOK_EXECUTE)}
    sent = executions[french["content"]]
    assert sent["username"] == "Pablo Ruiz" and sent["avatar_url"] == "https://avatars.example/pablo.png"
    assert sent["allowed_mentions"] == {"parse": []}
    assert french["content"].startswith("[FR] ¡Hola a todos!") and english["content"].startswith("[EN-GB] ¡Hola")
    assert "[#rumeurs-fr] Pablo Ruiz: [FR] ¡Hola a todos!" in network.console()
    assert network.slack_copies() == []  # not back to where it came from


async def test_discord_to_slack_and_the_console(network: Network) -> None:
    await network.discord.say(RUMOURS, "Good morning! The survey closes on Friday @everyone", user=IVO)
    [copy] = network.slack_copies()
    assert copy["username"] == "Ivo Team"
    assert copy["icons"]["image_48"].startswith(f"https://cdn.discordapp.com/avatars/{IVO['id']}/")
    assert copy["text"].startswith("[ES] Good morning!") and "@everyone" not in copy["text"]
    assert "[#rumores-es] Ivo Team: [ES] Good morning!" in network.console()
    assert network.discord_copies(RUMOURS) == []


async def test_the_console_to_slack_and_discord(network: Network) -> None:
    await network.discord.console_says("@olena #chutky-uk Привіт усім! Зустрічаємося в понеділок.")
    assert network.slack_copies()[0]["username"] == "Olena Kovalenko"
    [french] = network.discord_copies(RUMEURS)
    assert french["author"]["username"] == "Olena Kovalenko" and french["content"].startswith("[FR] Привіт")


async def test_copies_coming_back_are_not_relayed_again(network: Network) -> None:
    await network.discord.say(RUMOURS, "One message, one copy per channel", user=IVO)
    [copy] = network.discord_copies(RUMEURS)
    before = (len(network.slack_copies()), len(network.discord.fake.recorded(WEBHOOK_EXECUTE)), network.console())
    echo = gw.message_create(RUMEURS, copy["content"], author=copy["author"], guild_id=GUILD_B,
                             webhook_id=copy["webhook_id"], message_id=copy["id"])
    await network.discord.inject("MESSAGE_CREATE", echo)
    [slack_copy] = network.slack_copies()
    await network.slack.event(message_event(SLACK_ES, slack_copy["text"], user=None, bot_id=slack_copy["bot_id"],
                                            subtype="bot_message", ts=slack_copy["ts"]), team_id=TEAM_A)
    after = (len(network.slack_copies()), len(network.discord.fake.recorded(WEBHOOK_EXECUTE)), network.console())
    assert after == before
