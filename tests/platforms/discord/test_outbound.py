"""Posting to Discord: relays through each channel's webhook under the author's name, never a
ping, the 2,000-character limit, rate limits, threads, edits, deletes, DMs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select

from bot import outbound
from bot.events import ChannelRef, PersonRef
from bot.outbound import DeliveryError, Outgoing, PostAs
from storage.models import DiscordWebhook
from tests.fakes.fake_discord import FakeDiscord
from tests.platforms.discord.harness import ANA, GUILD, IVO, RUMOURS, WELCOME, DiscordHarness

HERE = ChannelRef("discord", GUILD, RUMOURS)
LUCIA_AS = PostAs("Lucía García", "https://avatars.example.org/lucia.png")
WEBHOOK_EXECUTE = "POST /webhooks/{webhook_id}/{webhook_token}"
WEBHOOK_CREATE = "POST /channels/{channel_id}/webhooks"
WEBHOOK_LIST = "GET /channels/{channel_id}/webhooks"


def relay(text: str, **options: Any) -> Outgoing:
    return Outgoing(text, post_as=options.pop("post_as", LUCIA_AS), kind="relay", **options)


def executions(fake: FakeDiscord) -> list[Any]:
    return [r for r in fake.recorded(WEBHOOK_EXECUTE) if r.path.split("/")[4] != fake.application_id]


async def test_a_relay_goes_through_the_channels_webhook_as_its_author(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    message_id = await discord_bot.adapter.post(HERE, relay("Hola **a todos** @everyone <@3000000000000000002>",
                                                            footnote="Translated from Spanish",
                                                            original="Hola a todos"))
    [created] = fake.recorded(WEBHOOK_CREATE)
    assert created.body["name"] == "ICC bot"
    [sent] = executions(fake)
    assert sent.query.get("wait") in ("1", "true")
    assert sent.body["username"] == "Lucía García"
    assert sent.body["avatar_url"] == "https://avatars.example.org/lucia.png"
    assert sent.body["allowed_mentions"] == {"parse": []}
    assert sent.body["content"].startswith("Hola **a todos** @\u200deveryone")
    assert sent.body["content"].endswith("\n-# Translated from Spanish · ||Hola a todos||")
    [posted] = fake.messages(RUMOURS)
    assert posted["id"] == message_id and posted["author"]["username"] == "Lucía García"
    assert fake.pings[message_id] == {"everyone": False, "users": [], "roles": []}  # nobody notified


async def test_the_webhook_is_reused_and_remembered_across_a_restart(fake_discord: FakeDiscord,
                                                                     sqlite_demo_url: str) -> None:
    first = await DiscordHarness.start(fake_discord, sqlite_demo_url)
    await first.adapter.post(HERE, relay("one"))
    await first.adapter.post(HERE, relay("two"))
    await first.stop()
    second = await DiscordHarness.start(fake_discord, sqlite_demo_url, seed=False)
    try:
        await second.adapter.post(HERE, relay("three"))
    finally:
        await second.stop()
    assert len(fake_discord.recorded(WEBHOOK_CREATE)) == 1
    assert len(fake_discord.recorded(WEBHOOK_LIST)) == 1  # looked for an existing one, once, ever
    hooks = {record.path.split("/")[4] for record in executions(fake_discord)}
    assert len(hooks) == 1 and [m["content"] for m in fake_discord.messages(RUMOURS)] == ["one", "two", "three"]


async def test_an_existing_webhook_of_the_bot_is_adopted(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    await discord_bot.adapter.post(ChannelRef("discord", GUILD, WELCOME), relay("first"))
    async with discord_bot.bot.db.session() as session:
        for row in await session.exec(select(DiscordWebhook)):
            await session.delete(row)  # as if the database were new
    discord_bot.adapter.webhooks._cache.clear()
    await discord_bot.adapter.post(ChannelRef("discord", GUILD, WELCOME), relay("second"))
    assert len(fake.recorded(WEBHOOK_CREATE)) == 1 and len(fake.recorded(WEBHOOK_LIST)) == 2


async def test_a_deleted_webhook_is_recreated(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    await discord_bot.adapter.post(HERE, relay("before"))
    fake.webhooks.clear()  # someone deleted it in the channel settings
    await discord_bot.adapter.post(HERE, relay("after"))
    assert len(fake.recorded(WEBHOOK_CREATE)) == 2
    assert [m["content"] for m in fake.messages(RUMOURS)] == ["before", "after"]
    async with discord_bot.bot.db.session() as session:
        [row] = list(await session.exec(select(DiscordWebhook)))
    assert row.webhook_id in fake.webhooks


async def test_author_names_discord_refuses_are_adjusted(discord_bot: DiscordHarness) -> None:
    await discord_bot.adapter.post(HERE, relay("hi", post_as=PostAs("Clyde Barrow of the Discord " + "x" * 90)))
    [sent] = executions(discord_bot.fake)
    username = sent.body["username"]
    assert "clyde" not in username.lower() and "discord" not in username.lower() and len(username) == 80


async def test_a_long_translation_becomes_two_messages_after_translation(discord_bot: DiscordHarness) -> None:
    sentence = "Les villes interculturelles accueillent chaque nouvel arrivant comme un voisin. "
    text = (sentence * 32)[:2500]
    ids = await discord_bot.bot.post(HERE, text, "fr", post_as=LUCIA_AS, footnote="Traduit de l'anglais",
                                     original="Intercultural cities welcome every newcomer as a neighbour.")
    posted = discord_bot.fake.messages(RUMOURS)
    assert len(ids) == 2 and [m["id"] for m in posted] == ids
    assert all(len(m["content"]) <= 2000 for m in posted)
    assert "Traduit" not in posted[0]["content"] and "-# Traduit de l'anglais" in posted[1]["content"]
    body = posted[0]["content"] + posted[1]["content"].split("\n-# ")[0]
    assert body == text  # split, never truncated
    assert all(r.body["allowed_mentions"] == {"parse": []} for r in executions(discord_bot.fake))


async def test_a_long_original_goes_into_a_spoiler_embed(discord_bot: DiscordHarness) -> None:
    original = "Première ligne.\n" + "Un texte original assez long. " * 40
    await discord_bot.adapter.post(HERE, relay("Short translation.", footnote="Translated from French",
                                               original=original))
    [sent] = executions(discord_bot.fake)
    assert sent.body["content"] == "Short translation.\n-# Translated from French"
    [embed] = sent.body["embeds"]
    assert embed["description"] == f"||{original}||"


async def test_a_429_is_waited_out_then_the_post_succeeds(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    await discord_bot.adapter.post(HERE, relay("warm-up"))  # the webhook exists
    fake.fail_next("POST /webhooks/*", 429, retry_after=0.3)
    started = time.monotonic()
    await discord_bot.adapter.post(HERE, relay("after the limit"))
    waited = time.monotonic() - started
    tries = executions(fake)[1:]
    assert [r.status for r in tries] == [429, 200]
    assert tries[1].time - tries[0].time >= 0.29 and waited >= 0.29
    assert [m["content"] for m in fake.messages(RUMOURS)] == ["warm-up", "after the limit"]


async def test_a_429_on_a_bot_post_is_honoured_too(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    fake.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=0.2)
    await discord_bot.adapter.post(HERE, Outgoing("Reminder: the annual survey is due."))
    tries = fake.recorded("POST /channels/{channel_id}/messages")
    assert [r.status for r in tries] == [429, 200] and tries[1].time - tries[0].time >= 0.19


async def test_a_long_rate_limit_is_handed_back_to_the_core(discord_bot: DiscordHarness) -> None:
    discord_bot.fake.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=120.0)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as raised:
        await discord_bot.adapter.post(HERE, Outgoing("Later, please."))
    assert raised.value.retry_after == pytest.approx(120.0) and not raised.value.permanent
    assert time.monotonic() - started < 5  # not slept through


async def test_when_discord_py_gives_up_on_429s_the_core_learns_when_to_retry(discord_bot: DiscordHarness) -> None:
    await discord_bot.adapter.post(HERE, relay("warm-up"))
    discord_bot.fake.fail_next("POST /webhooks/*", 429, retry_after=0.01, times=5)
    with pytest.raises(DeliveryError) as raised:
        await discord_bot.adapter.post(HERE, relay("blocked"))
    assert raised.value.retry_after is not None and not raised.value.permanent


async def test_a_deleted_channel_is_a_permanent_failure(discord_bot: DiscordHarness) -> None:
    discord_bot.fake.remove_channel(RUMOURS)
    with pytest.raises(DeliveryError) as raised:
        await discord_bot.adapter.post(HERE, Outgoing("Anyone there?"))
    assert raised.value.permanent and "10003" in raised.value.reason
    assert "test-token" not in raised.value.reason


async def test_a_server_error_is_worth_retrying(discord_bot: DiscordHarness) -> None:
    discord_bot.fake.fail_next("POST /channels/{channel_id}/messages", 503)
    with pytest.raises(DeliveryError) as raised:
        await discord_bot.adapter.post(HERE, Outgoing("Anyone there?"))
    assert not raised.value.permanent and raised.value.retry_after is None


async def test_without_manage_webhooks_the_bot_posts_naming_the_author(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    fake.fail_next(WEBHOOK_CREATE, 403, json={"message": "Missing Permissions", "code": 50013})
    await discord_bot.adapter.post(HERE, relay("Hola"))
    await discord_bot.adapter.post(HERE, relay("Otra vez"))
    assert [m["content"] for m in fake.messages(RUMOURS)] == ["**Lucía García**: Hola", "**Lucía García**: Otra vez"]
    assert len(fake.recorded(WEBHOOK_CREATE)) == 1  # not asked again for every message
    assert all(r.body["allowed_mentions"] == {"parse": []}
               for r in fake.recorded("POST /channels/{channel_id}/messages"))


async def test_replies_go_into_a_thread_started_from_the_message(fake_discord: FakeDiscord,
                                                                 sqlite_demo_url: str) -> None:
    harness = await DiscordHarness.start(fake_discord, sqlite_demo_url)
    root = await harness.adapter.post(HERE, relay("¿Quién organiza el café?"))
    reply = await harness.adapter.post(HERE, relay("Yo", thread_id=root))
    again = await harness.adapter.post(HERE, relay("Y yo", thread_id=root))
    [started] = fake_discord.recorded("POST /channels/{channel_id}/messages/{message_id}/threads")
    assert started.body["name"] == "¿Quién organiza el café?"
    assert [r.query.get("thread_id") for r in executions(fake_discord)] == [None, root, root]
    assert [m["id"] for m in fake_discord.messages(root)] == [reply, again]
    await harness.adapter.edit(HERE, reply, relay("Yo, el lunes", thread_id=root))
    assert fake_discord.message(root, reply)["content"] == "Yo, el lunes"  # type: ignore[index]
    await harness.stop()

    restarted = await DiscordHarness.start(fake_discord, sqlite_demo_url, seed=False)
    try:
        await restarted.adapter.delete(HERE, again)  # knows it is in the thread, from the database
        assert [m["id"] for m in fake_discord.messages(root)] == [reply]
        deletion = fake_discord.recorded("DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
        assert deletion[-1].query.get("thread_id") == root
    finally:
        await restarted.stop()


async def test_a_reply_to_a_message_in_a_thread_stays_in_that_thread(discord_bot: DiscordHarness) -> None:
    thread = await discord_bot.adapter.post(HERE, Outgoing("Root"))
    inside = await discord_bot.adapter.post(HERE, Outgoing("Inside", thread_id=thread))
    answer = await discord_bot.adapter.post(HERE, Outgoing("🇫🇷 Dedans", thread_id=inside))
    assert [m["id"] for m in discord_bot.fake.messages(thread)] == [inside, answer]
    reference = discord_bot.fake.message(thread, answer)["message_reference"]  # type: ignore[index]
    assert str(reference["message_id"]) == inside


async def test_relays_are_edited_and_deleted_through_the_webhook(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    message_id = await discord_bot.adapter.post(HERE, relay("Hola", footnote="Translated from Spanish"))
    await discord_bot.adapter.edit(HERE, message_id, relay("Hola a todos", footnote="Translated from Spanish"))
    [edited] = fake.recorded("PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
    assert edited.body["allowed_mentions"] == {"parse": []}
    assert fake.message(RUMOURS, message_id)["content"] == "Hola a todos\n-# Translated from Spanish"  # type: ignore
    await discord_bot.adapter.delete(HERE, message_id)
    assert fake.messages(RUMOURS) == []
    await discord_bot.adapter.delete(HERE, message_id)  # already gone: not an error


async def test_bot_posts_are_edited_and_deleted_by_the_bot(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    message_id = await discord_bot.adapter.post(HERE, Outgoing("Broadcast: welcome!"))
    await discord_bot.adapter.edit(HERE, message_id, Outgoing("Broadcast: welcome, all!"))
    assert fake.message(RUMOURS, message_id)["content"] == "Broadcast: welcome, all!"  # type: ignore[index]
    await discord_bot.adapter.delete(HERE, message_id)
    assert fake.messages(RUMOURS) == []


async def test_direct_messages_and_the_ephemeral_substitute(discord_bot: DiscordHarness) -> None:
    fake = discord_bot.fake
    person = PersonRef("discord", GUILD, ANA["id"])
    await discord_bot.adapter.send_dm(person, Outgoing("Your city's report is due on Friday."))
    await discord_bot.adapter.post_ephemeral(HERE, person, "Only you can see this.")
    [opened] = fake.recorded("POST /users/@me/channels")  # the DM channel is opened once
    assert str(opened.body["recipient_id"]) == ANA["id"]
    dm = next(cid for cid, channel in fake.channels.items() if channel.get("recipient_id") == ANA["id"])
    assert [m["content"] for m in fake.messages(dm)] == [
        "Your city's report is due on Friday.", f"Only you can see this.\n-# <#{RUMOURS}>"]


async def test_closed_direct_messages_are_a_permanent_failure(discord_bot: DiscordHarness) -> None:
    discord_bot.fake.fail_next("POST /channels/{channel_id}/messages", 403,
                               json={"message": "Cannot send messages to this user", "code": 50007})
    with pytest.raises(DeliveryError) as raised:
        await discord_bot.adapter.send_dm(PersonRef("discord", GUILD, IVO["id"]), Outgoing("Hello"))
    assert raised.value.permanent


async def test_the_text_of_an_old_message_can_be_read(discord_bot: DiscordHarness) -> None:
    seeded = discord_bot.fake.seed_message(RUMOURS, f"Bonjour <@{IVO['id']}> *à tous*", ANA)
    seeded["mentions"] = [IVO]
    text = await discord_bot.adapter.fetch_message_text(HERE, seeded["id"])
    assert text == "Bonjour @Ivo Team _à tous_"
    assert await discord_bot.adapter.fetch_message_text(HERE, "2999999999999999999") is None


def test_labels_and_mentions(discord_bot: DiscordHarness) -> None:
    assert discord_bot.adapter.channel_label(HERE) == f"<#{RUMOURS}>"
    assert discord_bot.adapter.parse_mention(f"<@!{ANA['id']}>") == ANA["id"]
    assert discord_bot.adapter.max_message_chars == 2000


async def test_a_retried_bot_post_is_not_doubled(discord_bot: DiscordHarness) -> None:
    message = Outgoing("Reminder: the annual survey closes on Friday.", delivery_key="d42-1")
    first = await discord_bot.adapter.post(HERE, message)
    again = await discord_bot.adapter.post(HERE, message)  # the outbox retrying after a lost answer
    assert first == again and len(discord_bot.fake.messages(RUMOURS)) == 1
    sent = discord_bot.fake.recorded("POST /channels/{channel_id}/messages")[-1]
    assert sent.body["nonce"] == "d42-1" and sent.body["enforce_nonce"] is True


async def test_files_are_uploaded_with_the_message(discord_bot: DiscordHarness) -> None:
    export = outbound.OutgoingFile("practices.csv", "id,title\n1,Café anti-rumeurs\n".encode(), "text/csv")
    await discord_bot.adapter.send_dm(PersonRef("discord", GUILD, ANA["id"]),
                                      Outgoing("Your export", files=(export,)))
    sent = discord_bot.fake.recorded("POST /channels/{channel_id}/messages")[-1]
    [uploaded] = [part for part in sent.body["_files"].values() if isinstance(part, dict) and "filename" in part]
    assert uploaded["filename"] == "practices.csv" and uploaded["data"] == export.content
    assert discord_bot.adapter.supports_files
