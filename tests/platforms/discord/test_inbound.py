"""Gateway events → core events: messages, edits, deletes, thread messages, raw reactions, and
the Translate context menu."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.events import (
    ChannelRef,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PersonRef,
    ReactionAdded,
    TranslateRequested,
)
from tests.fakes import discord_gateway as gw
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, GUILD, IVO, OTHER_BOT, RUMOURS, DiscordHarness

HERE = ChannelRef("discord", GUILD, RUMOURS)


class Seen:
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def record(self, event: Any) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


@pytest.fixture
async def heard(fake_discord: FakeDiscord, sqlite_demo_url: str) -> AsyncIterator[tuple[DiscordHarness, Seen]]:
    seen = Seen()

    def listen(bot: Any) -> None:
        for kind in (MessagePosted, MessageEdited, MessageDeleted, ReactionAdded):
            bot.on(kind, seen.record)

        bot.on(TranslateRequested, seen.record)

    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=listen)
    try:
        yield harness, seen
    finally:
        await harness.stop()


async def test_a_message_becomes_a_core_event_in_neutral_markup(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    pdf = gw.attachment("rapport.pdf")
    sent = await harness.say(RUMOURS, f"Hi <@{IVO['id']}>, *see* <#{RUMOURS}> :)", mentions=[IVO],
                             attachments=[pdf])
    [event] = seen.of(MessagePosted)
    assert event.channel == HERE and event.message_id == sent["id"] and event.event_id == sent["id"]
    assert event.text == "Hi @Ivo Team, _see_ #anti-rumours :)"  # files are attachments, not text
    assert event.author.person == PersonRef("discord", GUILD, ANA["id"])
    assert event.author.display_name == "Ana Souza" and event.author.avatar_url.endswith("/a1.png?size=1024")
    assert [(a.name, a.url) for a in event.attachments] == [("rapport.pdf", pdf["url"])]
    assert event.thread_id is None and not event.from_bot


async def test_webhooks_bots_and_the_bot_itself_are_marked(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    await harness.say(RUMOURS, "relayed", user=gw.webhook_author("4000000000000000001", "Olena (Slack)"),
                      webhook_id="4000000000000000001")
    await harness.say(RUMOURS, "beep", user=OTHER_BOT)
    await harness.say(RUMOURS, "mine", user=harness.fake.bot_user)
    assert [(event.text, event.from_bot) for event in seen.of(MessagePosted)] == [
        ("relayed", True), ("beep", True), ("mine", True)]


async def test_system_messages_and_dms_are_not_relayed(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    joined = gw.message_create(RUMOURS, "", author=ANA, guild_id=GUILD)
    joined["type"] = 7  # "Ana joined the server"
    await harness.inject("MESSAGE_CREATE", joined)
    await harness.inject("MESSAGE_CREATE", gw.message_create("2999999999999999990", "private", author=ANA))
    assert seen.events == []


async def test_a_thread_message_is_on_its_parent_channel_with_the_thread(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    root = await harness.say(RUMOURS, "Who is coming?")
    thread = gw.thread_channel(root["id"], "Who is coming?", RUMOURS, GUILD, owner_id=ANA["id"])
    await harness.inject("THREAD_CREATE", {**thread, "newly_created": True})
    await harness.say(root["id"], "Me!", user=IVO)
    reply = seen.of(MessagePosted)[-1]
    assert reply.channel == HERE and reply.thread_id == root["id"] and reply.text == "Me!"


async def test_a_message_in_an_uncached_thread_is_found_through_the_api(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    thread = gw.thread_channel("2000000000000000555", "old thread", RUMOURS, GUILD)
    harness.fake.channels[thread["id"]] = thread  # known to Discord, not to the bot's cache
    await harness.say(thread["id"], "Still here")
    [event] = seen.of(MessagePosted)
    assert event.channel == HERE and event.thread_id == thread["id"]


async def test_edits_but_not_link_previews(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    sent = await harness.say(RUMOURS, "Hola https://coe.int")
    preview = {**sent, "embeds": [{"type": "link", "url": "https://coe.int"}]}
    await harness.inject("MESSAGE_UPDATE", preview)  # Discord adding the preview: not an edit
    await harness.inject("MESSAGE_UPDATE", gw.message_update(sent, "Hola a todos https://coe.int"))
    [edit] = seen.of(MessageEdited)
    assert edit.channel == HERE and edit.message_id == sent["id"] and edit.text == "Hola a todos https://coe.int"
    assert edit.event_id and edit.event_id.startswith(sent["id"])


async def test_deletes_single_and_bulk(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    await harness.inject("MESSAGE_DELETE", gw.message_delete(RUMOURS, "2000000000000000901", GUILD))
    await harness.inject("MESSAGE_DELETE_BULK", {"ids": ["2000000000000000902", "2000000000000000903"],
                                                 "channel_id": RUMOURS, "guild_id": GUILD})
    assert [(e.channel, e.message_id) for e in seen.of(MessageDeleted)] == [
        (HERE, "2000000000000000901"), (HERE, "2000000000000000902"), (HERE, "2000000000000000903")]


async def test_flag_reactions_arrive_raw_even_on_uncached_messages(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    await harness.inject("MESSAGE_REACTION_ADD", gw.reaction_add(RUMOURS, "2000000000000000777", IVO, "🇫🇷",
                                                                 guild_id=GUILD))
    await harness.inject("MESSAGE_REACTION_ADD", gw.reaction_add(RUMOURS, "2000000000000000777", IVO, "👍",
                                                                 guild_id=GUILD))
    own = gw.reaction_add(RUMOURS, "2000000000000000777", harness.fake.bot_user, "🇫🇷", guild_id=GUILD)
    await harness.inject("MESSAGE_REACTION_ADD", own)
    assert [(e.message_id, e.person.user, e.emoji) for e in seen.of(ReactionAdded)] == [
        ("2000000000000000777", IVO["id"], "flag-fr"), ("2000000000000000777", IVO["id"], "👍")]


async def test_the_translate_menu_asks_the_core_in_the_askers_locale(heard: tuple[DiscordHarness, Seen]) -> None:
    harness, seen = heard
    target = gw.message(RUMOURS, "Hola <@3000000000000000002>", author=ANA, guild_id=GUILD, mentions=[IVO])
    menu = gw.message_command("Translate", target, guild_id=GUILD, channel_id=RUMOURS, user=IVO, locale="fr")
    await harness.inject("INTERACTION_CREATE", menu)
    [event] = seen.of(TranslateRequested)
    assert event.channel == HERE and event.message_id == target["id"] and event.text == "Hola @Ivo Team"
    assert event.author.locale == "fr" and event.platform_locale == "fr"
    answer = harness.answer(menu)
    assert answer["type"] == 4 and answer["data"]["flags"] == 64  # only the asker sees the answer


async def test_quick_events_of_a_channel_reach_the_core_in_order(fake_discord: FakeDiscord,
                                                                sqlite_demo_url: str) -> None:
    steps: list[str] = []

    def listen(bot: Any) -> None:
        async def slow_first(event: Any) -> None:
            text = getattr(event, "text", "deleted")
            steps.append(f"start {text}")
            if text == "one":
                await asyncio.sleep(0.05)  # the first takes a while to store
            steps.append(f"end {text}")

        for kind in (MessagePosted, MessageEdited, MessageDeleted):
            bot.on(kind, slow_first)

    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url, prepare=listen)
    try:
        client = harness.adapter.client
        first = gw.message_create(RUMOURS, "one", author=ANA, guild_id=GUILD)
        events = [("MESSAGE_CREATE", first),
                  ("MESSAGE_CREATE", gw.message_create(RUMOURS, "two", author=ANA, guild_id=GUILD)),
                  ("MESSAGE_UPDATE", gw.message_update(first, "one!")),
                  ("MESSAGE_DELETE", gw.message_delete(RUMOURS, first["id"], GUILD))]
        for name, payload in events:  # each read off the socket before the previous is handled
            await gw.inject(client, name, payload, wait=False)
            await asyncio.sleep(0)
        for _ in range(200):
            if len(steps) == 8:
                break
            await asyncio.sleep(0.01)
        assert steps == ["start one", "end one", "start two", "end two", "start one!", "end one!",
                         "start deleted", "end deleted"]
    finally:
        await harness.stop()
