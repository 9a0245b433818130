"""What the bot needs from Discord: gateway intents, channel permissions, the invite link."""

from __future__ import annotations

import aiohttp
import discord
from discord.http import Route

from bot.settings import Settings

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


async def check_lines(settings: Settings) -> tuple[bool, list[str]]:
    """What `icc-bot check` says about Discord: the application, the invite link with the exact
    permissions, and whether the privileged MESSAGE CONTENT intent is switched on."""
    template = invite_url(0).replace("client_id=0", "client_id=<APPLICATION_ID>")
    if settings.discord_token is None:
        return True, ["not configured (set DISCORD_TOKEN: README, Discord setup)",
                      f"invite: {template}"]
    previous = Route.BASE
    if settings.discord_api_url:
        Route.BASE = settings.discord_api_url.rstrip("/")
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(settings.discord_token.get_secret_value())
        application = await client.application_info()
    except discord.LoginFailure:
        return False, ["DISCORD_TOKEN refused by Discord (401 Unauthorized): copy the bot token again "
                       "(Developer Portal → your application → Bot → Reset Token)", f"invite: {template}"]
    except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
        return False, [f"cannot reach Discord at {Route.BASE} ({type(error).__name__})", f"invite: {template}"]
    finally:
        await client.close()
        Route.BASE = previous
    flags = application.flags
    content = flags.gateway_message_content or flags.gateway_message_content_limited
    guilds = settings.discord_guilds
    lines = [f"configured: application {application.name!r} ({application.id})",
             f"invite: {invite_url(application.id)}",
             f"        scopes {' '.join(SCOPES)}, permissions {permissions().value}",
             "intents: MESSAGE CONTENT on" if content else
             "intents: MESSAGE CONTENT is OFF: switch it on (Developer Portal → Bot → Privileged Gateway Intents), "
             "or the bot cannot read messages to relay them",
             f"commands: registered in server(s) {', '.join(map(str, guilds))} at start (DISCORD_GUILD_IDS)" if guilds
             else "commands: registered globally at start (Discord may take a few minutes to show them)"]
    return bool(content), lines
