"""End to end through the relay: Slack events in, DeepL (fake) in the middle, Slack posts out,
two workspaces, two languages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from storage.models import Group
from tests.fakes.fake_deepl import FakeDeepL
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import (
    event_callback,
    message_changed_event,
    message_deleted_event,
    message_event,
    reaction_added_event,
)
from tests.harness import START
from tests.platforms.slack.conftest import (
    TEAM_A,
    TEAM_B,
    TOKEN_A,
    TOKEN_B,
    SlackHarness,
    start_slack_bot,
)

EN = "C0RUMOURS"  # workspace A, English
ES = "C0RUMORES"  # workspace B, Spanish


@pytest.fixture
async def relay_bot(sqlite_demo_url: str, fake_slack: FakeSlack, fake_deepl: FakeDeepL) -> AsyncIterator[SlackHarness]:
    harness = await start_slack_bot(sqlite_demo_url, fake_slack, deepl_auth_key="test-key:fx",
                                    deepl_server_url=fake_deepl.url)
    async with harness.bot.db.session() as session:
        session.add(Group(slug="rumours-slack", name="Rumours on Slack", kind="thematic", created_at=START))
    await harness.link(TEAM_A, EN, "rumours-slack", "en", name="rumours")
    await harness.link(TEAM_B, ES, "rumours-slack", "es", name="rumores")
    fake_slack.add_user("U0TOM0001", "tom", display_name="Tom Evans", image_192="https://avatars.example/tom.png")
    fake_slack.add_user("U0LUC0001", "lucia", display_name="Lucía García", team_id=TEAM_B, locale="es-ES",
                        image_192="https://avatars.example/lucia.png")
    try:
        yield harness
    finally:
        await harness.bot.stop()
        await harness.bot.db.dispose()


def copies(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel) if m.get("subtype") == "bot_message"]


def shown(message: dict[str, Any]) -> str:
    sections = [b["text"]["text"] for b in message.get("blocks") or [] if b["type"] == "section"]
    return "".join(sections) if sections else message["text"]


async def test_a_relay_between_two_workspaces_in_two_languages(relay_bot: SlackHarness) -> None:
    fake = relay_bot.fake
    post = message_event(EN, "Good morning, *everyone*!", user="U0TOM0001")
    await relay_bot.event(post, team_id=TEAM_A)
    [copy] = copies(fake, ES)
    assert copy["username"] == "Tom Evans" and copy["icons"]["image_48"] == "https://avatars.example/tom.png"
    assert shown(copy).startswith("[ES] Good morning, *everyone*!")
    # The copy went out with workspace B's own token; nothing came back into the source channel.
    [call] = [c for c in fake.calls("chat.postMessage") if c.body["channel"] == ES]
    assert call.headers["Authorization"] == f"Bearer {TOKEN_B}"
    assert copies(fake, EN) == []
    # The original is reachable from the copy.
    assert any("Good morning" in e["text"] for b in copy.get("blocks") or [] if b["type"] == "context"
               for e in b["elements"]) or fake.thread(ES, copy["ts"])

    # And back: a reply from workspace B in Spanish reaches A in English, under its own name.
    answer = message_event(ES, "¡Buenos días a todos! Nos vemos mañana en la reunión.", user="U0LUC0001", team=TEAM_B)
    await relay_bot.event(answer, team_id=TEAM_B)
    [back] = copies(fake, EN)
    assert back["username"] == "Lucía García" and back["icons"]["image_48"] == "https://avatars.example/lucia.png"
    assert shown(back).startswith("[EN-GB] ¡Buenos días a todos!")
    assert [c.headers["Authorization"] for c in fake.calls("chat.postMessage") if c.body["channel"] == EN] == \
        [f"Bearer {TOKEN_A}"]


async def test_a_retried_event_is_relayed_once(relay_bot: SlackHarness) -> None:
    body = event_callback(message_event(EN, "Only once please", user="U0TOM0001"), event_id="Ev0ONCE")
    for retry in (None, 1, 2):
        response = await relay_bot.send(body, retry_num=retry)
        assert response.status == 200
    assert len(copies(relay_bot.fake, ES)) == 1


async def test_a_retry_after_a_restart_is_still_relayed_once(relay_bot: SlackHarness) -> None:
    body = event_callback(message_event(EN, "Survives restarts", user="U0TOM0001"), event_id="Ev0RESTART")
    await relay_bot.send(body)
    relay_bot.adapter._seen.clear()  # a new process remembers nothing: the database still does
    await relay_bot.send(body, retry_num=1)
    assert len(copies(relay_bot.fake, ES)) == 1


async def test_channel_and_here_never_ping_at_the_destination(relay_bot: SlackHarness) -> None:
    await relay_bot.event(message_event(EN, "<!channel> <!here> @everyone meeting now <@U0TOM0001>",
                                        user="U0TOM0001"))
    [copy] = copies(relay_bot.fake, ES)
    for text in [copy["text"], shown(copy)]:
        assert not re.search(r"<[!@]", text)
        assert not re.search(r"@(channel|here|everyone)\b", text)


async def test_edits_deletes_and_thread_replies_follow(relay_bot: SlackHarness) -> None:
    fake = relay_bot.fake
    post = message_event(EN, "Meeting at 10", user="U0TOM0001")
    await relay_bot.event(post)
    [copy] = copies(fake, ES)
    await relay_bot.event(message_changed_event(EN, {**post, "text": "Meeting at 11"}, post))
    assert shown(fake.message(ES, copy["ts"])).startswith("[ES] Meeting at 11")  # type: ignore[arg-type]
    await relay_bot.event(message_event(EN, "Room B", user="U0TOM0001", thread_ts=post["ts"]))
    [reply] = fake.thread(ES, copy["ts"])
    assert shown(reply).startswith("[ES] Room B")
    await relay_bot.event(message_deleted_event(EN, post["ts"], post))
    assert fake.message(ES, copy["ts"]) is None


async def test_a_flag_reaction_translates_in_the_thread(relay_bot: SlackHarness) -> None:
    fake = relay_bot.fake
    original = fake.seed_message(EN, "The survey closes on Friday", user="U0TOM0001")
    await relay_bot.event(reaction_added_event("flag-fr", EN, original["ts"], user="U0TOM0001"))
    await relay_bot.event(reaction_added_event("fr", EN, original["ts"], user="U0TOM0001"))  # same flag again
    [translation] = fake.thread(EN, original["ts"])
    assert shown(translation).startswith("[FR] The survey closes on Friday")
    assert translation["blocks"][-1]["type"] == "context"  # "Translated by DeepL …" under it


async def test_the_translate_shortcut_answers_only_the_requester_in_their_language(relay_bot: SlackHarness) -> None:
    from tests.fakes.slack_payloads import message_action_payload

    fake = relay_bot.fake
    fake.add_user("U0MAR0001", "marie", display_name="Marie", locale="fr-FR")
    message = fake.seed_message(EN, "*Good* morning, the survey is open", user="U0TOM0001")
    url = fake.new_response_url()
    await relay_bot.send(message_action_payload("icc_translate", {**message, "channel": EN}, channel_id=EN,
                                                user_id="U0MAR0001", response_url=url))
    [answer] = fake.responses_to(url)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "[FR] *Good* morning, the survey is open" in answer["text"]
    assert fake.thread(EN, message["ts"]) == [] and len(fake.messages(EN)) == 1  # nobody else sees anything
