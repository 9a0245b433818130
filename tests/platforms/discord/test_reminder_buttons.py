"""The buttons under a reminder, end to end on the real discord.py: the ICC team sets a deadline,
the clock moves, the reminder job posts into the city's Discord channel, and the coordinator
presses Done or Snooze — through discord.py's own parser, also after the bot restarted."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from storage.queries import registry
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, CLYDE, GUILD, IVO, LOBBY, DiscordHarness

LYON = LOBBY  # Ana makes the unlinked lobby Lyon's own channel


def at(instant: str) -> datetime:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(UTC)


async def move_clock(discord: DiscordHarness, instant: str) -> None:
    await discord.bot.scheduler.advance_to(at(instant), discord.clock, settle=discord.bot.wait_idle)


async def prepare(discord: DiscordHarness, plan: str = "-1,0,3") -> int:
    """Lyon's channel on Discord, and a deadline for Lyon set by the ICC team."""
    made = await discord.command(["city", "set"], [gw.option("channel", "here")], channel=LYON)
    assert "Lyon" in discord.said(made)
    created = await discord.command(["deadline", "add"], [
        gw.option("title", "Annual survey"), gw.option("due", "2027-01-13"),
        gw.option("audience", "cities:Lyon"), gw.option("plan", plan)], user=IVO)
    assert "Deadline #1 created" in discord.said(created)
    return 1


def reminders_in(fake: FakeDiscord, channel: str) -> list[dict[str, Any]]:
    """The reminders in the channel as they were posted (copies: the fake edits in place)."""
    return [copy.deepcopy(m) for m in fake.messages(channel) if "Annual survey" in (m.get("content") or "")]


def button(message: dict[str, Any], custom_id_prefix: str) -> dict[str, Any]:
    return next(component for row in message.get("components") or [] for component in row["components"]
                if component["custom_id"].startswith(custom_id_prefix))


async def press(discord: DiscordHarness, message: dict[str, Any], component: dict[str, Any],
                user: dict[str, Any] = ANA, locale: str = "fr") -> str:
    """The press as Discord sends it (a component interaction), parsed by discord.py; the answer."""
    click = gw.button_click(component["custom_id"], message, guild_id=GUILD, channel_id=LYON, user=user,
                            locale=locale)
    await discord.inject("INTERACTION_CREATE", click)
    return discord.said(click)


async def status_of(discord: DiscordHarness, deadline_id: int) -> str:
    asked = await discord.command(["deadline", "status"], [gw.option("id", deadline_id)], user=IVO)
    return discord.said(asked)


async def lyon_id(discord: DiscordHarness) -> int:
    async with discord.bot.db.session() as session:
        city = await registry.find_city(session, "Lyon")
    assert city is not None and city.id is not None
    return city.id


async def test_done_after_a_restart_marks_the_city_done_and_clears_the_buttons(fake_discord: FakeDiscord,
                                                                              sqlite_demo_url: str) -> None:
    first = await DiscordHarness.start(fake_discord, sqlite_demo_url)
    try:
        deadline_id = await prepare(first)
        await move_clock(first, "2027-01-12T08:29Z")
        assert reminders_in(fake_discord, LYON) == []
        await move_clock(first, "2027-01-12T08:31Z")   # 09:31 in Lyon, the day before it is due
    finally:
        await first.stop()   # the bot restarts: nothing of the buttons survives in memory
    [reminder] = reminders_in(fake_discord, LYON)
    assert "demain" in reminder["content"]  # Lyon's channel speaks French
    done = button(reminder, "deadline.done:")
    assert done["custom_id"] == f"deadline.done:{deadline_id}:{await lyon_id(first)}" and done["label"] == "Fait"

    second = await DiscordHarness.start(fake_discord, sqlite_demo_url, seed=False, start=at("2027-01-12T09:00Z"))
    try:
        assert "Answered: 0 of 1. Not yet: 1." in await status_of(second, deadline_id)
        answer = await press(second, reminder, done)
        assert answer == "✅ Lyon a répondu à **Annual survey**. Plus aucun rappel pour cette échéance."
        # The reminder was edited: no buttons left (`components: []` sent), it says who answered.
        edits = [r.body for r in fake_discord.recorded(f"PATCH /channels/{LYON}/messages/{reminder['id']}")]
        assert edits and edits[-1]["components"] == []
        closed = fake_discord.message(LYON, reminder["id"])
        assert closed is not None and closed["components"] == []
        assert closed["content"] == reminder["content"] + "\n✅ Fait : indiqué par Ana Souza."
        status = await status_of(second, deadline_id)
        assert "Answered: 1 of 1." in status and "✅ Answered: Lyon (Ana Souza, 12 Jan)" in status
        await move_clock(second, "2027-01-19T12:00Z")   # the due day and three days after: nothing
        assert [m["id"] for m in reminders_in(fake_discord, LYON)] == [reminder["id"]]
    finally:
        await second.stop()


async def test_snooze_one_day_holds_the_next_reminder_until_then(discord_bot: DiscordHarness) -> None:
    deadline_id = await prepare(discord_bot, plan="-2,-1,0")
    await move_clock(discord_bot, "2027-01-11T08:31Z")
    [reminder] = reminders_in(discord_bot.fake, LYON)
    await move_clock(discord_bot, "2027-01-12T06:00Z")   # early on Tuesday, before that day's reminder
    answer = await press(discord_bot, reminder, button(reminder, "deadline.snooze.1d:"))
    assert answer == ("💤 Reporté : le prochain rappel de **Annual survey** pour Lyon arrivera le "
                      "mercredi 13 janvier 2027, 09:30 (Europe/Paris).")
    still = discord_bot.fake.message(LYON, reminder["id"])
    assert still is not None and still["components"] == reminder["components"]  # Lyon still has to answer
    await move_clock(discord_bot, "2027-01-13T08:29Z")
    assert len(reminders_in(discord_bot.fake, LYON)) == 1
    await move_clock(discord_bot, "2027-01-13T08:31Z")
    [_monday, wednesday] = reminders_in(discord_bot.fake, LYON)
    assert "aujourd'hui" in wednesday["content"]
    assert "Answered: 0 of 1. Not yet: 1." in await status_of(discord_bot, deadline_id)


async def test_someone_else_is_refused_in_their_language_and_nothing_changes(discord_bot: DiscordHarness) -> None:
    deadline_id = await prepare(discord_bot)
    await move_clock(discord_bot, "2027-01-12T08:31Z")
    [reminder] = reminders_in(discord_bot.fake, LYON)
    done = button(reminder, "deadline.done:")
    in_english = await press(discord_bot, reminder, done, user=CLYDE, locale="en-GB")
    assert in_english.startswith("Only a coordinator of Lyon or the ICC team can answer this reminder.")
    in_french = await press(discord_bot, reminder, button(reminder, "deadline.snooze.1w:"), user=CLYDE, locale="fr")
    assert in_french.startswith("Seul")
    assert discord_bot.fake.recorded(f"PATCH /channels/{LYON}/messages/{reminder['id']}") == []
    assert "Answered: 0 of 1. Not yet: 1." in await status_of(discord_bot, deadline_id)
    await move_clock(discord_bot, "2027-01-13T08:31Z")   # Lyon is still reminded on the due day
    assert len(reminders_in(discord_bot.fake, LYON)) == 2
