"""What the bot needs from Discord: gateway intents, channel permissions, the invite link."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def gateway_intents() -> discord.Intents:
    """Servers and their channels, messages, reactions; MESSAGE CONTENT (privileged: switch it on
    in the Developer Portal) to read what people write. No member list or presence is needed."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.guild_reactions = True
    intents.message_content = True
    return intents


def permissions() -> discord.Permissions:
    """Exactly what the bot uses, and nothing more."""
    return discord.Permissions(
        view_channel=True,             # see the linked channels
        send_messages=True,            # answers, reminders, broadcasts
        send_messages_in_threads=True,  # relayed thread replies, flag translations
        create_public_threads=True,    # a thread under a relayed message for its replies
        read_message_history=True,     # read the message a flag reaction is on
        manage_webhooks=True,          # relay under each author's name and picture
        add_reactions=True,
        embed_links=True,              # originals and footnotes in embeds
        attach_files=True,
        use_application_commands=True,
    )


def invite_url(application_id: int | str) -> str:
    return discord.utils.oauth_url(int(application_id), permissions=permissions(), scopes=SCOPES)
