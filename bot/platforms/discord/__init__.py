"""Discord: a discord.py client with the `/icc` app commands, relays through webhooks, flag
and context-menu translations, modals and persistent buttons. See README, "Discord setup"."""

from __future__ import annotations

from bot.platforms.discord.adapter import DiscordAdapter
from bot.settings import Settings


def create_adapter(settings: Settings) -> DiscordAdapter:
    return DiscordAdapter(settings)


__all__ = ["DiscordAdapter", "create_adapter"]
