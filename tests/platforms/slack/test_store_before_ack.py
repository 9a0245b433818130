"""Slack is told a message arrived only once it is stored: with the database failing, the events
request gets a 503 (HTTP mode) or no acknowledgement (Socket Mode), nothing is posted, and
Slack's retry after the database is back is relayed exactly once to every channel of the group.
Real slack-bolt, real relay, the fake Slack Web API and a database made to fail through
SQLAlchemy's events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import create_bot
from bot.clock import ManualClock
from bot.core import Bot
from bot.platforms.slack import SlackAdapter
from bot.settings import Settings
from storage.models import Channel, Group
from tests.database_faults import DatabaseFaults
from tests.fakes.fake_deepl import FakeDeepL
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import (
    encode_body,
    event_callback,
    message_changed_event,
    message_event,
    signed_headers,
)
from tests.harness import START
from tests.platforms.slack.conftest import SECRET, TEAM_A, TEAM_B, SlackHarness, start_slack_bot

EN = "C0RUMOURS"  # workspace A, English
ES = "C0RUMORES"  # workspace B, Spanish
FR = "C0RUMEURS"  # workspace B, French
TOM = "U0TOM0001"


async def link_group(bot: Bot, channels: list[tuple[str, str, str]]) -> None:
    """A group whose channels are (team, channel, language): what `/icc group link` makes."""
    async with bot.db.session() as session:
        group = Group(slug="rumours-slack", name="Rumours on Slack", kind="thematic", created_at=START)
        session.add(group)
        await session.flush()
        for team, channel, language in channels:
            session.add(Channel(platform="slack", workspace=team, channel_id=channel, name=channel,
                                language=language, group_id=group.id, linked_at=START))


@pytest.fixture
async def network(demo_database_url: str, fake_slack: FakeSlack, fake_deepl: FakeDeepL
                  ) -> AsyncIterator[SlackHarness]:
    """On SQLite and on PostgreSQL: the claim that stops a second relay is the database's."""
    harness = await start_slack_bot(demo_database_url, fake_slack, deepl_auth_key="test-key:fx",
                                    deepl_server_url=fake_deepl.url)
    await link_group(harness.bot, [(TEAM_A, EN, "en"), (TEAM_B, ES, "es"), (TEAM_B, FR, "fr")])
    fake_slack.add_user(TOM, "tom", display_name="Tom Evans")
    try:
        yield harness
    finally:
        await harness.bot.stop()
        await harness.bot.db.dispose()


class SaidOnce(logging.Handler):
    """`said` is set once a log line containing `text` is written."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.said = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.said.set()


def copies(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel) if m.get("subtype") == "bot_message"]


def copies_everywhere(fake: FakeSlack) -> dict[str, int]:
    return {channel: len(copies(fake, channel)) for channel in (EN, ES, FR)}


async def test_a_message_the_database_refuses_gets_a_503_and_slacks_retry_is_relayed_once(
        network: SlackHarness, caplog: pytest.LogCaptureFixture) -> None:
    fake = network.fake
    body = event_callback(message_event(EN, "The café is on Monday.", user=TOM), team_id=TEAM_A)
    with DatabaseFaults(network.bot.db) as faults:
        faults.fail_commits()
        with caplog.at_level(logging.WARNING, logger="bot.platforms.slack.adapter"):
            refused = await network.send(body, settle=False)
        assert refused.status == 503
        assert copies_everywhere(fake) == {EN: 0, ES: 0, FR: 0}
        [line] = [r.getMessage() for r in caplog.records if r.name == "bot.platforms.slack.adapter"]
        assert line.startswith(f"Slack: the message {body['event']['ts']} in slack:{TEAM_A}/{EN} was not stored "
                               "(OperationalError: ")
        assert line.endswith(f"not acknowledged, so Slack delivers event {body['event_id']} again")
        faults.recover()

    retried = await network.send(body, retry_num=1)
    assert retried.status == 200
    assert copies_everywhere(fake) == {EN: 0, ES: 1, FR: 1}
    [spanish] = copies(fake, ES)
    assert spanish["username"] == "Tom Evans" and "The café is on Monday." in spanish["text"]

    # Slack's later retries of the same event (its first answer came too late, say) change nothing.
    assert (await network.send(body, retry_num=2)).status == 200
    assert copies_everywhere(fake) == {EN: 0, ES: 1, FR: 1}


async def test_a_retry_after_a_successful_store_is_not_relayed_twice_even_by_another_process(
        network: SlackHarness, demo_database_url: str, fake_slack: FakeSlack, fake_deepl: FakeDeepL) -> None:
    body = event_callback(message_event(EN, "Stored the first time.", user=TOM), team_id=TEAM_A)
    assert (await network.send(body)).status == 200
    assert copies_everywhere(fake_slack) == {EN: 0, ES: 1, FR: 1}
    assert (await network.send(body, retry_num=1)).status == 200
    # A second instance of the bot on the same database (a restart, a second process) knows
    # nothing of the first delivery in memory: the database's claim on the event stops it.
    other = await start_slack_bot(demo_database_url, fake_slack, deepl_auth_key="test-key:fx",
                                  deepl_server_url=fake_deepl.url)
    try:
        assert (await other.send(body, retry_num=2)).status == 200
    finally:
        await other.bot.stop()
        await other.bot.db.dispose()
    assert copies_everywhere(fake_slack) == {EN: 0, ES: 1, FR: 1}


async def test_a_retry_that_overtakes_the_first_delivery_is_relayed_once(network: SlackHarness) -> None:
    """Slack retries after 3 s without an answer: the first delivery may still be storing."""
    body = event_callback(message_event(EN, "Both at once.", user=TOM), team_id=TEAM_A)
    answers = await asyncio.gather(*(network.send(body, retry_num=retry, settle=False) for retry in (None, 1, 2)))
    assert [answer.status for answer in answers] == [200, 200, 200]
    await network.bot.wait_idle()
    assert copies_everywhere(network.fake) == {EN: 0, ES: 1, FR: 1}


async def test_a_thread_reply_and_an_edit_the_database_refuses_are_taken_again(network: SlackHarness) -> None:
    fake = network.fake
    post = message_event(EN, "Meeting on Monday.", user=TOM)
    await network.event(post, team_id=TEAM_A)
    reply = event_callback(message_event(EN, "Room 4.", user=TOM, thread_ts=post["ts"]), team_id=TEAM_A)
    edit = event_callback(message_changed_event(EN, {**post, "text": "Meeting on Tuesday."}, post), team_id=TEAM_A)
    with DatabaseFaults(network.bot.db) as faults:
        faults.fail_commits()
        assert (await network.send(reply, settle=False)).status == 503
        assert (await network.send(edit, settle=False)).status == 503
        faults.recover()
    assert (await network.send(reply, retry_num=1)).status == 200
    assert (await network.send(edit, retry_num=1)).status == 200
    for channel in (ES, FR):
        [root_copy] = [m for m in copies(fake, channel) if "thread_ts" not in m or m["thread_ts"] == m["ts"]]
        assert "Meeting on Tuesday." in root_copy["text"]
        [reply_copy] = [m for m in fake.thread(channel, root_copy["ts"]) if m.get("subtype") == "bot_message"]
        assert "Room 4." in reply_copy["text"]


async def test_http_mode_answers_503_over_the_wire_then_200(fake_slack: FakeSlack, sqlite_demo_url: str) -> None:
    adapter = SlackAdapter(["xoxb-test"], signing_secret=SECRET, api_url=fake_slack.api_url, port=0, host="127.0.0.1")
    bot = await create_bot(Settings(_env_file=None, database_url=sqlite_demo_url), database_url=sqlite_demo_url,
                           clock=ManualClock(START), migrate=False)
    bot.add_adapter(adapter)
    await bot.start(run_scheduler=False)
    await link_group(bot, [(TEAM_A, EN, "en"), (TEAM_A, "C0OTHER01", "en")])
    raw, content_type = encode_body(event_callback(message_event(EN, "over HTTP", user=TOM), team_id=TEAM_A))
    url = f"http://127.0.0.1:{adapter.bound_port}/slack/events"
    try:
        async with aiohttp.ClientSession() as http:
            with DatabaseFaults(bot.db) as faults:
                faults.fail_commits()
                async with http.post(url, data=raw, headers=signed_headers(SECRET, raw, content_type=content_type)
                                     ) as refused:
                    assert refused.status == 503
                faults.recover()
            headers = signed_headers(SECRET, raw, content_type=content_type, retry_num=1)
            async with http.post(url, data=raw, headers=headers) as accepted:
                assert accepted.status == 200
        await bot.wait_idle()
        assert [m["text"] for m in copies(fake_slack, "C0OTHER01")] == ["over HTTP"]
    finally:
        await bot.stop()
        await bot.db.dispose()


async def test_socket_mode_leaves_an_unstored_envelope_unacknowledged_and_relays_the_redelivery_once(
        fake_slack: FakeSlack, sqlite_demo_url: str, caplog: pytest.LogCaptureFixture) -> None:
    fake_slack.enable_socket_mode("xapp-test")
    adapter = SlackAdapter(["xoxb-test"], app_token="xapp-test", api_url=fake_slack.api_url)
    bot = await create_bot(Settings(_env_file=None, database_url=sqlite_demo_url), database_url=sqlite_demo_url,
                           clock=ManualClock(START), migrate=False)
    bot.add_adapter(adapter)
    await bot.start(run_scheduler=False)
    await link_group(bot, [(TEAM_A, EN, "en"), (TEAM_A, "C0OTHER01", "en")])
    try:
        await fake_slack.wait_connected()
        body = event_callback(message_event(EN, "over the socket", user=TOM), team_id=TEAM_A, event_id="Ev0S1")
        refused = SaidOnce("Unsuccessful Bolt execution result (status: 503")
        socket_log = logging.getLogger("bot.platforms.slack.socket")
        socket_log.addHandler(refused)
        with DatabaseFaults(bot.db) as faults, caplog.at_level(logging.INFO, logger=socket_log.name):
            faults.fail_commits()
            first = await fake_slack.send_envelope(body)
            # slack_sdk says when bolt's answer was not a 200, after which it sends nothing.
            await asyncio.wait_for(refused.said.wait(), 5)
            faults.recover()
        socket_log.removeHandler(refused)
        assert first not in fake_slack.socket_acks
        assert copies(fake_slack, "C0OTHER01") == []

        again = await fake_slack.send_envelope(body, retry_attempt=1, retry_reason="timeout")
        assert await fake_slack.wait_ack(again) == {"envelope_id": again}
        third = await fake_slack.send_envelope(body, retry_attempt=2, retry_reason="timeout")
        await fake_slack.wait_ack(third)
        await bot.wait_idle()
        assert [m["text"] for m in copies(fake_slack, "C0OTHER01")] == ["over the socket"]
        assert first not in fake_slack.socket_acks
    finally:
        await bot.stop()
        await bot.db.dispose()
