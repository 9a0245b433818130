"""Self-tests: the real slack_sdk / slack_bolt against FakeSlack."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_payloads as sp
from tests.fakes.fake_slack import FakeSlack
from tests.fakes.pacing import ChannelPacing, injected

SECRET = "test-signing-secret"
TOKEN = "xoxb-test"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(TOKEN) as fake:
        fake.add_user("U0ALICE01", "alice", real_name="Alice Martin", display_name="alice", locale="fr-FR")
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url)


async def test_auth_test_and_multiple_workspaces(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.add_workspace("xoxb-other", team_id="T0OTHER01", user_id="U0BOT0002", bot_id="B0BOT0002")
    me = await client.auth_test()
    assert (me["team_id"], me["user_id"], me["bot_id"]) == ("T0ICC0001", "U0BOT0001", "B0BOT0001")
    assert me["url"] == "https://icc-network.slack.com/"
    other = await AsyncWebClient(token="xoxb-other", base_url=slack.api_url).auth_test()
    assert other["team_id"] == "T0OTHER01"
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"
    assert len(slack.calls("auth.test", token="xoxb-other")) == 1


async def test_post_update_delete_and_channel_state(slack: FakeSlack, client: AsyncWebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    first = await client.chat_postMessage(
        channel="C1", text="hello", username="Alice (Lyon)", icon_url="https://x/a.png", blocks=blocks
    )
    second = await client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["username"] == "Alice (Lyon)"
    assert first["message"]["subtype"] == "bot_message"
    assert first["message"]["icons"]["image_48"] == "https://x/a.png"
    assert first["message"]["blocks"] == blocks
    assert slack.params("chat.postMessage")[0]["blocks"] == blocks  # JSON body, parsed
    assert slack.calls("chat.postMessage")[0].headers["Authorization"] == f"Bearer {TOKEN}"

    await client.chat_update(channel="C1", ts=first["ts"], text="hello (edited)")
    assert [m["text"] for m in slack.messages("C1")] == ["hello (edited)", "reply"]
    assert slack.message("C1", first["ts"])["reply_count"] == 1  # type: ignore[index]
    assert [m["text"] for m in slack.thread("C1", first["ts"])] == ["reply"]

    await client.chat_delete(channel="C1", ts=second["ts"])  # sent as a query string
    assert [m["text"] for m in slack.messages("C1")] == ["hello (edited)"]
    with pytest.raises(SlackApiError) as err:
        await client.chat_delete(channel="C1", ts=second["ts"])
    assert err.value.response["error"] == "message_not_found"

    # A form-encoded call (JSON-encoded blocks inside) is parsed the same way.
    await client.api_call("chat.postMessage", data={"channel": "C2", "text": "form", "blocks": json.dumps(blocks)})
    assert slack.messages("C2")[0]["blocks"] == blocks

    link = await client.chat_getPermalink(channel="C1", message_ts=first["ts"])
    assert link["permalink"].startswith("https://icc-network.slack.com/archives/C1/p")
    eph = await client.chat_postEphemeral(channel="C1", user="U0ALICE01", text="only you")
    assert slack.ephemerals[0]["text"] == "only you" and eph["message_ts"]
    await client.reactions_add(channel="C1", timestamp=first["ts"], name="flag-fr")
    assert slack.message("C1", first["ts"])["reactions"][0]["name"] == "flag-fr"  # type: ignore[index]


async def test_limits_give_honest_errors(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert err.value.response["error"] == "msg_too_long"
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(
            channel="C1",
            text="t",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        )
    assert err.value.response["error"] == "invalid_blocks"


async def test_users_conversations_views_team_bots(slack: FakeSlack, client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0ALICE01", include_locale=True))["user"]
    assert user["profile"]["display_name"] == "alice" and user["locale"] == "fr-FR"
    assert user["tz"] == "Europe/Paris" and user["profile"]["image_192"]
    assert "locale" not in (await client.users_info(user="U0ALICE01"))["user"]
    dm = await client.conversations_open(users="U0ALICE01")
    assert dm["channel"]["id"].startswith("D")
    assert (await client.conversations_open(users="U0ALICE01"))["already_open"] is True
    slack.add_channel("C0GROUP01", "anti-rumours")
    info = await client.conversations_info(channel="C0GROUP01")
    assert info["channel"]["name"] == "anti-rumours"
    assert (await client.conversations_info(channel=dm["channel"]["id"]))["channel"]["is_im"] is True

    view = {"type": "modal", "callback_id": "practice_add", "title": {"type": "plain_text", "text": "Add"}}
    opened = await client.views_open(trigger_id="1.2.trigger", view=view)
    assert opened["view"]["callback_id"] == "practice_add" and opened["view"]["id"].startswith("V")
    updated = await client.views_update(view_id=opened["view"]["id"], view={**view, "private_metadata": "m"})
    assert slack.views[updated["view"]["id"]]["private_metadata"] == "m"
    await client.views_push(trigger_id="1.3.trigger", view=view)
    await client.views_publish(user_id="U0ALICE01", view={"type": "home", "blocks": []})
    assert (await client.team_info())["team"]["domain"] == "icc-network"
    assert (await client.bots_info(bot="B0BOT0001"))["bot"]["user_id"] == "U0BOT0001"
    with pytest.raises(SlackApiError):
        await client.api_call("chat.nonsense")
    assert slack.calls("chat.nonsense")[0].status == 200


async def test_faults_and_latency(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.error_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C404", text="x")
    assert err.value.response["error"] == "channel_not_found"

    slack.fail_next("chat.postMessage", 429, {"Retry-After": "7"})
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"

    slack.set_latency("users.*", 0.05)
    started = time.monotonic()
    await client.users_info(user="U0ALICE01")
    assert time.monotonic() - started >= 0.05
    started = time.monotonic()
    await client.team_info()
    assert time.monotonic() - started < 0.05


async def test_429_honoured_by_slack_sdk_retry_handler(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    # The handler sleeps int(Retry-After) + random(); pin random() so the test stays fast.
    monkeypatch.setattr(random, "random", lambda: 0.05)
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    slack.fail_next("chat.postMessage", 429, {"Retry-After": "0"})
    resp = await client.chat_postMessage(channel="C1", text="after retry")
    assert resp["ok"]
    first, second = slack.calls("chat.postMessage")
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 0.05
    assert len(slack.messages("C1")) == 1


async def test_per_channel_rate_limit(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_rate_limit(2, retry_after=0)
    await client.chat_postMessage(channel="C1", text="1")
    await client.chat_postMessage(channel="C1", text="2")
    await client.chat_postMessage(channel="C2", text="other channel is fine")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="3")
    assert err.value.response.status_code == 429 and err.value.response["error"] == "ratelimited"


async def test_channel_pacing_one_post_a_second_and_seeded_429s(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.set_channel_pacing(ChannelPacing(interval=1.0, channels={"C1"}))
    await client.chat_postMessage(channel="C1", text="1")
    await client.chat_postMessage(channel="C2", text="not paced")
    await client.chat_postMessage(channel="C2", text="not paced either")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="too soon")
    assert err.value.response.status_code == 429 and err.value.response.headers["Retry-After"] == "1"
    assert [m["text"] for m in slack.messages("C1")] == ["1"]

    # Every attempt refused when the share is 1: the same seed refuses the same attempts.
    slack.set_channel_pacing(ChannelPacing(share_429=1.0, seed=3, injected_retry_after=2.0))
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C3", text="refused")
    assert err.value.response.headers["Retry-After"] == "2"
    assert injected(3, "slack", "C3", 1, 1.0) and not injected(3, "slack", "C3", 1, 0.0)


def _app(client: AsyncWebClient, seen: list[Any]) -> AsyncApp:
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=True)

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        seen.append(event)
        await say(f"echo: {event['text']}")

    @app.command("/icc")
    async def on_command(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        await ack()
        await respond(f"you said {command['text']}")

    @app.view("practice_add")
    async def on_view(ack: Any, view: dict[str, Any]) -> None:
        seen.append(view["state"]["values"])
        await ack()

    @app.action("done")
    async def on_action(ack: Any, body: dict[str, Any]) -> None:
        seen.append(body["actions"][0]["value"])
        await ack()

    @app.shortcut("translate")
    async def on_shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        seen.append(shortcut["message"]["text"])
        await ack()

    return app


async def test_bolt_dispatch_signed_requests(slack: FakeSlack, client: AsyncWebClient) -> None:
    seen: list[Any] = []
    app = _app(client, seen)
    event = sp.message_event("C0GROUP01", "bonjour", user="U0ALICE01")
    resp = await app.async_dispatch(sp.bolt_request(SECRET, sp.event_callback(event)))
    assert resp.status == 200
    assert seen[0]["text"] == "bonjour"
    assert [m["text"] for m in slack.messages("C0GROUP01")] == ["echo: bonjour"]
    assert len(slack.calls("auth.test")) == 1

    bad = await app.async_dispatch(sp.bolt_request("wrong-secret", sp.event_callback(event)))
    assert bad.status == 401

    url = slack.new_response_url()
    resp = await app.async_dispatch(sp.bolt_request(SECRET, sp.slash_command_body("help", response_url=url)))
    assert resp.status == 200
    assert slack.responses_to(url)[0]["text"] == "you said help"

    values = {
        "title": {"title": sp.text_input_value("Anti-rumour café")},
        "topics": {"topics": sp.multi_static_select_value([("anti-rumours", "Anti-rumours")])},
        "city": {"city": sp.static_select_value("lyon", "Lyon")},
    }
    payload = sp.view_submission_payload("practice_add", values, private_metadata="C0GROUP01")
    assert (await app.async_dispatch(sp.bolt_request(SECRET, payload))).status == 200
    assert seen[-1]["city"]["city"]["selected_option"]["value"] == "lyon"

    action = sp.block_actions_payload([sp.button_action("done", "deadline-7")])
    assert (await app.async_dispatch(sp.bolt_request(SECRET, action))).status == 200
    assert seen[-1] == "deadline-7"

    shortcut = sp.message_action_payload("translate", sp.message_event("C0GROUP01", "hola"))
    assert (await app.async_dispatch(sp.bolt_request(SECRET, shortcut))).status == 200
    assert seen[-1] == "hola"

    retried = sp.bolt_request(SECRET, sp.event_callback(event, event_id="Ev1"), retry_num=1)
    assert retried.headers["x-slack-retry-num"] == ["1"]


async def test_payload_shapes() -> None:
    parent = sp.message_event("C1", "original", ts="1700000600.000100")
    changed = sp.message_changed_event("C1", {**parent, "text": "edited"}, parent)
    assert changed["message"]["edited"] and changed["previous_message"]["text"] == "original"
    deleted = sp.message_deleted_event("C1", parent["ts"], parent)
    assert deleted["deleted_ts"] == parent["ts"]
    reply = sp.message_event("C1", "in thread", thread_ts=parent["ts"])
    assert reply["thread_ts"] == parent["ts"]
    bot = sp.bot_message_event("C1", "relayed", username="Bob (Oslo)")
    assert bot["subtype"] == "bot_message" and bot["bot_id"] == sp.BOT_ID and "user" not in bot
    files = sp.file_share_event("C1", "see", [sp.file_object("report.pdf")])
    assert files["files"][0]["url_private"].endswith("/report.pdf")
    reaction = sp.reaction_added_event("flag-fr", "C1", parent["ts"])
    assert reaction["item"] == {"type": "message", "channel": "C1", "ts": parent["ts"]}
    envelope = sp.event_callback(sp.app_home_opened_event("U1", "D1"))
    assert envelope["authorizations"][0]["user_id"] == sp.BOT_USER_ID
