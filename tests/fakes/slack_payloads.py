"""Builders for what Slack really sends to an app, plus request signing for bolt.

Shapes follow Slack's Events API and interaction payload references (and the payloads in
slack_bolt's own test-suite). Defaults match ``FakeSlack``'s default workspace, so an event
built here is authorised by ``auth.test`` against the fake.

Typical use::

    env = event_callback(message_event("C0GROUP01", "bonjour", user="U0ALICE01"))
    resp = await app.async_dispatch(bolt_request(SECRET, env))
    assert resp.status == 200

Events are JSON; slash commands are a raw urlencoded body; block actions, view submissions
and shortcuts are ``payload=<urlencoded JSON>``. ``bolt_request`` picks the right encoding.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import quote, urlencode

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

TEAM_ID = "T0ICC0001"
TEAM_DOMAIN = "icc-network"
APP_ID = "A0ICC0001"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
USER_ID = "U0ALICE01"

_counter = itertools.count(1)


def next_ts() -> str:
    """A unique, increasing Slack timestamp for messages the *user* side creates."""
    micros = 1_700_000_500_000_000 + 100 * next(_counter)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _id(prefix: str) -> str:
    return f"{prefix}{next(_counter):08d}"


# -- Events API ----------------------------------------------------------------------
def event_callback(
    event: dict[str, Any],
    *,
    team_id: str = TEAM_ID,
    api_app_id: str = APP_ID,
    event_id: str | None = None,
    event_time: int | None = None,
    bot_user_id: str = BOT_USER_ID,
    enterprise_id: str | None = None,
) -> dict[str, Any]:
    """The ``event_callback`` envelope; reuse ``event_id`` to emulate a Slack retry."""
    return {
        "token": "verification-token",
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": enterprise_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or _id("Ev"),
        "event_time": event_time or int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{_id('ctx')}",
    }


def message_event(
    channel: str,
    text: str,
    *,
    user: str | None = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
    team: str = TEAM_ID,
    subtype: str | None = None,
    bot_id: str | None = None,
    username: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    files: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` event. ``thread_ts`` makes it a thread reply."""
    ts = ts or next_ts()
    event: dict[str, Any] = {"type": "message", "channel": channel, "text": text, "ts": ts, "event_ts": ts}
    event.update({"channel_type": channel_type, "team": team})
    if subtype:
        event["subtype"] = subtype
    if user:
        event["user"] = user
    if bot_id:
        event["bot_id"] = bot_id
    if username:
        event["username"] = username
    if thread_ts:
        event["thread_ts"] = thread_ts
        event["parent_user_id"] = extra.pop("parent_user_id", USER_ID)
    if subtype is None and user and not bot_id:
        event["client_msg_id"] = f"{next(_counter):08x}-0000-4000-8000-000000000000"
        event["blocks"] = blocks or [_rich_text(text)]
    elif blocks:
        event["blocks"] = blocks
    if files is not None:
        event["files"] = files
        event["upload"] = False
        event["display_as_bot"] = False
    event.update(extra)
    return event


def bot_message_event(
    channel: str, text: str, *, bot_id: str = BOT_ID, username: str | None = None, **kw: Any
) -> dict[str, Any]:
    """A post made by a bot (e.g. our own relay): ``subtype: bot_message`` with ``bot_id``."""
    icons = {"image_48": "https://example.org/avatar.png"} if username else None
    event = message_event(channel, text, user=None, subtype="bot_message", bot_id=bot_id, username=username, **kw)
    if icons:
        event.setdefault("icons", icons)
    return event


def file_object(
    name: str,
    *,
    file_id: str | None = None,
    team_id: str = TEAM_ID,
    user: str = USER_ID,
    mimetype: str = "application/pdf",
    size: int = 1234,
) -> dict[str, Any]:
    file_id = file_id or _id("F")
    ext = name.rsplit(".", 1)[-1] if "." in name else "binary"
    return {
        "id": file_id,
        "created": int(time.time()),
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "filetype": ext,
        "user": user,
        "size": size,
        "mode": "hosted",
        "is_external": False,
        "is_public": True,
        "url_private": f"https://files.slack.com/files-pri/{team_id}-{file_id}/{name}",
        "url_private_download": f"https://files.slack.com/files-pri/{team_id}-{file_id}/download/{name}",
        "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{user}/{file_id}/{name}",
    }


def file_share_event(channel: str, text: str, files: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return message_event(channel, text, subtype="file_share", files=files, **kw)


def message_changed_event(
    channel: str,
    message: dict[str, Any],
    previous_message: dict[str, Any],
    *,
    ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """``message_changed``: ``message`` is the new version (gets an ``edited`` stamp)."""
    ts = ts or next_ts()
    message = {k: v for k, v in message.items() if k not in ("channel", "event_ts", "channel_type")}
    message.setdefault("edited", {"user": message.get("user", USER_ID), "ts": ts})
    previous = {k: v for k, v in previous_message.items() if k not in ("channel", "event_ts", "channel_type")}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        "message": message,
        "previous_message": previous,
    }


def message_deleted_event(
    channel: str,
    deleted_ts: str,
    previous_message: dict[str, Any],
    *,
    ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    ts = ts or next_ts()
    previous = {k: v for k, v in previous_message.items() if k not in ("channel", "event_ts", "channel_type")}
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": channel,
        "ts": ts,
        "event_ts": ts,
        "deleted_ts": deleted_ts,
        "channel_type": channel_type,
        "previous_message": previous,
    }


def reaction_added_event(
    reaction: str, channel: str, ts: str, *, user: str = USER_ID, item_user: str | None = None
) -> dict[str, Any]:
    """e.g. ``reaction_added_event("flag-fr", "C0GROUP01", msg_ts)``."""
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item_user": item_user or USER_ID,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": next_ts(),
    }


def app_home_opened_event(user: str, channel: str, *, view: dict[str, Any] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home"}
    event["event_ts"] = next_ts()
    if view is not None:
        event["view"] = view
    return event


def _rich_text(text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "block_id": _id("b")[-5:],
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


# -- Slash commands and interactivity --------------------------------------------------
def slash_command_body(
    text: str,
    *,
    command: str = "/icc",
    user_id: str = USER_ID,
    user_name: str = "alice",
    channel_id: str = "C0GROUP01",
    channel_name: str = "anti-rumours",
    team_id: str = TEAM_ID,
    team_domain: str = TEAM_DOMAIN,
    response_url: str = "https://hooks.slack.com/commands/T0ICC0001/1/x",
    trigger_id: str | None = None,
    api_app_id: str = APP_ID,
) -> str:
    """The raw ``application/x-www-form-urlencoded`` body Slack posts for ``/icc <text>``."""
    return urlencode(
        {
            "token": "verification-token",
            "team_id": team_id,
            "team_domain": team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id or f"{next(_counter)}.{next(_counter)}.trigger",
        }
    )


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def button_action(action_id: str, value: str = "", *, block_id: str = "actions", text: str = "") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text or action_id, "emoji": True},
        "value": value,
        "action_ts": next_ts(),
    }


def block_actions_payload(
    actions: list[dict[str, Any]],
    *,
    user_id: str = USER_ID,
    channel_id: str = "C0GROUP01",
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    response_url: str = "https://hooks.slack.com/actions/T0ICC0001/1/x",
    team_id: str = TEAM_ID,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload from a message (default) or, with ``view``, from a modal/home."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "trigger_id": f"{next(_counter)}.{next(_counter)}.trigger",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": state or {}},
        "actions": actions,
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0000001")}
        payload["view"] = view
    else:
        message = message or {"type": "message", "ts": next_ts(), "text": "", "bot_id": BOT_ID}
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel_id, "name": "channel"}
        payload["message"] = message
        payload["response_url"] = response_url
    return payload


# view_submission state.values elements, keyed {block_id: {action_id: <one of these>}}
def text_input_value(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def static_select_value(value: str | None, text: str | None = None) -> dict[str, Any]:
    option = None if value is None else _option(value, text)
    return {"type": "static_select", "selected_option": option}


def multi_static_select_value(values: list[str] | list[tuple[str, str]]) -> dict[str, Any]:
    options = [_option(v, None) if isinstance(v, str) else _option(v[0], v[1]) for v in values]
    return {"type": "multi_static_select", "selected_options": options}


def datepicker_value(date: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": date}


def _option(value: str, text: str | None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    *,
    private_metadata: str = "",
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    view_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    title: str = "ICC",
) -> dict[str, Any]:
    """A modal ``view_submission``; ``values`` is Slack's ``state.values`` (use the *_value helpers)."""
    view_id = view_id or _id("V")
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": "verification-token",
        "trigger_id": f"{next(_counter)}.{next(_counter)}.trigger",
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(time.time())}.abcdEFGH",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": BOT_ID,
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_action_payload(
    callback_id: str,
    message: dict[str, Any],
    *,
    channel_id: str = "C0GROUP01",
    channel_name: str = "anti-rumours",
    user_id: str = USER_ID,
    team_id: str = TEAM_ID,
    response_url: str = "https://hooks.slack.com/app/T0ICC0001/1/x",
) -> dict[str, Any]:
    """A message shortcut (``message_action``) on ``message`` (e.g. a ``message_event``)."""
    message = {k: v for k, v in message.items() if k not in ("channel", "event_ts", "channel_type")}
    return {
        "type": "message_action",
        "token": "verification-token",
        "action_ts": next_ts(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "name": user_id.lower()},
        "channel": {"id": channel_id, "name": channel_name},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": f"{next(_counter)}.{next(_counter)}.trigger",
        "message_ts": message["ts"],
        "message": message,
        "response_url": response_url,
    }


# -- Encoding and signing ----------------------------------------------------------------
def encode_body(body: dict[str, Any] | str) -> tuple[str, str]:
    """(raw body, content type) as Slack would send ``body``."""
    if isinstance(body, str):
        return body, "application/x-www-form-urlencoded"
    if body.get("type") in ("event_callback", "url_verification", "app_rate_limited"):
        return json.dumps(body), "application/json"
    return "payload=" + quote(json.dumps(body)), "application/x-www-form-urlencoded"


def signed_headers(
    signing_secret: str,
    body: str,
    *,
    content_type: str = "application/json",
    timestamp: int | None = None,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
) -> dict[str, str]:
    """Headers Slack sends: ``x-slack-signature`` over ``v0:<ts>:<body>``, optional retry headers."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=body),
    }
    if retry_num is not None:
        headers["x-slack-retry-num"] = str(retry_num)
        headers["x-slack-retry-reason"] = retry_reason
    return headers


def bolt_request(
    signing_secret: str,
    body: dict[str, Any] | str,
    *,
    retry_num: int | None = None,
    retry_reason: str = "http_timeout",
    timestamp: int | None = None,
) -> AsyncBoltRequest:
    """A signed HTTP-mode request for ``await app.async_dispatch(...)``.

    ``body``: an envelope/payload dict (encoded as Slack does) or a raw urlencoded string
    (e.g. ``slash_command_body(...)``). Sign with a wrong secret to get bolt's 401.
    """
    raw, content_type = encode_body(body)
    headers = signed_headers(
        signing_secret,
        raw,
        content_type=content_type,
        timestamp=timestamp,
        retry_num=retry_num,
        retry_reason=retry_reason,
    )
    return AsyncBoltRequest(body=raw, headers=dict(headers))


def socket_mode_request(body: dict[str, Any]) -> AsyncBoltRequest:
    """A Socket Mode delivery (no signature): the envelope/payload dict itself."""
    return AsyncBoltRequest(body=body, mode="socket_mode")
