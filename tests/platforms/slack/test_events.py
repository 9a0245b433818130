"""Events API payloads, signed and handed to the real bolt AsyncApp, → the core's events."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select

from bot.events import MessageDeleted, MessageEdited, MessagePosted, ReactionAdded
from storage.models import Person
from tests.fakes.slack_payloads import (
    bot_message_event,
    event_callback,
    file_object,
    file_share_event,
    message_changed_event,
    message_deleted_event,
    message_event,
    reaction_added_event,
    socket_mode_request,
)
from tests.platforms.slack.conftest import TEAM_A, TEAM_B, SlackHarness

Seen = list[Any]


@pytest.fixture
def seen(slack_bot: SlackHarness) -> Seen:
    """Every message-ish core event the adapter hands to the bot."""
    events: Seen = []

    async def record(event: Any) -> None:
        events.append(event)

    for kind in (MessagePosted, MessageEdited, MessageDeleted, ReactionAdded):
        slack_bot.bot.on(kind, record)
    slack_bot.fake.add_user("U0ALICE01", "alice", display_name="Alice Martin", locale="fr-FR", tz="Europe/Paris")
    slack_bot.fake.add_user("U0ANA0001", "ana", real_name="Ana Souza")
    return events


async def test_a_channel_message_becomes_message_posted(slack_bot: SlackHarness, seen: Seen) -> None:
    event = message_event("C0RUMOURS", "*Hola* <@U0ANA0001> &amp; <https://coe.int|CoE>", user="U0ALICE01")
    response = await slack_bot.event(event, event_id="Ev0001")
    assert response.status == 200
    [posted] = seen
    assert isinstance(posted, MessagePosted)
    assert posted.channel.workspace == TEAM_A and posted.channel.channel == "C0RUMOURS"
    assert posted.message_id == event["ts"] and posted.thread_id is None and posted.event_id == "Ev0001"
    assert posted.text == "**Hola** @Ana Souza & [CoE](https://coe.int)"
    assert posted.author.display_name == "Alice Martin" and posted.author.locale == "fr-FR"
    assert posted.author.avatar_url and posted.author.timezone == "Europe/Paris" and not posted.from_bot


async def test_thread_replies_carry_their_thread(slack_bot: SlackHarness, seen: Seen) -> None:
    await slack_bot.event(message_event("C0RUMOURS", "a reply", user="U0ALICE01", thread_ts="1700000500.000001"))
    assert seen[0].thread_id == "1700000500.000001"


async def test_edits_and_deletions(slack_bot: SlackHarness, seen: Seen) -> None:
    original = message_event("C0RUMOURS", "helo", user="U0ALICE01")
    await slack_bot.event(message_changed_event("C0RUMOURS", {**original, "text": "hello"}, original))
    await slack_bot.event(message_deleted_event("C0RUMOURS", original["ts"], original))
    edited, deleted = seen
    assert isinstance(edited, MessageEdited) and edited.message_id == original["ts"] and edited.text == "hello"
    assert isinstance(deleted, MessageDeleted) and deleted.message_id == original["ts"]


async def test_an_unfurl_is_not_an_edit(slack_bot: SlackHarness, seen: Seen) -> None:
    original = message_event("C0RUMOURS", "<https://coe.int>", user="U0ALICE01")
    unfurled = {**original, "attachments": [{"title": "Council of Europe", "from_url": "https://coe.int"}]}
    await slack_bot.event(message_changed_event("C0RUMOURS", unfurled, original))
    assert seen == []


async def test_shared_files_are_relayed_as_name_and_link(slack_bot: SlackHarness, seen: Seen) -> None:
    report = file_object("rapport-2027.pdf")
    await slack_bot.event(file_share_event("C0RUMOURS", "our report", [report], user="U0ALICE01"))
    [posted] = seen
    assert posted.text == "our report"
    assert [(a.name, a.url) for a in posted.attachments] == [("rapport-2027.pdf", report["permalink"])]


async def test_the_bots_own_posts_are_never_handed_on(slack_bot: SlackHarness, seen: Seen) -> None:
    # Our relay in workspace A (bolt drops it as a self event) and our relay copy seen from B.
    await slack_bot.event(bot_message_event("C0RUMOURS", "copy", bot_id="B0BOT0001", username="Lucía"))
    await slack_bot.event(message_deleted_event("C0RUMOURS", "1700000000.000100",
                                                {"ts": "1700000000.000100", "bot_id": "B0BOT0002", "text": "x"}),
                          team_id=TEAM_B)
    assert seen == []


async def test_other_bots_are_marked_so_the_relay_skips_them(slack_bot: SlackHarness, seen: Seen) -> None:
    await slack_bot.event(bot_message_event("C0RUMOURS", "deploy done", bot_id="B0CIBOT01", username="CI"))
    [posted] = seen
    assert posted.from_bot and posted.author.display_name == "CI"


async def test_a_retried_event_is_handled_once(slack_bot: SlackHarness, seen: Seen) -> None:
    body = event_callback(message_event("C0RUMOURS", "only once", user="U0ALICE01"), event_id="Ev0RETRY")
    first = await slack_bot.send(body)
    again = await slack_bot.send(body, retry_num=1)
    third = await slack_bot.send(body, retry_num=2)
    assert (first.status, again.status, third.status) == (200, 200, 200)
    assert [e.text for e in seen] == ["only once"]


async def test_bad_or_stale_signatures_are_refused(slack_bot: SlackHarness, seen: Seen) -> None:
    body = event_callback(message_event("C0RUMOURS", "forged", user="U0ALICE01"))
    assert (await slack_bot.send(body, secret="not-the-secret")).status == 401
    assert (await slack_bot.send(body, timestamp=int(time.time()) - 600)).status == 401
    assert seen == []


async def test_a_flag_reaction_becomes_reaction_added(slack_bot: SlackHarness, seen: Seen) -> None:
    await slack_bot.event(reaction_added_event("fr", "C0RUMOURS", "1700000500.000009", user="U0ALICE01"))
    await slack_bot.event(reaction_added_event("thumbsup::skin-tone-3", "C0RUMOURS", "1700000500.000009"))
    flag, thumbs = seen
    assert isinstance(flag, ReactionAdded) and flag.emoji == "flag-fr" and flag.message_id == "1700000500.000009"
    assert flag.person.user == "U0ALICE01" and thumbs.emoji == "thumbsup"


async def test_socket_mode_deliveries_take_the_same_path(slack_bot: SlackHarness, seen: Seen) -> None:
    body = event_callback(message_event("C0RUMOURS", "via socket", user="U0ALICE01"), event_id="Ev0SOCK")
    response = await slack_bot.adapter.dispatch(socket_mode_request(body))
    await slack_bot.adapter.dispatch(socket_mode_request(body))  # redelivered
    assert response.status == 200 and [e.text for e in seen] == ["via socket"]


async def test_direct_messages_and_joins_are_not_group_messages(slack_bot: SlackHarness, seen: Seen) -> None:
    await slack_bot.event(message_event("D0DM00001", "hi bot", user="U0ALICE01", channel_type="im"))
    response = await slack_bot.event(message_event("C0RUMOURS", "<@U0ALICE01> has joined", user="U0ALICE01",
                                                   subtype="channel_join"))
    assert response.status == 200 and seen == []


async def test_events_from_an_unknown_workspace_are_ignored(slack_bot: SlackHarness, seen: Seen) -> None:
    await slack_bot.event(message_event("C0X", "who?", user="U0ALICE01"), team_id="T0STRANGER")
    assert seen == []


async def test_locale_and_time_zone_seed_a_new_person(slack_bot: SlackHarness, seen: Seen) -> None:
    from tests.fakes.slack_payloads import slash_command_body

    url = slack_bot.fake.new_response_url()
    await slack_bot.send(slash_command_body("help", user_id="U0ALICE01", channel_id="C0RUMOURS", response_url=url))
    async with slack_bot.bot.db.session() as session:
        person = (await session.exec(select(Person).where(Person.user_id == "U0ALICE01"))).one()
    assert (person.platform_locale, person.timezone, person.display_name) == ("fr-FR", "Europe/Paris", "Alice Martin")
    # Alice's Slack speaks French, Ana's English: each is answered in their own language.
    ana_url = slack_bot.fake.new_response_url()
    await slack_bot.send(slash_command_body("help", user_id="U0ANA0001", channel_id="C0RUMOURS", response_url=ana_url))
    french, english = slack_bot.fake.responses_to(url)[0], slack_bot.fake.responses_to(ana_url)[0]
    assert french["response_type"] == english["response_type"] == "ephemeral"
    assert french["text"] != english["text"] and "/icc" in french["text"]


async def test_a_reply_to_a_thread_reply_goes_to_the_thread_itself(slack_bot: SlackHarness, seen: Seen) -> None:
    from bot.events import ChannelRef
    from bot.outbound import Outgoing

    parent_ts = "1700000500.000100"
    reply = message_event("C0RUMOURS", "a reply", user="U0ALICE01", thread_ts=parent_ts)
    await slack_bot.event(reply)
    # e.g. a flag reaction on that reply: the translation names the reply, Slack needs the parent.
    await slack_bot.adapter.post(ChannelRef("slack", TEAM_A, "C0RUMOURS"), Outgoing("translated",
                                                                                     thread_id=reply["ts"]))
    assert slack_bot.fake.params("chat.postMessage")[-1]["thread_ts"] == parent_ts
