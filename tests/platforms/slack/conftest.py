"""A bot on the real slack-bolt AsyncApp, talking to the loopback fake Slack Web API.

`slack_bot` is the demo network plus two Slack workspaces (ICC Network, T0ICC0001, and Ciudades
Interculturales, T0ICC0002), nothing listening: tests hand signed requests to bolt with
`harness.send(...)` exactly as the HTTP server would, and assert on what the fake recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.response import BoltResponse

from bot.app import create_bot
from bot.clock import ManualClock
from bot.core import Bot
from bot.platforms.slack import SlackAdapter
from bot.settings import Settings
from storage.models import Channel
from storage.queries import registry
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import bolt_request, event_callback
from tests.harness import START

SECRET = "test-signing-secret"
TEAM_A = "T0ICC0001"
TEAM_B = "T0ICC0002"
TOKEN_A = "xoxb-test"
TOKEN_B = "xoxb-second"
BOT_B_USER = "U0BOT0002"
BOT_B = "B0BOT0002"


class SlackHarness:
    def __init__(self, bot: Bot, adapter: SlackAdapter, fake: FakeSlack) -> None:
        self.bot = bot
        self.adapter = adapter
        self.fake = fake

    async def send(self, body: dict[str, Any] | str, *, secret: str = SECRET, retry_num: int | None = None,
                   timestamp: int | None = None, settle: bool = True) -> BoltResponse:
        """A signed request through bolt, as Slack would send it; waits for background work."""
        response = await self.adapter.dispatch(bolt_request(secret, body, retry_num=retry_num, timestamp=timestamp))
        if settle:
            await self.bot.wait_idle(timeout=10)
        return response

    async def event(self, event: dict[str, Any], *, team_id: str = TEAM_A, event_id: str | None = None,
                    retry_num: int | None = None) -> BoltResponse:
        bot_user = BOT_B_USER if team_id == TEAM_B else "U0BOT0001"
        body = event_callback(event, team_id=team_id, event_id=event_id, bot_user_id=bot_user)
        return await self.send(body, retry_num=retry_num)

    async def link(self, team_id: str, channel_id: str, group_slug: str, language: str, name: str = "") -> None:
        """Link a Slack channel to a demo group (what `/icc group link` does)."""
        async with self.bot.db.session() as session:
            group = await registry.find_group(session, group_slug)
            assert group is not None
            channel = Channel(platform="slack", workspace=team_id, channel_id=channel_id, name=name or channel_id,
                              language=language, group_id=group.id, linked_at=START)
            session.add(channel)


async def start_slack_bot(database_url: str, fake: FakeSlack, **settings: Any) -> SlackHarness:
    fake.add_workspace(TOKEN_B, team_id=TEAM_B, team="Ciudades Interculturales", domain="ciudades",
                       user_id=BOT_B_USER, bot_id=BOT_B, app_id="A0ICC0001")
    settings.setdefault("icc_admins", "slack:U0ADMIN01")
    bot = await create_bot(Settings(_env_file=None, database_url=database_url, **settings),
                           database_url=database_url, clock=ManualClock(START), migrate=False)
    adapter = SlackAdapter([TOKEN_A, TOKEN_B], signing_secret=SECRET, api_url=fake.api_url, listen=False)
    bot.add_adapter(adapter)
    await bot.start(run_scheduler=False)
    return SlackHarness(bot, adapter, fake)


@pytest.fixture
async def slack_bot(sqlite_demo_url: str, fake_slack: FakeSlack) -> AsyncIterator[SlackHarness]:
    harness = await start_slack_bot(sqlite_demo_url, fake_slack)
    try:
        yield harness
    finally:
        await harness.bot.stop()
        await harness.bot.db.dispose()
