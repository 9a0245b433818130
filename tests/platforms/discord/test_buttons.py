"""Buttons carry `action_id:value` in their custom id: a press reaches the core as ButtonPressed,
also on a message posted before the bot restarted, also in a DM."""

from __future__ import annotations

from typing import Any

from bot.context import Interaction
from bot.core import Bot
from bot.events import ButtonPressed, ChannelRef, PersonRef
from bot.i18n import _
from bot.outbound import Button
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, GUILD, RUMOURS, DiscordHarness

HERE = ChannelRef("discord", GUILD, RUMOURS)
REMINDER_BUTTONS = (Button(_("Done"), "test-deadline.done", "7", style="primary"),
                    Button(_("Snooze"), "test-deadline.snooze", "7:3d"))


def buttons_recorded(pressed: list[tuple[ButtonPressed, str]]) -> Any:
    def prepare(bot: Bot) -> None:
        async def on_press(ix: Interaction, event: ButtonPressed) -> None:
            pressed.append((event, ix.locale))
            if event.action_id.endswith("done"):
                await ix.reply(_("Done."))
            # Snooze answers nothing: the press is acknowledged silently.

        bot.on_button("test-deadline.", on_press)

    return prepare


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [component["custom_id"] for row in message["components"] for component in row["components"]]


async def test_a_button_keeps_working_after_a_restart(fake_discord: FakeDiscord, sqlite_demo_url: str) -> None:
    before: list[tuple[ButtonPressed, str]] = []
    first = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=buttons_recorded(before))
    [message_id] = await first.bot.post(HERE, "The annual survey is due on Friday.", "en", buttons=REMINDER_BUTTONS)
    await first.stop()  # the process ends; nothing of the view survives in memory

    reminder = fake_discord.message(RUMOURS, message_id)
    assert reminder is not None
    assert custom_ids(reminder) == ["test-deadline.done:7", "test-deadline.snooze:7:3d"]
    assert [c["label"] for row in reminder["components"] for c in row["components"]] == ["Done", "Snooze"]

    after: list[tuple[ButtonPressed, str]] = []
    second = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=buttons_recorded(after), seed=False)
    try:
        click = gw.button_click("test-deadline.done:7", reminder, guild_id=GUILD, channel_id=RUMOURS, user=ANA)
        await second.inject("INTERACTION_CREATE", click)
        [(event, locale)] = after
        assert locale == "en"
        assert (event.action_id, event.value, event.message_id) == ("test-deadline.done", "7", message_id)
        assert event.channel == HERE and event.author.person == PersonRef("discord", GUILD, ANA["id"])
        answer = second.answer(click)
        assert answer["type"] == 4 and answer["data"]["flags"] == 64
        assert answer["data"]["content"] == "Done."

        snooze = gw.button_click("test-deadline.snooze:7:3d", reminder, guild_id=GUILD, channel_id=RUMOURS, user=ANA)
        await second.inject("INTERACTION_CREATE", snooze)
        assert after[-1][0].value == "7:3d"
        assert second.answer(snooze)["type"] == 6  # acknowledged without a message
    finally:
        await second.stop()
    assert before == []


async def test_a_button_pressed_in_a_dm_acts_as_the_person_known_from_the_server(
        discord_bot: DiscordHarness) -> None:
    pressed: list[tuple[ButtonPressed, str]] = []
    buttons_recorded(pressed)(discord_bot.bot)
    message_id = await discord_bot.bot.send_dm(PersonRef("discord", GUILD, ANA["id"]), "Reminder", "en",
                                               buttons=REMINDER_BUTTONS)
    dm = next(cid for cid, channel in discord_bot.fake.channels.items() if channel.get("recipient_id") == ANA["id"])
    reminder = discord_bot.fake.message(dm, message_id)
    assert reminder is not None
    click = gw.button_click("test-deadline.done:7", reminder, guild_id=None, channel_id=dm, user=ANA, locale="fr")
    await discord_bot.inject("INTERACTION_CREATE", click)
    [(event, locale)] = pressed
    assert event.channel is None
    assert event.author.person == PersonRef("discord", GUILD, ANA["id"])  # same person as in the server
    assert locale == "fr"
    assert discord_bot.answer(click)["data"]["content"] == "C'est fait."
