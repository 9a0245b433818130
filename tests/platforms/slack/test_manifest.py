"""The Slack app manifests ask for exactly what the adapter uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.slack.adapter import COMMAND, TRANSLATE_SHORTCUT

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "slack"
# Web API methods the adapter calls → the bot scope each needs.
SCOPES_USED = {
    "chat.postMessage": "chat:write", "chat.update": "chat:write", "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write", "username/icon_url": "chat:write.customize",
    "users.info": "users:read", "conversations.info": "channels:read", "conversations.history": "channels:history",
    "conversations.replies": "channels:history", "conversations.open": "im:write", "/icc": "commands",
    "private channels": "groups:history", "reaction_added": "reactions:read", "files.upload (v2)": "files:write",
}
EVENTS_HANDLED = {"message.channels", "message.groups", "reaction_added", "app_home_opened", "app_uninstalled",
                  "tokens_revoked"}


def manifest(name: str) -> dict[str, Any]:
    return json.loads((DEPLOY / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["manifest.json", "manifest-http.json"])
def test_manifest_matches_the_adapter(name: str) -> None:
    app = manifest(name)
    assert set(SCOPES_USED.values()) <= set(app["oauth_config"]["scopes"]["bot"])
    assert set(app["settings"]["event_subscriptions"]["bot_events"]) == EVENTS_HANDLED
    [command] = app["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is True  # mentions arrive as <@U…>
    [shortcut] = app["features"]["shortcuts"]
    assert shortcut["type"] == "message" and shortcut["callback_id"] == TRANSLATE_SHORTCUT
    assert app["features"]["app_home"]["home_tab_enabled"] and app["settings"]["interactivity"]["is_enabled"]
    assert len(app["display_information"]["description"]) <= 139
    assert 175 <= len(app["display_information"]["long_description"]) <= 4000


def test_socket_mode_and_http_mode_variants() -> None:
    socket, http = manifest("manifest.json"), manifest("manifest-http.json")
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket["settings"]["interactivity"]
    assert http["settings"]["socket_mode_enabled"] is False
    urls = {http["features"]["slash_commands"][0]["url"], http["settings"]["event_subscriptions"]["request_url"],
            http["settings"]["interactivity"]["request_url"]}
    assert urls == {"https://YOUR-HOST/slack/events"}
    for variant in (socket, http):  # the rest is identical
        variant["settings"].pop("socket_mode_enabled")
    http["features"]["slash_commands"][0].pop("url")
    http["settings"]["event_subscriptions"].pop("request_url")
    http["settings"]["interactivity"].pop("request_url")
    assert socket == http
