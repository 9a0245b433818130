"""Starting Slack for real: token checks at start-up, the HTTP mode server, the CLI's one line."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import create_bot
from bot.clock import ManualClock
from bot.events import MessagePosted
from bot.outbound import PlatformStartError
from bot.platforms.slack import SlackAdapter, create_adapter
from bot.settings import Settings
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.slack_payloads import encode_body, event_callback, message_event, signed_headers
from tests.harness import START
from tests.platforms.slack.conftest import SECRET
from tests.test_cli import icc_bot


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def started(adapter: SlackAdapter, database_url: str) -> Any:
    bot = await create_bot(Settings(_env_file=None, database_url=database_url), database_url=database_url,
                           clock=ManualClock(START), migrate=False)
    bot.add_adapter(adapter)
    await bot.start(run_scheduler=False)
    return bot


async def test_a_refused_token_is_one_clear_line_without_the_token(fake_slack: FakeSlack, sqlite_url: str) -> None:
    adapter = SlackAdapter(["xoxb-test", "xoxb-revoked-9999"], signing_secret=SECRET, api_url=fake_slack.api_url,
                           listen=False)
    with pytest.raises(PlatformStartError) as caught:
        await started(adapter, sqlite_url)
    message = str(caught.value)
    assert "bot token 2 of SLACK_BOT_TOKEN" in message and "invalid_auth" in message
    assert "xoxb" not in message and "\n" not in message


async def test_unreachable_slack_is_one_clear_line(sqlite_url: str) -> None:
    api = f"http://127.0.0.1:{closed_port()}/api/"
    adapter = SlackAdapter(["xoxb-test"], signing_secret=SECRET, api_url=api, listen=False)
    with pytest.raises(PlatformStartError, match="unreachable") as caught:
        await started(adapter, sqlite_url)
    assert api in str(caught.value)


async def test_http_mode_serves_events_and_health_and_refuses_forgeries(fake_slack: FakeSlack, sqlite_url: str) -> None:
    adapter = SlackAdapter(["xoxb-test"], signing_secret=SECRET, api_url=fake_slack.api_url, port=0, host="127.0.0.1")
    bot = await started(adapter, sqlite_url)
    seen: list[MessagePosted] = []

    async def record(event: MessagePosted) -> None:
        seen.append(event)

    bot.on(MessagePosted, record)
    base = f"http://127.0.0.1:{adapter.bound_port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 200 and (await health.json())["workspaces"] == 1
            challenge = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
            async with http.post(f"{base}/slack/events", data=challenge,
                                 headers=signed_headers(SECRET, challenge)) as answer:
                assert answer.status == 200 and "c-123" in await answer.text()
            raw, content_type = encode_body(event_callback(message_event("C0RUMOURS", "over HTTP", user="U0X")))
            async with http.post(f"{base}/slack/events", data=raw,
                                 headers=signed_headers("wrong-secret", raw, content_type=content_type)) as forged:
                assert forged.status == 401
            async with http.post(f"{base}/slack/events", data=raw,
                                 headers=signed_headers(SECRET, raw, content_type=content_type)) as genuine:
                assert genuine.status == 200
        # The acknowledgement left after the core had the message (process_before_response).
        assert [event.text for event in seen] == ["over HTTP"]
    finally:
        await bot.stop()
        await bot.db.dispose()


async def test_http_mode_on_a_busy_port_says_so(fake_slack: FakeSlack, sqlite_url: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        adapter = SlackAdapter(["xoxb-test"], signing_secret=SECRET, api_url=fake_slack.api_url,
                               port=busy.getsockname()[1], host="127.0.0.1")
        with pytest.raises(PlatformStartError, match="cannot listen on port"):
            await started(adapter, sqlite_url)


def test_settings_choose_the_mode_and_split_several_tokens() -> None:
    settings = Settings(_env_file=None, slack_bot_token="xoxb-a, xoxb-b", slack_signing_secret="s",
                        slack_api_url="http://127.0.0.1:9/api", port=4000)
    adapter = create_adapter(settings)
    assert adapter.mode == "http" and adapter.bot_tokens == ["xoxb-a", "xoxb-b"] and adapter.port == 4000
    assert adapter.api_url == "http://127.0.0.1:9/api/"
    assert {"xoxb-a", "xoxb-b"} <= set(settings.secrets())
    socket_settings = Settings(_env_file=None, slack_bot_token="xoxb-a", slack_app_token="xapp-1")
    assert create_adapter(socket_settings).mode == "socket"


def test_icc_bot_run_without_reachable_slack_fails_with_one_line(tmp_path: Path) -> None:
    token = "xoxb-1234-5678-supersecret"
    result = icc_bot("run", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "SLACK_BOT_TOKEN": token,
                                 "SLACK_SIGNING_SECRET": "signing-secret-value",
                                 "SLACK_API_URL": f"http://127.0.0.1:{closed_port()}/api/"}, cwd=tmp_path)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    # At the default INFO level the start-up is logged; the failure itself is one line, and the last.
    errors = [line for line in lines if line.startswith("error:") or " ERROR " in line or "Traceback" in line]
    assert errors == [lines[-1]], lines
    assert lines[-1].startswith("error: Slack is unreachable at http://127.0.0.1:")
    assert token not in result.stderr and "signing-secret-value" not in result.stderr


async def test_socket_mode_receives_an_event_and_acknowledges_after_storing(fake_slack: FakeSlack,
                                                                            sqlite_url: str) -> None:
    fake_slack.enable_socket_mode("xapp-test")
    adapter = SlackAdapter(["xoxb-test"], app_token="xapp-test", api_url=fake_slack.api_url)
    bot = await started(adapter, sqlite_url)
    order: list[str] = []

    async def store(event: MessagePosted) -> None:
        order.append(f"stored {event.text}")

    bot.on(MessagePosted, store)
    try:
        await fake_slack.wait_connected()
        body = event_callback(message_event("C0RUMOURS", "over the socket", user="U0X"), event_id="Ev0S1")
        first = await fake_slack.send_envelope(body)
        ack = await fake_slack.wait_ack(first)
        order.append("acknowledged")
        retry = await fake_slack.send_envelope(body, retry_attempt=1, retry_reason="timeout")
        await fake_slack.wait_ack(retry)
        assert ack == {"envelope_id": first}
        assert order == ["stored over the socket", "acknowledged"]  # once, and before the ack
    finally:
        await bot.stop()
        await bot.db.dispose()


async def test_socket_mode_with_a_wrong_app_token_is_one_clear_line(fake_slack: FakeSlack, sqlite_url: str) -> None:
    adapter = SlackAdapter(["xoxb-test"], app_token="xoxb-test", api_url=fake_slack.api_url)
    with pytest.raises(PlatformStartError, match=r"refused SLACK_APP_TOKEN \(not_allowed_token_type\)"):
        await started(adapter, sqlite_url)
