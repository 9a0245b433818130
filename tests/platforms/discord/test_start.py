"""Starting the Discord platform: the token, DISCORD_API_URL, the gateway's refusal, and what
`icc-bot run` and `icc-bot check` tell the operator."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import discord
import pytest
from discord.http import Route

from bot.cli import _check
from bot.outbound import PlatformStartError
from bot.platforms.discord.adapter import DiscordAdapter
from bot.platforms.discord.invite import invite_url, permissions
from bot.settings import Settings
from tests.fakes.fake_discord import FakeDiscord
from tests.harness import START
from tests.platforms.discord.harness import DiscordHarness

ROOT = Path(__file__).resolve().parents[3]
BAD_TOKEN = "MTA1.bad-token-that-must-never-be-printed"
# View channels, send, send in threads, create public threads, read history, manage webhooks,
# add reactions, embed links, attach files, use application commands.
PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 38) | (1 << 35) | (1 << 16) | (1 << 29) | (1 << 6) | (1 << 14) \
    | (1 << 15) | (1 << 31)


async def test_a_bad_token_is_one_clear_line_without_the_token(fake_discord: FakeDiscord,
                                                               sqlite_demo_url: str) -> None:
    with pytest.raises(PlatformStartError) as raised:
        await DiscordHarness.start(fake_discord, sqlite_demo_url, discord_token=BAD_TOKEN)
    message = str(raised.value)
    assert message.startswith("Discord refused DISCORD_TOKEN (401 Unauthorized)")
    assert "\n" not in message and BAD_TOKEN not in message


async def test_an_unreachable_discord_is_one_clear_line(sqlite_demo_url: str) -> None:
    settings = Settings(_env_file=None, database_url=sqlite_demo_url, discord_token="x" * 30,
                        discord_api_url="http://127.0.0.1:9/api/v10")
    adapter = DiscordAdapter(settings, connect_gateway=False)
    try:
        with pytest.raises(PlatformStartError) as raised:
            await adapter.start(object())  # type: ignore[arg-type]
    finally:
        await adapter.stop()
    assert str(raised.value).startswith("cannot reach Discord at http://127.0.0.1:9/api/v10")
    assert Route.BASE == "https://discord.com/api/v10"  # restored


async def test_discord_api_url_points_the_library_at_another_server(sqlite_demo_url: str) -> None:
    async with FakeDiscord() as fake:  # not routed: only the setting leads there
        harness = await DiscordHarness.start(fake, sqlite_demo_url, discord_api_url=fake.api_base)
        try:
            assert fake.recorded("GET /users/@me") and harness.adapter.client.user is not None
        finally:
            await harness.stop()
    assert Route.BASE == "https://discord.com/api/v10"


async def test_a_missing_message_content_intent_stops_the_start_with_a_clear_line(
        fake_discord: FakeDiscord, sqlite_demo_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refused(self: discord.Client, *, reconnect: bool = True) -> None:
        # What discord.py raises when Discord closes the gateway with code 4014.
        raise discord.PrivilegedIntentsRequired(shard_id=None)

    monkeypatch.setattr(discord.Client, "connect", refused)
    settings = Settings(_env_file=None, database_url=sqlite_demo_url, discord_token=fake_discord.token)
    adapter = DiscordAdapter(settings, connect_gateway=True)
    from bot.app import create_bot
    from bot.clock import ManualClock

    bot = await create_bot(settings, database_url=sqlite_demo_url, clock=ManualClock(START), migrate=False)
    bot.add_adapter(adapter)
    try:
        with pytest.raises(PlatformStartError) as raised:
            await bot.start(run_scheduler=False)
        assert "MESSAGE CONTENT INTENT" in str(raised.value)
    finally:
        await bot.stop()
        await bot.db.dispose()


async def test_icc_bot_run_with_a_bad_token_fails_with_one_line(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "SLACK_", "DEEPL_"))}
    env.update({"DISCORD_TOKEN": BAD_TOKEN, "DISCORD_API_URL": fake_discord.api_base,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}", "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(ROOT)})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1
    assert lines == ["error: Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot's token again from "
                     "the Developer Portal (your application → Bot → Reset Token)"]
    assert BAD_TOKEN not in stdout.decode() + stderr.decode()


def test_the_invite_asks_for_exactly_the_permissions_used() -> None:
    assert permissions().value == PERMISSIONS == 311922117696
    assert invite_url("1100000000000000001") == (
        "https://discord.com/oauth2/authorize?client_id=1100000000000000001&scope=bot+applications.commands"
        f"&permissions={PERMISSIONS}")


async def test_check_prints_the_invite_url_of_the_application(fake_discord: FakeDiscord, sqlite_url: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(_env_file=None, database_url=sqlite_url, discord_token=fake_discord.token,
                        discord_api_url=fake_discord.api_base)
    assert await _check(settings) == 0
    out = capsys.readouterr().out
    assert f"client_id={fake_discord.application_id}&scope=bot+applications.commands&permissions={PERMISSIONS}" in out
    assert "application 'ICC Bot'" in out and "MESSAGE CONTENT on" in out
    assert fake_discord.token not in out


async def test_check_explains_without_a_token_and_refuses_a_bad_one(fake_discord: FakeDiscord, sqlite_url: str,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert await _check(Settings(_env_file=None, database_url=sqlite_url)) == 0
    out = capsys.readouterr().out
    assert "discord   not configured (set DISCORD_TOKEN" in out
    assert f"client_id=<APPLICATION_ID>&scope=bot+applications.commands&permissions={PERMISSIONS}" in out
    bad = Settings(_env_file=None, database_url=sqlite_url, discord_token=BAD_TOKEN,
                   discord_api_url=fake_discord.api_base)
    assert await _check(bad) == 1
    out = capsys.readouterr().out
    assert "DISCORD_TOKEN refused by Discord" in out and BAD_TOKEN not in out
