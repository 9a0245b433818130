"""Slack: slack-bolt's AsyncApp in Socket Mode (SLACK_APP_TOKEN) or HTTP mode (SLACK_SIGNING_SECRET).

`create_adapter(settings)` is what `bot.app` calls when Slack is configured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.platforms.slack.adapter import TRANSLATE_SHORTCUT, SlackAdapter, SlackResponder

if TYPE_CHECKING:
    from bot.settings import Settings


def create_adapter(settings: Settings) -> SlackAdapter:
    return SlackAdapter.from_settings(settings)


__all__ = ["TRANSLATE_SHORTCUT", "SlackAdapter", "SlackResponder", "create_adapter"]
