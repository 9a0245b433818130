"""The outbound operations against the fake Slack Web API, through the real slack_sdk client."""

from __future__ import annotations

import re

import pytest

from bot.events import ChannelRef, PersonRef
from bot.outbound import Button, DeliveryError, Outgoing, PostAs
from bot.platforms.slack.markup import to_neutral
from tests.platforms.slack.conftest import TEAM_A, TEAM_B, TOKEN_A, TOKEN_B, SlackHarness


def shown(message: dict) -> str:  # type: ignore[type-arg]
    """What a person reads: the section blocks when there are some, else the text."""
    sections = [b["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "section"]
    return "".join(sections) if sections else message["text"]


A_CHANNEL = ChannelRef("slack", TEAM_A, "C0RUMOURS")
B_CHANNEL = ChannelRef("slack", TEAM_B, "C0RUMORES")


async def test_relay_post_shows_the_author_and_pings_nobody(slack_bot: SlackHarness) -> None:
    message = Outgoing("Hola <!channel> @here & **todos** <@U0X>", post_as=PostAs("Lucía García", "https://a/l.png"),
                       kind="relay")
    ts = await slack_bot.adapter.post(A_CHANNEL, message)
    [call] = slack_bot.fake.params("chat.postMessage")
    assert call["username"] == "Lucía García" and call["icon_url"] == "https://a/l.png"
    assert "<" not in call["text"].replace("&lt;", "") and not re.search(r"@(here|channel)\b", call["text"])
    assert "*todos*" in call["text"]
    stored = slack_bot.fake.message("C0RUMOURS", ts)
    assert stored is not None and stored["username"] == "Lucía García"


async def test_each_workspace_is_served_with_its_own_token(slack_bot: SlackHarness) -> None:
    await slack_bot.adapter.post(A_CHANNEL, Outgoing("to A"))
    await slack_bot.adapter.post(B_CHANNEL, Outgoing("to B"))
    assert [r.body["text"] for r in slack_bot.fake.calls("chat.postMessage", token=TOKEN_A)] == ["to A"]
    assert [r.body["text"] for r in slack_bot.fake.calls("chat.postMessage", token=TOKEN_B)] == ["to B"]


async def test_a_45000_character_message_is_split_and_nothing_is_cut(slack_bot: SlackHarness) -> None:
    sentence = "Les villes interculturelles partagent leurs pratiques & leurs idées. "
    text = (sentence * (45_000 // len(sentence) + 1))[:45_000]
    ids = await slack_bot.bot.post(A_CHANNEL, text, "fr", post_as=PostAs("Marie Dubois"), footnote="Traduit",
                                   original="Intercultural cities share their practices.", kind="relay")
    assert len(ids) == 2
    posted = slack_bot.fake.messages("C0RUMOURS")
    assert [m["ts"] for m in posted] == ids
    assert all(len(m["text"]) <= 40_000 for m in posted)
    # The footnote and the original go once, under the last part.
    assert "blocks" not in posted[0] and posted[1]["blocks"][-1]["type"] == "context"
    assert to_neutral("".join(shown(m) for m in posted)) == text


async def test_escaping_growth_past_40000_characters_goes_into_blocks(slack_bot: SlackHarness) -> None:
    text = "a < b & c > d. " * 2600  # 39,000 characters that escape to far more
    ts = await slack_bot.adapter.post(A_CHANNEL, Outgoing(text))
    stored = slack_bot.fake.message("C0RUMOURS", ts)
    assert stored is not None and len(stored["blocks"]) <= 50
    assert all(len(block["text"]["text"]) <= 3000 for block in stored["blocks"])
    assert to_neutral("".join(block["text"]["text"] for block in stored["blocks"])) == text


async def test_the_original_goes_in_small_print_or_in_the_thread_when_long(slack_bot: SlackHarness) -> None:
    short = await slack_bot.adapter.post(A_CHANNEL, Outgoing("Hello", footnote="Translated from French",
                                                             original="Bonjour", kind="relay"))
    blocks = slack_bot.fake.message("C0RUMOURS", short)["blocks"]  # type: ignore[index]
    assert [b["type"] for b in blocks] == ["section", "context", "context"]
    assert blocks[1]["elements"][0]["text"] == "Translated from French"
    assert blocks[2]["elements"][0]["text"] == "» Bonjour"
    long_original = "Un très long message. " * 300
    ts = await slack_bot.adapter.post(A_CHANNEL, Outgoing("A very long message.", footnote="Translated",
                                                          original=long_original, post_as=PostAs("Marie")))
    [reply] = slack_bot.fake.thread("C0RUMOURS", ts)
    assert to_neutral(reply["text"]) == long_original and reply["username"] == "Marie"


async def test_buttons_become_an_actions_block_with_unique_ids(slack_bot: SlackHarness) -> None:
    buttons = (Button("Done", "deadline.done", "7", "primary"), Button("1 day", "deadline.snooze", "7:1d"),
               Button("1 week", "deadline.snooze", "7:1w"))
    ts = await slack_bot.adapter.post(A_CHANNEL, Outgoing("Survey due Friday", buttons=buttons))
    actions = slack_bot.fake.message("C0RUMOURS", ts)["blocks"][-1]  # type: ignore[index]
    assert actions["type"] == "actions"
    assert [e["action_id"] for e in actions["elements"]] == ["deadline.done", "deadline.snooze", "deadline.snooze~1"]
    assert actions["elements"][0]["style"] == "primary" and actions["elements"][2]["value"] == "7:1w"


async def test_rate_limit_gives_retry_after(slack_bot: SlackHarness) -> None:
    slack_bot.fake.fail_next("chat.postMessage", 429, headers={"Retry-After": "7"})
    with pytest.raises(DeliveryError) as caught:
        await slack_bot.adapter.post(A_CHANNEL, Outgoing("hi"))
    assert caught.value.retry_after == 7 and not caught.value.permanent


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth"])
async def test_gone_channels_and_tokens_are_permanent_failures(slack_bot: SlackHarness, error: str) -> None:
    slack_bot.fake.error_next("chat.postMessage", error)
    with pytest.raises(DeliveryError) as caught:
        await slack_bot.adapter.post(A_CHANNEL, Outgoing("hi"))
    assert caught.value.permanent and error in caught.value.reason


async def test_server_errors_are_worth_retrying(slack_bot: SlackHarness) -> None:
    slack_bot.fake.fail_next("chat.postMessage", 503, body="upstream down")
    with pytest.raises(DeliveryError) as caught:
        await slack_bot.adapter.post(A_CHANNEL, Outgoing("hi"))
    assert not caught.value.permanent and caught.value.retry_after is None


async def test_edit_delete_dm_and_ephemeral(slack_bot: SlackHarness) -> None:
    fake, adapter = slack_bot.fake, slack_bot.adapter
    fake.add_user("U0ANA0001", "ana")
    ts = await adapter.post(A_CHANNEL, Outgoing("first", footnote="note"))
    await adapter.edit(A_CHANNEL, ts, Outgoing("second <!here>"))
    edited = fake.message("C0RUMOURS", ts)
    assert edited is not None and edited["text"] == "second &lt;!here&gt;" and edited["blocks"] == []
    await adapter.delete(A_CHANNEL, ts)
    assert fake.message("C0RUMOURS", ts) is None
    await adapter.delete(A_CHANNEL, ts)  # already gone: nothing to do, no error
    ana = PersonRef("slack", TEAM_A, "U0ANA0001")
    dm_ts = await adapter.send_dm(ana, Outgoing("Your reminder"))
    dm_ts2 = await adapter.send_dm(ana, Outgoing("Another"))
    dm = fake.dm_channel("U0ANA0001")
    assert [m["ts"] for m in fake.messages(dm)] == [dm_ts, dm_ts2]
    assert len(fake.calls("conversations.open")) == 1  # the DM channel is remembered
    await adapter.post_ephemeral(A_CHANNEL, ana, "only for you & me")
    assert fake.ephemerals[-1]["user"] == "U0ANA0001" and fake.ephemerals[-1]["text"] == "only for you &amp; me"


async def test_fetch_message_text_reads_history_and_threads(slack_bot: SlackHarness) -> None:
    fake = slack_bot.fake
    fake.add_user("U0ANA0001", "ana", display_name="Ana Souza")
    parent = fake.seed_message("C0RUMOURS", "*Bonjour* <@U0ANA0001>", user="U0LUC0001")
    reply = fake.seed_message("C0RUMOURS", "a reply &amp; more", user="U0LUC0001", thread_ts=parent["ts"])
    assert await slack_bot.adapter.fetch_message_text(A_CHANNEL, parent["ts"]) == "**Bonjour** @Ana Souza"
    assert await slack_bot.adapter.fetch_message_text(A_CHANNEL, reply["ts"]) == "a reply & more"
    assert await slack_bot.adapter.fetch_message_text(A_CHANNEL, "1.000001") is None


def test_channel_label_is_a_slack_channel_link(slack_bot: SlackHarness) -> None:
    assert slack_bot.adapter.channel_label(A_CHANNEL) == "<#C0RUMOURS>"
    assert slack_bot.adapter.parse_mention("<@U0ANA0001|ana>") == "U0ANA0001"
