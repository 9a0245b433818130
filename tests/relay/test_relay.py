"""Group relay end to end on the console: who gets a message, in which language, under whose
name, in which thread; edits, deletes, restarts, repeats, loops, mentions and long texts."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.clock import ManualClock
from bot.events import Author, ChannelRef, MessageEdited, MessagePosted, PersonRef
from bot.i18n import render
from bot.outbound import DeliveryError
from bot.relay.safety import ZWJ
from bot.translation import NotTranslated
from bot.translation.notes import note_message
from storage.models import Channel, OutboxItem, RelayCopy, RelayMessage
from tests.fakes.fake_deepl import FakeDeepL
from tests.harness import START
from tests.relay.conftest import RelayHarness, start_harness

GROUP = {"rumours-en", "rumeurs-fr", "rumores-es", "chutky-uk", "dicerie-it"}
FR = ChannelRef("console", "local", "rumeurs-fr")
MARIE = Author(PersonRef("console", "local", "marie"), "Marie Dubois", "https://example.org/marie.png")


def copies_by_channel(harness: RelayHarness) -> dict[str, str]:
    return {call.channel: call.message_id for call in harness.adapter.posts()}


@pytest.fixture
async def deepl_relay(sqlite_demo_url: str, fake_deepl: FakeDeepL) -> AsyncIterator[RelayHarness]:
    harness = await start_harness(sqlite_demo_url, deepl_auth_key="test-key:fx", deepl_server_url=fake_deepl.url)
    try:
        yield harness
    finally:
        await harness.stop()


# ---- who receives what --------------------------------------------------------------------------


async def test_a_message_reaches_every_other_channel_of_its_group_and_no_other(relay: RelayHarness) -> None:
    entries = await relay.say("@marie #rumeurs-fr Bonjour à tous")
    assert sorted(call.channel for call in relay.adapter.posts()) == sorted(GROUP - {"rumeurs-fr"})
    assert all(call.message and call.message.text == "Bonjour à tous" for call in relay.adapter.posts())
    shown = sorted(entry.split("\n")[0] for entry in entries)
    assert shown == sorted(f"[#{channel}] Marie Dubois: Bonjour à tous" for channel in GROUP - {"rumeurs-fr"})


async def test_a_message_from_an_unlinked_channel_goes_nowhere(relay: RelayHarness) -> None:
    assert await relay.say("@marie #lyon Bonjour Lyon", "@tom #lobby Hello there") == []
    assert relay.adapter.calls == []
    async with relay.bot.db.session() as session:
        assert (await session.exec(select(RelayMessage))).all() == []


async def test_copies_carry_the_authors_name_and_picture(relay: RelayHarness) -> None:
    await relay.bot.handle(MessagePosted(FR, "x1", MARIE, "Bonjour", event_id="x1"))
    await relay.bot.wait_idle()
    posts = relay.adapter.posts()
    assert len(posts) == 4
    for call in posts:
        assert call.message is not None and call.message.post_as is not None
        assert (call.message.post_as.name, call.message.post_as.avatar_url) == ("Marie Dubois",
                                                                                 "https://example.org/marie.png")
        assert call.message.kind == "relay"


# ---- translation ----------------------------------------------------------------------------------


async def test_without_a_key_the_original_goes_out_with_a_note_in_each_channels_language(
        relay: RelayHarness) -> None:
    await relay.say("@olena #chutky-uk Привіт усім, у нас нова кампанія")
    english = relay.adapter.posts("rumours-en")[0].message
    french = relay.adapter.posts("rumeurs-fr")[0].message
    assert english is not None and french is not None
    assert english.text == french.text == "Привіт усім, у нас нова кампанія"
    assert english.original is None  # the copy is the original
    off = note_message(NotTranslated.OFF, "en")
    assert off is not None
    assert english.footnote == f"From a channel in Ukrainian. {render(off, 'en')}"
    assert french.footnote == f"Depuis un canal en ukrainien. {render(off, 'fr')}"


async def test_one_translation_request_per_language_however_many_channels_speak_it(
        deepl_relay: RelayHarness, fake_deepl: FakeDeepL) -> None:
    await deepl_relay.say("@alice #rumours-en2 /icc group link anti-rumours lang=en",
                          "@alice #rumores-es2 /icc group link anti-rumours lang=es")
    fake_deepl.clear_requests()
    text = "Bonjour à tous, nous avons une nouvelle campagne avec les écoles de la ville"
    await deepl_relay.say(f"@marie #rumeurs-fr {text}")
    assert sorted(call.target_lang for call in fake_deepl.translate_calls) == ["EN-GB", "ES", "IT", "UK"]
    copies = {call.channel: call.message for call in deepl_relay.adapter.posts()}
    assert set(copies) == {"rumours-en", "rumours-en2", "rumores-es", "rumores-es2", "chutky-uk", "dicerie-it"}
    for channel, prefix in (("rumours-en", "EN-GB"), ("rumours-en2", "EN-GB"), ("rumores-es2", "ES"),
                            ("chutky-uk", "UK")):
        copy = copies[channel]
        assert copy is not None
        assert copy.text == f"[{prefix}] {text}"
        assert copy.original == text
    english = copies["rumours-en"]
    assert english is not None and english.footnote == "Translated from French"


async def test_a_channel_in_the_messages_own_language_gets_it_as_is_without_a_request(
        deepl_relay: RelayHarness, fake_deepl: FakeDeepL) -> None:
    await deepl_relay.say("@alice #rumours-en2 /icc group link anti-rumours lang=en")
    fake_deepl.clear_requests()
    text = "Good morning everyone, we are starting a new campaign with the schools of our city next week"
    await deepl_relay.say(f"@tom #rumours-en {text}")
    assert "EN-GB" not in {call.target_lang for call in fake_deepl.translate_calls}
    assert len(fake_deepl.translate_calls) == 4
    same = deepl_relay.adapter.posts("rumours-en2")[0].message
    assert same is not None and (same.text, same.footnote, same.original) == (text, None, None)


async def test_deepl_down_relays_the_original_with_the_note(deepl_relay: RelayHarness,
                                                            fake_deepl: FakeDeepL) -> None:
    fake_deepl.fail_next(503, times=50, path="/v2/translate")
    await deepl_relay.say("@marie #rumeurs-fr Bonjour à tous, nous avons une nouvelle campagne avec les écoles")
    copies = deepl_relay.adapter.posts()
    assert len(copies) == 4
    unavailable = note_message(NotTranslated.UNAVAILABLE, "en")
    assert unavailable is not None
    english = deepl_relay.adapter.posts("rumours-en")[0].message
    assert english is not None and english.text.startswith("Bonjour à tous")
    assert english.footnote is not None and english.footnote.endswith(render(unavailable, "en"))
    assert "French" in english.footnote


# ---- threads, edits, deletes ------------------------------------------------------------------------


async def test_thread_replies_land_in_each_channels_copy_of_the_thread(relay: RelayHarness) -> None:
    await relay.say("@marie #rumeurs-fr Bonjour à tous")
    roots = copies_by_channel(relay)
    roots["rumeurs-fr"] = "m1"
    relay.adapter.calls.clear()
    await relay.say("@olena #chutky-uk !reply ^ Дякую!")
    replies = relay.adapter.posts()
    assert sorted(call.channel for call in replies) == sorted(GROUP - {"chutky-uk"})
    for call in replies:
        assert call.message is not None and call.message.thread_id == roots[call.channel]
    relay.adapter.calls.clear()
    # A reply to the reply's copy still belongs to the first message's thread.
    entries = await relay.say("@tom #rumours-en !reply ^ Thanks!")
    for call in relay.adapter.posts():
        assert call.message is not None and call.message.thread_id == roots[call.channel]
    assert any(entry.startswith("[#rumeurs-fr ↳ m1] Tom Evans: Thanks!") for entry in entries)


async def test_an_edit_updates_every_copy_and_a_delete_removes_every_copy(relay: RelayHarness) -> None:
    await relay.say("@marie #rumeurs-fr Bonjour à tous")
    copies = copies_by_channel(relay)
    await relay.say("@marie #rumeurs-fr !edit m1 Bonjour à toutes et à tous")
    edits = relay.adapter.ops("edit")
    assert {(call.channel, call.message_id) for call in edits} == set(copies.items())
    assert all(call.message and call.message.text == "Bonjour à toutes et à tous" for call in edits)
    await relay.say("@marie #rumeurs-fr !delete m1")
    assert {(call.channel, call.message_id) for call in relay.adapter.ops("delete")} == set(copies.items())
    assert len(relay.adapter.posts()) == 4


async def test_an_edit_that_changes_the_number_of_parts_posts_or_deletes_the_difference(
        relay: RelayHarness) -> None:
    long_text = " ".join(f"Phrase numéro {n} de ce long message." for n in range(400))  # ~12,800 chars
    await relay.bot.handle(MessagePosted(FR, "long", MARIE, long_text, event_id="long"))
    await relay.bot.wait_idle()
    first = relay.adapter.posts("rumours-en")
    assert len(first) == 4
    await relay.bot.handle(MessageEdited(FR, "long", "Court, finalement.", MARIE))
    await relay.bot.wait_idle()
    english = [call for call in relay.adapter.calls if call.channel == "rumours-en"]
    assert [call.op for call in english[4:]] == ["edit", "delete", "delete", "delete"]
    assert english[4].message_id == first[0].message_id and english[4].message is not None
    assert english[4].message.text == "Court, finalement."
    assert english[4].message.footnote is not None  # the only part is now the last one
    await relay.bot.handle(MessageEdited(FR, "long", long_text, MARIE))
    await relay.bot.wait_idle()
    again = [call for call in relay.adapter.calls if call.channel == "rumours-en"][8:]
    assert [call.op for call in again] == ["edit", "post", "post", "post"]
    assert "".join(call.message.text for call in again if call.message) == long_text
    assert all(call.message and call.message.thread_id is None for call in again)


async def test_an_edit_or_delete_before_the_copy_is_posted_still_ends_right(relay: RelayHarness) -> None:
    relay.adapter.fail("chutky-uk", DeliveryError("rate limited", retry_after=30))
    relay.adapter.fail("dicerie-it", DeliveryError("rate limited", retry_after=30))
    await relay.say("@marie #rumeurs-fr Bonjour", "@marie #rumeurs-fr !edit m1 Bonjour, version deux")
    assert relay.adapter.posts("chutky-uk") == []
    await relay.say("@marie #rumeurs-fr Deuxième message", "@marie #rumeurs-fr !delete m2")
    await relay.say("!clock +1m")
    uk = [call for call in relay.adapter.calls if call.channel == "chutky-uk"]
    # The edit came before the copy existed: the copy goes out edited, once; the deleted
    # message never goes out there.
    assert [(call.op, call.message.text if call.message else None) for call in uk] == [
        ("post", "Bonjour, version deux")]
    assert [call.op for call in relay.adapter.calls if call.channel == "rumours-en"] == ["post", "edit", "post",
                                                                                          "delete"]


# ---- durability -----------------------------------------------------------------------------------------


async def test_a_restarted_bot_resumes_pending_deliveries_and_edits_copies_made_before(
        sqlite_demo_url: str) -> None:
    first = await start_harness(sqlite_demo_url)
    first.adapter.fail("dicerie-it", DeliveryError("busy", retry_after=60))
    await first.say("@marie #rumeurs-fr Bonjour avant l'arrêt")
    before = copies_by_channel(first)
    assert set(before) == GROUP - {"rumeurs-fr", "dicerie-it"}
    await first.stop()

    second = await start_harness(sqlite_demo_url, first_id=1000, clock=ManualClock(START))
    try:
        await second.say("!clock +2m")
        resumed = second.adapter.posts()
        assert [(call.channel, call.message and call.message.text) for call in resumed] == [
            ("dicerie-it", "Bonjour avant l'arrêt")]
        await second.bot.handle(MessageEdited(FR, "m1", "Bonjour après le redémarrage", MARIE))
        await second.bot.wait_idle()
        edited = {(call.channel, call.message_id) for call in second.adapter.ops("edit")}
        assert edited == set(before.items()) | {("dicerie-it", resumed[0].message_id)}
    finally:
        await second.stop()


async def test_a_repeated_event_is_relayed_once(relay: RelayHarness) -> None:
    event = MessagePosted(FR, "1700000000.000100", MARIE, "Bonjour", event_id="Ev0123")
    await relay.bot.handle(event)
    await relay.bot.handle(event)  # Slack's retry: same event_id
    await relay.bot.handle(MessagePosted(FR, "1700000000.000100", MARIE, "Bonjour", event_id="Ev0999"))  # replay
    await relay.bot.wait_idle()
    assert len(relay.adapter.posts()) == 4


async def test_bots_webhooks_and_our_own_copies_are_never_relayed(relay: RelayHarness) -> None:
    webhook = Author(PersonRef("console", "local", "w1"), "Some integration", is_bot=True)
    await relay.bot.handle(MessagePosted(FR, "w1", webhook, "Build passed", from_bot=True, event_id="w1"))
    await relay.bot.handle(MessagePosted(FR, "w2", webhook, "Build passed", event_id="w2"))
    assert relay.adapter.posts() == []
    await relay.say("@marie #rumeurs-fr Bonjour")
    copy_id = relay.adapter.posts("rumours-en")[0].message_id
    relay.adapter.calls.clear()
    # An adapter that forgot to flag our own copy as a bot's post: still not relayed back.
    echo = MessagePosted(ChannelRef("console", "local", "rumours-en"), copy_id, MARIE, "Bonjour", event_id="e1")
    await relay.bot.handle(echo)
    await relay.bot.wait_idle()
    assert relay.adapter.calls == []


async def test_mass_and_direct_mentions_never_reach_a_destination_intact(relay: RelayHarness) -> None:
    await relay.say("@marie #rumeurs-fr Salut @everyone et @here, <!channel> <!here> <!everyone> "
                    "<@U024BE7LH> <@!80351110224678912> <@&165511591545143296> @Channel")
    for call in relay.adapter.posts():
        assert call.message is not None
        text = call.message.text
        assert not re.search(r"@(everyone|here|channel)|<[!@]", text, re.IGNORECASE), text
        assert text.replace(ZWJ, "") == ("Salut @everyone et @here, <!channel> <!here> <!everyone> "
                                         "<@U024BE7LH> <@!80351110224678912> <@&165511591545143296> @Channel")


async def test_a_text_longer_than_the_limit_is_split_and_nothing_is_lost(relay: RelayHarness) -> None:
    text = "\n\n".join(f"Paragraphe {n}. " + "Une phrase qui raconte quelque chose. " * 10 for n in range(23))
    assert 8800 < len(text) < 9300  # "9,000 characters"
    await relay.bot.handle(MessagePosted(FR, "big", MARIE, text, event_id="big"))
    await relay.bot.wait_idle()
    for channel in GROUP - {"rumeurs-fr"}:
        parts = [call.message for call in relay.adapter.posts(channel)]
        assert len(parts) == 3
        assert all(part is not None and len(part.text) <= 4000 for part in parts)
        assert "".join(part.text for part in parts if part) == text
        assert [part.footnote is not None for part in parts if part] == [False, False, True]
    async with relay.bot.db.session() as session:
        stored = (await session.exec(select(RelayCopy).where(RelayCopy.channel_id == "rumours-en"))).all()
    assert sorted(copy.part for copy in stored) == [0, 1, 2]


# ---- pacing and failures -------------------------------------------------------------------------------


async def test_a_channel_answering_429_waits_its_retry_after_while_the_others_get_it_at_once(
        relay: RelayHarness) -> None:
    relay.adapter.fail("chutky-uk", DeliveryError("rate limited", retry_after=30))
    await relay.say("@marie #rumeurs-fr Premier")
    assert {call.channel for call in relay.adapter.posts()} == GROUP - {"rumeurs-fr", "chutky-uk"}
    await relay.say("!clock +10s", "@marie #rumeurs-fr Deuxième")
    assert len(relay.adapter.posts()) == 6 and relay.adapter.posts("chutky-uk") == []
    await relay.say("!clock +19s")
    assert relay.adapter.posts("chutky-uk") == []
    await relay.say("!clock +2s")
    assert [call.message and call.message.text for call in relay.adapter.posts("chutky-uk")] == ["Premier",
                                                                                                  "Deuxième"]


async def test_one_slow_channel_does_not_hold_up_the_others(relay: RelayHarness) -> None:
    relay.adapter.latency["chutky-uk"] = 0.4
    await relay.bot.handle(MessagePosted(FR, "s1", MARIE, "Bonjour", event_id="s1"))
    start = min(call.at for call in relay.adapter.calls) if relay.adapter.calls else None
    await relay.bot.wait_idle()
    times = {call.channel: call.at for call in relay.adapter.posts()}
    assert set(times) == GROUP - {"rumeurs-fr"}
    fast = [at for channel, at in times.items() if channel != "chutky-uk"]
    assert max(fast) < times["chutky-uk"] - 0.3
    assert start is None or start <= max(fast)


async def test_the_copies_into_a_large_group_are_all_in_flight_at_once(relay: RelayHarness) -> None:
    # 40 channels: each of the 39 copies goes out at once, none waits for another's answer.
    async with relay.bot.db.session() as session:
        source = (await session.exec(select(Channel).where(Channel.channel_id == "rumeurs-fr"))).one()
        extra = [f"extra-{n}" for n in range(35)]
        session.add_all(Channel(platform="console", workspace="local", channel_id=name, name=name, language="fr",
                                group_id=source.group_id, linked_at=START) for name in extra)
    for name in [*GROUP, *extra]:
        relay.adapter.latency[name] = 0.3
    await relay.bot.handle(MessagePosted(FR, "w1", MARIE, "Bonjour", event_id="w1"))
    await relay.bot.wait_idle()
    answered = [call.at for call in relay.adapter.posts()]
    assert len(answered) == 39
    assert max(answered) - min(answered) < 0.25


async def test_a_permanent_failure_is_recorded_and_reported_once(relay: RelayHarness) -> None:
    relay.adapter.fail("dicerie-it", DeliveryError("channel_not_found", permanent=True), times=2)
    await relay.say("@marie #rumeurs-fr Bonjour")
    assert {call.channel for call in relay.adapter.posts()} == GROUP - {"rumeurs-fr", "dicerie-it"}
    reports = {call.channel: call.message.text for call in relay.adapter.ops("dm") if call.message}
    # The group's lead and the ICC team, each in their language.
    assert set(reports) == {"@lucia", "@alice", "@hugo"}
    assert reports["@alice"].startswith("A message from Marie Dubois in #rumeurs-fr could not be delivered to "
                                        "#dicerie-it (group `anti-rumours`): channel_not_found.")
    assert reports["@hugo"].startswith("Un message de Marie Dubois")
    async with relay.bot.db.session() as session:
        failed = (await session.exec(select(OutboxItem).where(OutboxItem.state == "failed"))).all()
    assert [(item.kind, item.last_error) for item in failed] == [("relay", "channel_not_found")]
    await relay.say("@marie #rumeurs-fr Encore")
    assert len(relay.adapter.ops("dm")) == 3  # not reported again the same day
    async with relay.bot.db.session() as session:
        failed = (await session.exec(select(OutboxItem).where(OutboxItem.state == "failed"))).all()
    assert len(failed) == 2


async def test_messages_arriving_together_share_each_languages_request(deepl_relay: RelayHarness,
                                                                       fake_deepl: FakeDeepL) -> None:
    fake_deepl.set_latency(0.1, "/v2/translate")
    texts = [f"Bonjour à tous, voici le message numéro {n} de notre campagne avec les écoles" for n in range(5)]
    await asyncio.gather(*(deepl_relay.bot.handle(MessagePosted(FR, f"t{n}", MARIE, text, event_id=f"t{n}"))
                           for n, text in enumerate(texts)))
    await deepl_relay.bot.wait_idle()
    calls = fake_deepl.translate_calls
    # The first message's four languages go at once; the others, arriving meanwhile, go together.
    assert len(calls) < 5 * 4
    assert sorted(text for call in calls for text in call.texts) == sorted(texts * 4)
    for channel, prefix in (("rumours-en", "EN-GB"), ("chutky-uk", "UK")):
        assert sorted(call.message.text for call in deepl_relay.adapter.posts(channel) if call.message) == sorted(
            f"[{prefix}] {text}" for text in texts)


async def test_the_text_of_a_relayed_message_is_known_at_its_source_and_at_every_copy(relay: RelayHarness) -> None:
    from bot.translation import MessageTexts

    texts = relay.bot.service(MessageTexts)  # type: ignore[type-abstract]
    await relay.say("@marie #rumeurs-fr Bonjour à tous")
    assert await texts.message_text(FR, "m1") == "Bonjour à tous"
    copy = relay.adapter.posts("chutky-uk")[0]
    assert await texts.message_text(ChannelRef("console", "local", "chutky-uk"), copy.message_id) == "Bonjour à tous"
    await relay.say("@marie #rumeurs-fr !delete m1")
    assert await texts.message_text(FR, "m1") is None
